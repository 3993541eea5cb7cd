// libFuzzer target: arbitrary bytes through the DX7 voice bank reader of `tutti fm-font` and the
// name-to-program mapping. tutti::Error is an expected rejection; crashes, sanitizer reports,
// other exceptions and voices that break the reader's promises are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_dx7/ (tools/fixtures/make_dx7_seeds.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_file.h"
#include "tutti/core/error.h"
#include "tutti/synth/dx7_bank.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ts = tutti::synth;
  const auto& path = tutti::fuzz::scratch_file("dx7", ".dx7", data, size);
  try {
    const auto voices = ts::read_dx7_bank(path);
    if (voices.empty() || voices.size() * 128 > size) std::abort();
    for (const auto& v : voices) {
      if (v.name.size() > 10) std::abort();
      for (auto b : v.packed)
        if (b > 127) std::abort();
      for (int p : ts::fm_voice_program_group(v.name))
        if (p < 1 || p > 128) std::abort();
    }
  } catch (const tutti::Error&) {
  }
  return 0;
}
