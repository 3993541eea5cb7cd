// libFuzzer target: arbitrary bytes as a .tutti model file through infer::read_model_file (the
// zip archive, meta.json, ModelInfo::from_json and the entries it requires), then written back
// and read again: what was accepted once must round-trip. The bytes also go to
// ModelInfo::from_json as meta.json alone. Reading a model file is torch-free, but
// the infer library links LibTorch: this target compiles model_file.cpp and the torch-free model
// description (models/model_spec.cpp, models/model_decl.cpp) directly (fuzz/CMakeLists.txt).
// tutti::Error is an expected rejection; crashes and sanitizer reports are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_model_file/ (tools/fixtures/make_fuzz_seeds.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "fuzz_file.h"
#include "tutti/core/error.h"
#include "tutti/infer/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The bytes as meta.json alone too: inside a zip most mutations of the JSON only break the
  // entry's CRC, so ModelInfo::from_json is fuzzed directly as well.
  tutti::core::Json j;
  bool is_json = true;
  try {
    j = tutti::core::Json::parse(data, data + size);
  } catch (const tutti::core::Json::exception&) {
    is_json = false;
  }
  if (is_json) {
    try {  // only tutti::Error may leave from_json
      const auto info = tutti::infer::ModelInfo::from_json(j, "meta.json");
      if (tutti::infer::ModelInfo::from_json(info.to_json(), "again").to_json() != info.to_json())
        std::abort();
    } catch (const tutti::Error&) {
    }
  }
  const auto& path = tutti::fuzz::scratch_file("model", ".tutti", data, size);
  tutti::infer::LoadedModelFile loaded;
  try {
    loaded = tutti::infer::read_model_file(path);
  } catch (const tutti::Error&) {
    return 0;
  }
  const auto again = path.string() + ".again";
  try {
    tutti::infer::write_model_file(again, loaded.info, loaded.blobs);
    const auto back = tutti::infer::read_model_file(again);
    if (back.info.to_json() != loaded.info.to_json() || back.blobs != loaded.blobs) std::abort();
  } catch (const tutti::Error&) {
    std::abort();  // a file tutti accepted and wrote itself must read back
  }
  std::filesystem::remove(again);
  return 0;
}
