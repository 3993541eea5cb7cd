// libFuzzer target: arbitrary bytes as a zip archive through core::ZipReader, the bounded
// zip-entry reader behind .npz, .tutti, .pth and .tutti-embedder files: every entry's sizes
// (zip_entry_problem) and every read. tutti::Error is an expected rejection; crashes, sanitizer
// reports, and a read whose length differs from the entry's recorded size are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_zip/ (tools/fixtures/make_fuzz_seeds.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_file.h"
#include "tutti/core/error.h"
#include "tutti/core/zip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = tutti::fuzz::scratch_file("zip", ".zip", data, size);
  try {
    const tutti::core::ZipReader zip(path);
    for (const auto& name : zip.names()) {
      try {
        const auto info = zip.info(name);
        const auto bytes = zip.read(name);
        if (bytes.size() != info.size) std::abort();
        // What a successful read allocated is bounded by the limits.
        if (!tutti::core::zip_entry_problem(info, zip.archive_bytes(), {}).empty()) std::abort();
      } catch (const tutti::Error&) {
      }
    }
  } catch (const tutti::Error&) {
  }
  return 0;
}
