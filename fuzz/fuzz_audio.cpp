// libFuzzer target: arbitrary bytes as an audio file through audio::Decoder (libsndfile first,
// FFmpeg for what it does not recognise and for MP3), read to the end in blocks, interleaved and
// mixed to mono; then through the 16 kHz AudioStream (soxr). The codec libraries are not
// instrumented; tutti's decoding, sample checks and buffering are.
// tutti::Error is an expected rejection; crashes, sanitizer reports and reads that return more
// frames than asked for are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_audio/ (tools/fixtures/make_fuzz_seeds.py: WAV of several sample
// formats, NaN floats, MPEG frames).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "fuzz_file.h"
#include "tutti/audio/audio_stream.h"
#include "tutti/audio/decoder.h"
#include "tutti/core/error.h"

namespace {
// Decoding stops here: a header may claim hours, the fuzzer wants many short runs.
constexpr std::size_t kMaxFrames = std::size_t{1} << 18;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& path = tutti::fuzz::scratch_file("audio", ".audio", data, size);
  try {
    auto dec = tutti::audio::Decoder::open(path);
    const auto channels = static_cast<std::size_t>(dec->info().channels);
    if (channels == 0) std::abort();
    std::vector<float> block(1024 * channels);
    std::vector<float> mono(1024);
    std::size_t frames = 0;
    for (bool interleaved = true; frames < kMaxFrames; interleaved = !interleaved) {
      const std::size_t n = interleaved ? dec->read_interleaved(block) : dec->read_mono(mono);
      if (n > 1024) std::abort();
      if (n == 0) break;
      frames += n;
    }
    if (dec->bad_frames() < 0) std::abort();
  } catch (const tutti::Error&) {
  }
  try {
    tutti::audio::AudioStream stream(path);
    std::vector<float> block(4000);
    std::size_t samples = 0;
    while (samples < kMaxFrames) {
      const std::size_t n = stream.read(block);
      if (n > block.size()) std::abort();
      if (n == 0) break;
      samples += n;
    }
  } catch (const tutti::Error&) {
  }
  return 0;
}
