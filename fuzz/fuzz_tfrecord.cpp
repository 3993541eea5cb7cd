// libFuzzer target: arbitrary bytes as a TFRecord stream of AudioSet SequenceExamples (with and
// without the crc checks, so the protobuf parser behind them gets reached), and directly as one
// SequenceExample. Any tutti::Error is an expected rejection; crashes, sanitizer reports and
// other exceptions are bugs. Seeds: tests/fixtures/fuzz/fuzz_tfrecord/ (real records).
#include <cstddef>
#include <cstdint>
#include <span>

#include "tutti/core/error.h"
#include "tutti/data/audioset.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  for (const bool verify_crc : {true, false}) {
    try {
      std::size_t frames = 0;
      tutti::data::for_each_audioset_record(
          bytes, "fuzz",
          [&](const tutti::data::AudioSetRecord& r) {
            // Touch what the views point at, so out-of-bounds views are caught by ASan.
            for (const auto* f : r.frames) frames += f[0] + f[127];
            for (const char c : r.video_id) frames += static_cast<unsigned char>(c);
          },
          tutti::data::kAudioSetNumClasses, verify_crc);
      (void)frames;
    } catch (const tutti::Error&) {
    }
  }
  try {
    tutti::data::AudioSetRecord rec;
    tutti::data::parse_audioset_record(bytes, rec);
  } catch (const tutti::Error&) {
  }
  return 0;
}
