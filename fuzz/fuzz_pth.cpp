// libFuzzer target: arbitrary bytes as a PyTorch state-dict file through embed::read_pth_tensors
// (both container formats: torch.save's zip with data.pkl, and the legacy magic-number stream),
// then every tensor converted as the VGGish import does. The reader is torch-free; this target
// compiles it directly (fuzz/CMakeLists.txt), since the embed library links LibTorch.
// tutti::Error is an expected rejection; crashes and sanitizer reports are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_pth/ (tools/fixtures/make_fuzz_seeds.py, written by torch.save).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_file.h"
#include "tutti/core/error.h"
#include "tutti/embed/pth_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = tutti::fuzz::scratch_file("pth", ".pth", data, size);
  try {
    for (const auto& [key, t] : tutti::embed::read_pth_tensors(path)) {
      if (t.numel() < 0) std::abort();
      (void)t.shape_str();
      try {
        const auto f = t.to_f32(key);
        if (f.size() != static_cast<std::size_t>(t.numel())) std::abort();
      } catch (const tutti::Error&) {
      }
    }
  } catch (const tutti::Error&) {
  }
  return 0;
}
