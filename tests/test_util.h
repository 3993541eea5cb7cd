// Helpers shared by the test suites: where the repository, fixtures and ../shared/data are.
#pragma once

#include <gtest/gtest.h>

#include "tutti/core/error.h"

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <unistd.h>

namespace tutti::testing {

inline std::filesystem::path source_dir() { return TUTTI_SOURCE_DIR; }
inline std::filesystem::path fixture(const std::string& name) {
  return source_dir() / "tests" / "fixtures" / name;
}

// ../shared/data next to the repository, or $TUTTI_SHARED_DATA. Empty when absent.
inline std::filesystem::path shared_data_dir() {
  if (const char* env = std::getenv("TUTTI_SHARED_DATA"); env && *env) return env;
  auto p = source_dir().parent_path() / "shared" / "data";
  return std::filesystem::exists(p) ? p : std::filesystem::path{};
}

// $TUTTI_CHROMIUM, else `chromium` or `chromium-browser` on PATH; empty when absent (the browser
// tests skip then; ./run test installs Debian's `chromium`).
inline std::filesystem::path find_chromium() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("TUTTI_CHROMIUM"); env && *env) return env;
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':'))
    for (const char* name : {"chromium", "chromium-browser"})
      if (!dir.empty() && fs::exists(fs::path(dir) / name)) return fs::path(dir) / name;
  return {};
}

// Runs `f` and returns the tutti::Error message; fails the test when nothing is thrown.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const tutti::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected tutti::Error";
  return {};
}

// A fresh, empty temporary directory removed when the object goes out of scope.
class TempDir {
 public:
  TempDir() {
    static int counter = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("tutti-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The published SplitMix64 output function (Vigna), written out independently of the library's
// copy, for tests of the counter-based dropout masks.
inline std::uint64_t reference_splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

}  // namespace tutti::testing

// Skips the current test with a clear message when ../shared/data (or a file in it) is missing.
#define TUTTI_REQUIRE_SHARED(rel)                                                          \
  do {                                                                                     \
    if (tutti::testing::shared_data_dir().empty() ||                                       \
        !std::filesystem::exists(tutti::testing::shared_data_dir() / (rel)))               \
      GTEST_SKIP() << "shared data not found: " << (rel)                                   \
                   << " (set TUTTI_SHARED_DATA or put ../shared/data beside the repo)";    \
  } while (0)
