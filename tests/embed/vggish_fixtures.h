// Random-weight VGGish fixtures made at test time by real PyTorch
// (tools/fixtures/make_vggish_fixtures.py; the real weights are 288 MB and not in the repo).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_util.h"

namespace tutti::testing {

inline const char* kReferencePython = "/usr/bin/python3";

inline bool reference_torch_available() {
  static const bool ok =
      std::system((std::string(kReferencePython) + " -c 'import torch, numpy' >/dev/null 2>&1")
                      .c_str()) == 0;
  return ok;
}

// The fixture folder, made once per test process (removed at exit); empty when PyTorch is absent
// or the script failed (the test then skips / fails with the reason).
inline const std::filesystem::path& vggish_fixture_dir() {
  static TempDir dir;
  static const bool made = [] {
    if (!reference_torch_available()) return false;
    const std::string cmd = std::string(kReferencePython) + " " +
                            (source_dir() / "tools/fixtures/make_vggish_fixtures.py").string() +
                            " " + dir.path().string() + " >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  static const std::filesystem::path empty;
  return made ? dir.path() : empty;
}

}  // namespace tutti::testing

#define TUTTI_REQUIRE_VGGISH_FIXTURES()                                                         \
  do {                                                                                          \
    if (!tutti::testing::reference_torch_available())                                           \
      GTEST_SKIP() << "/usr/bin/python3 cannot import torch (apt install python3-torch): the "  \
                      "VGGish reference fixtures cannot be made";                               \
    ASSERT_FALSE(tutti::testing::vggish_fixture_dir().empty())                                  \
        << "tools/fixtures/make_vggish_fixtures.py failed";                                     \
  } while (0)
