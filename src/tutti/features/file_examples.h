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
  double start_s = 0;           // where the analysed audio starts in the file (ReadWindow)
  bool padded = false;          // shorter than one example, zero-padded to one (ReadWindow)
  double duration_s() const;    // samples / sample rate (before padding)
};

// Which part of a file to analyse, and what a file shorter than one example gives.
struct ReadWindow {
  // Audio before it is skipped (sample-exact at 16 kHz): by seeking in the decoder where the
  // back end can (libsndfile), up to a second before it; what is left is decoded and dropped.
  double start_s = 0;
  double duration_s = 0;  // analyse at most this much from start_s; 0 = to the end
  // A file (or window) with fewer samples than one example (0.975 s at 16 kHz) is padded with
  // silence to one example (FileExamples::padded), instead of giving 0 examples. With padding on,
  // a file or window without any sample is an error: there is nothing to pad.
  bool pad_short = false;
  // UsageError for a negative or non-finite start or duration.
  void validate() const;
};

// Errors: tutti::Error from the decoder ("audio: <path>: <problem>"); UsageError for a bad config.
FileExamples vggish_examples_from_file(const std::filesystem::path& path,
                                       const LogMelConfig& config = {});

// Calls on_example(index, example) for each example as soon as it is complete
// (example.size() == config.example_size()); returns the same summary with values empty.
// Errors as above, and with window.pad_short: tutti::Error "audio: <path>: no audio samples" (or
// "... starts at S s, after the end of the audio") when there is nothing to analyse.
FileExamples for_each_example_in_file(
    const std::filesystem::path& path, const LogMelConfig& config,
    const std::function<void(std::size_t index, std::span<const float> example)>& on_example,
    const ReadWindow& window = {});

}  // namespace tutti::features
