// The .pth reader on hostile files: sizes claimed by the zip headers and a pickle that inflates
// into millions of values are refused early, with one line naming the file.
#include <gtest/gtest.h>
#include <zip.h>

#include "core/zip_test_util.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/pickle.h"
#include "tutti/embed/pth_reader.h"

namespace tutti::embed {
namespace {

using testing::error_of;
using testing::TempDir;

// A .pth holding one data.pkl, deflated at level 9 (torch.save stores it; a bomb deflates it).
void write_deflated_pth(const std::filesystem::path& file, const std::string& pkl) {
  int code = 0;
  ::zip* za = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  ASSERT_NE(za, nullptr);
  zip_source_t* src = zip_source_buffer(za, pkl.data(), pkl.size(), 0);
  const zip_int64_t idx = zip_file_add(za, "archive/data.pkl", src, 0);
  ASSERT_GE(idx, 0);
  zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 9);
  ASSERT_EQ(zip_close(za), 0);
}

void expect_one_line_naming(const std::filesystem::path& file, const std::string& needle) {
  const auto msg = error_of([&] { read_pth_tensors(file); });
  EXPECT_NE(msg.find(file.string() + ": "), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

// ~10 KB on disk, 10 M EMPTY_LIST opcodes inflated: refused by the ratio limit on data.pkl before
// it is inflated (torch.save never compresses data.pkl).
TEST(PthLimits, DeflatedPickleBombIsRefusedBeforeInflating) {
  TempDir tmp;
  const auto file = tmp / "bomb.pth";
  write_deflated_pth(file, std::string(10'000'000, ']'));
  EXPECT_LT(std::filesystem::file_size(file), 20'000u);
  expect_one_line_naming(file, "entry 'archive/data.pkl': 10000000 bytes from");
  expect_one_line_naming(file, "decompression ratio limit");
}

// The same opcodes stored (no ratio to refuse): the pickle reader's stack limit stops it after
// kDefaultPickleMaxStack values, long before 10 M.
TEST(PthLimits, PickleThatPilesUpValuesStopsAtTheStackLimit) {
  TempDir tmp;
  const auto file = tmp / "stack.pth";
  const std::string pkl = "\x80\x02" + std::string(1'000'000, ']') + ".";
  testing::write_raw_zip(file, {{.name = "archive/data.pkl", .data = testing::bytes_of(pkl)}});
  expect_one_line_naming(file, "more than 65536 values on the stack");
}

TEST(PthLimits, HeadersClaimingGigabytesAreRefused) {
  TempDir tmp;
  const auto pkl = testing::bytes_of("\x80\x02}q\x00.");
  for (const auto& [entry, needle] : testing::hostile_size_claims("archive/data.pkl", pkl)) {
    const auto file = tmp / "claims.pth";
    testing::write_raw_zip(file, {entry});
    expect_one_line_naming(file, "entry 'archive/data.pkl': ");
    expect_one_line_naming(file, needle);
  }
}

}  // namespace
}  // namespace tutti::embed
