#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <unistd.h>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::core {
namespace {

namespace fs = std::filesystem;
using tutti::testing::error_of;
using tutti::testing::TempDir;

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

TEST(StagingDir, IsRemovedUnlessPublished) {
  TempDir dir;
  fs::path staged;
  {
    StagingDir s(dir / "out");
    staged = s.path();
    EXPECT_EQ(staged.parent_path(), dir.path());
    EXPECT_EQ(staged.filename().string().rfind(fmt::format(".out.tmp-{}-", ::getpid()), 0), 0u)
        << staged;
    EXPECT_TRUE(fs::is_directory(staged));
    std::ofstream(staged / "half-written") << "x";
  }
  EXPECT_FALSE(fs::exists(staged));
  EXPECT_FALSE(fs::exists(dir / "out"));
  EXPECT_EQ(entries(dir.path()), 0u);
}

TEST(StagingDir, PublishRenamesIntoPlaceAndCreatesParents) {
  TempDir dir;
  const auto target = dir / "a/b/out";
  {
    StagingDir s(target);
    std::ofstream(s.path() / "data.txt") << "new";
    s.publish(false);
    EXPECT_EQ(s.target(), fs::absolute(target));
  }
  EXPECT_EQ(read_file_text(target / "data.txt"), "new");
  EXPECT_EQ(entries(dir / "a/b"), 1u);
}

TEST(StagingDir, ReplacesAnExistingTargetOnlyWhenAsked) {
  TempDir dir;
  const auto target = dir / "out";
  fs::create_directories(target);
  std::ofstream(target / "data.txt") << "old";
  {
    StagingDir s(target);
    std::ofstream(s.path() / "data.txt") << "new";
    const auto msg = error_of([&] { s.publish(false); });
    EXPECT_NE(msg.find(target.string() + ": already exists"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_file_text(target / "data.txt"), "old");
  EXPECT_EQ(entries(dir.path()), 1u);  // the staging folder is gone
  {
    StagingDir s(target);
    std::ofstream(s.path() / "data.txt") << "new";
    s.publish(true);
    EXPECT_THROW(s.publish(true), Error);  // only once
  }
  EXPECT_EQ(read_file_text(target / "data.txt"), "new");
  EXPECT_EQ(entries(dir.path()), 1u);  // no .old-* left behind
}

TEST(StagingDir, PublishesAFolderInsideIt) {
  TempDir dir;
  const auto target = dir / "out";
  fs::path staged;
  {
    StagingDir s(target);
    staged = s.path();
    fs::create_directories(s.path() / "inner");
    std::ofstream(s.path() / "inner" / "data.txt") << "inner";
    std::ofstream(s.path() / "scratch.txt") << "scratch";
    s.publish(false, s.path() / "inner");
  }
  EXPECT_EQ(read_file_text(target / "data.txt"), "inner");
  EXPECT_FALSE(fs::exists(staged));  // the rest of the staging folder is removed
  EXPECT_EQ(entries(dir.path()), 1u);
}

TEST(StagingDir, UncreatableFolderIsAClearError) {
  TempDir dir;
  std::ofstream(dir / "file") << "x";  // a file where a parent folder should be
  const auto msg = error_of([&] { StagingDir s(dir / "file" / "out"); });
  EXPECT_NE(msg.find((dir / "file" / "out").string()), std::string::npos) << msg;
}

}  // namespace
}  // namespace tutti::core
