// libFuzzer target: arbitrary bytes as one .npy stream (header dict, every dtype, object arrays
// through the pickle reader). tutti::Error is an expected rejection; crashes, sanitizer reports,
// other exceptions and a failed round trip are bugs. Seeds: tests/fixtures/fuzz/fuzz_npy/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tutti/core/error.h"
#include "tutti/data/npz.h"

namespace {
template <typename F>
void expect_error_or_ok(F&& f) {
  try {
    f();
  } catch (const tutti::Error&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using tutti::data::NpyArray;
  NpyArray a;
  try {
    a = tutti::data::parse_npy(data, size, "fuzz");
  } catch (const tutti::Error&) {
    return 0;
  }
  // Every accessor either works or throws tutti::Error; none may read out of bounds.
  std::size_t sink = 0;
  expect_error_or_ok([&] { sink += a.as_u8("fuzz").size(); });
  expect_error_or_ok([&] { sink += a.as_f32("fuzz").size(); });
  expect_error_or_ok([&] { sink += a.as_i64("fuzz").size(); });
  expect_error_or_ok([&] {
    for (const auto& s : a.as_strings("fuzz")) sink += s.size();
  });
  // What parses must serialize and parse back to the same array.
  const auto bytes = tutti::data::serialize_npy(a);
  const NpyArray b = tutti::data::parse_npy(bytes.data(), bytes.size(), "round trip");
  if (a.descr != b.descr || a.shape != b.shape || a.data != b.data) std::abort();
  (void)sink;
  return 0;
}
