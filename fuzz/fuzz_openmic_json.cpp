// libFuzzer target: arbitrary text as one OpenMIC-2018 per-clip VGGish JSON
// ({"time_points": [...], "features": [[...], ...]}). tutti::Error is an expected rejection;
// crashes, sanitizer reports and other exceptions are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_openmic_json/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tutti/core/error.h"
#include "tutti/data/openmic.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto clip = tutti::data::parse_vggish_json(text, "fuzz");
    if (clip.features.size() != static_cast<std::size_t>(clip.frames * clip.dim) ||
        clip.time_points_s.size() != static_cast<std::size_t>(clip.frames))
      std::abort();  // the parser promised consistent shapes
  } catch (const tutti::Error&) {
  }
  return 0;
}
