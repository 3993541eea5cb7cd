#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"

namespace tutti::core {
namespace {

namespace fs = std::filesystem;
using tutti::testing::TempDir;

TEST(AtomicFile, LeavesTargetUntouchedWithoutCommit) {
  TempDir dir;
  const auto target = dir / "model.tutti";
  write_file_atomic(target, "old");
  {
    AtomicFile f(target);
    std::ofstream(f.temp_path()) << "half-written";
    // destroyed without commit, as when the writer throws
  }
  EXPECT_EQ(read_file_text(target), "old");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 1);
}

TEST(AtomicFile, CommitReplacesTarget) {
  TempDir dir;
  const auto target = dir / "x.json";
  write_file_atomic(target, "one");
  write_file_atomic(target, "two");
  EXPECT_EQ(read_file_text(target), "two");
}

TEST(AtomicFile, MissingFolderIsAClearError) {
  TempDir dir;
  try {
    write_file_atomic(dir / "no" / "such" / "x.json", "1");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("output folder does not exist"), std::string::npos);
  }
}

TEST(FileIo, ReadMissingFileNamesIt) {
  try {
    read_file_bytes("/nonexistent/tutti.bin");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/tutti.bin"), std::string::npos);
  }
}

TEST(Md5, MatchesRfc1321TestSuite) {
  TempDir dir;
  write_file_atomic(dir / "abc", "abc");
  write_file_atomic(dir / "empty", "");
  // RFC 1321, appendix A.5.
  EXPECT_EQ(md5_file_hex(dir / "abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_file_hex(dir / "empty"), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(
      md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
      "57edf4a22be3c955ac49da2e2107b67a");
}

TEST(Zip, RoundTripsStoredEntries) {
  TempDir dir;
  const auto path = dir / "a.zip";
  {
    ZipWriter w(path);
    w.add("x.npy", {1, 2, 3});
    w.add("meta.json", {'{', '}'});
    EXPECT_FALSE(fs::exists(path));  // nothing before commit
    w.commit();
  }
  ZipReader r(path);
  EXPECT_TRUE(r.contains("x.npy"));
  EXPECT_FALSE(r.contains("y.npy"));
  EXPECT_EQ(r.read("x.npy"), (std::vector<std::uint8_t>{1, 2, 3}));
  EXPECT_EQ(r.names().size(), 2u);
  EXPECT_THROW(r.read("y.npy"), Error);
}

TEST(Zip, RejectsNonZipAndTruncatedArchives) {
  TempDir dir;
  write_file_atomic(dir / "bad.npz", "this is not a zip archive at all");
  EXPECT_THROW(ZipReader(dir / "bad.npz"), Error);
  EXPECT_THROW(ZipReader(dir / "missing.npz"), Error);
  {
    ZipWriter w(dir / "ok.zip");
    w.add("a", std::vector<std::uint8_t>(1000, 7));
    w.commit();
  }
  auto bytes = read_file_bytes(dir / "ok.zip");
  bytes.resize(bytes.size() / 2);
  write_file_atomic(dir / "cut.zip", std::string(bytes.begin(), bytes.end()));
  EXPECT_THROW(ZipReader(dir / "cut.zip"), Error);
}

TEST(Json, InvalidFileNamesFile) {
  TempDir dir;
  write_file_atomic(dir / "x.json", "{\"a\": ");
  try {
    read_json_file(dir / "x.json");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("x.json: invalid JSON"), std::string::npos);
  }
}

}  // namespace
}  // namespace tutti::core
