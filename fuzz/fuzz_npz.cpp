// libFuzzer target: arbitrary bytes as an .npz file (libzip underneath), read with read_npz and
// then as a bag dataset with load_bags (shape/dtype cross-checks, BagDataset::validate).
// tutti::Error is an expected rejection; crashes and sanitizer reports are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_npz/ (numpy-written archives, stored, deflated, zip64).
#include <cstddef>
#include <cstdint>

#include "fuzz_file.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = tutti::fuzz::scratch_file("npz", ".npz", data, size);
  try {
    const auto arrays = tutti::data::read_npz(path, std::uint64_t{1} << 26);
    for (const auto& [name, a] : arrays) (void)tutti::data::serialize_npy(a);
  } catch (const tutti::Error&) {
  }
  try {
    const auto ds = tutti::data::load_bags(path, {"a", "b", "c"});
    (void)ds.subset(std::vector<std::int64_t>{0});
  } catch (const tutti::Error&) {
  }
  return 0;
}
