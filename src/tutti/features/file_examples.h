// Audio file -> VGGish examples in one call: decode (libsndfile / FFmpeg) -> mono -> 16 kHz (soxr
// VHQ) -> log-mel examples, streaming so that only the examples (not the audio) are in memory,
// or nothing at all with the callback variant.
//
//   auto ex = tutti::features::vggish_examples_from_file("clip.m4a");
//   if (ex.count == 0) /* shorter than 0.96 s: report it, do not crash */;
//   // ex.values: [ex.count, 96, 64]
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "tutti/audio/decoder.h"
#include "tutti/features/log_mel.h"

namespace tutti::features {

struct FileExamples {
  std::vector<float> values;    // [count, example_frames, num_mel_bins]
  std::size_t count = 0;        // number of examples; 0 for clips shorter than one example
  std::size_t samples = 0;      // mono samples at sample_rate_hz that were analysed
  int sample_rate_hz = 16000;   // config.sample_rate_hz
  audio::AudioInfo source;      // the file as decoded (native rate, channels, format)
  std::int64_t bad_frames = 0;  // damaged codec frames the decoder skipped (worth a warning)
  double duration_s() const;    // samples / sample rate
};

// Errors: tutti::Error from the decoder ("audio: <path>: <problem>"); UsageError for a bad config.
FileExamples vggish_examples_from_file(const std::filesystem::path& path,
                                       const LogMelConfig& config = {});

// Calls on_example(index, example) for each example as soon as it is complete
// (example.size() == config.example_size()); returns the same summary with values empty.
FileExamples for_each_example_in_file(
    const std::filesystem::path& path, const LogMelConfig& config,
    const std::function<void(std::size_t index, std::span<const float> example)>& on_example);

}  // namespace tutti::features
