#include "tutti/features/file_examples.h"

#include <algorithm>
#include <cmath>

#include "tutti/audio/audio_stream.h"
#include "tutti/core/error.h"

namespace tutti::features {
namespace {
constexpr std::size_t kBlockSamples = 16000;  // 1 s at 16 kHz
}

double FileExamples::duration_s() const {
  return sample_rate_hz > 0 ? static_cast<double>(samples) / sample_rate_hz : 0.0;
}

void ReadWindow::validate() const {
  check<UsageError>(std::isfinite(start_s) && start_s >= 0,
                    "audio window: start {} s must be a number >= 0", start_s);
  check<UsageError>(std::isfinite(duration_s) && duration_s >= 0,
                    "audio window: duration {} s must be a number >= 0 (0 = to the end)",
                    duration_s);
}

FileExamples for_each_example_in_file(
    const std::filesystem::path& path, const LogMelConfig& config,
    const std::function<void(std::size_t, std::span<const float>)>& on_example,
    const ReadWindow& window) {
  config.validate();
  window.validate();
  audio::AudioStream stream(path, config.sample_rate_hz);
  LogMelStream front_end(config);
  FileExamples result;
  result.source = stream.source_info();
  result.sample_rate_hz = config.sample_rate_hz;
  result.start_s = window.start_s;
  const double rate = config.sample_rate_hz;
  // Samples to drop, then samples to analyse (SIZE_MAX = to the end), at the analysis rate, so
  // that the window is exact whatever the file's own rate.
  auto skip = static_cast<std::size_t>(std::llround(window.start_s * rate));
  std::size_t left = window.duration_s > 0
                         ? static_cast<std::size_t>(std::llround(window.duration_s * rate))
                         : static_cast<std::size_t>(-1);
  // Seeking replaces decoding and dropping what it can (AudioStream::seek_before).
  std::size_t skipped = skip > 0 ? stream.seek_before(skip) : 0;
  skip -= skipped;
  std::vector<float> block(kBlockSamples);
  std::vector<float> examples;
  const std::size_t example_size = config.example_size();
  auto push = [&](std::span<const float> samples) {
    examples.clear();
    const std::size_t k = front_end.push(samples, examples);
    for (std::size_t i = 0; i < k; ++i)
      on_example(result.count++,
                 std::span<const float>(examples).subspan(i * example_size, example_size));
  };
  while (left > 0) {
    const std::size_t n = stream.read(block);
    if (n == 0) break;
    std::span<const float> got = std::span<const float>(block).first(n);
    const std::size_t drop = std::min(skip, got.size());
    skip -= drop;
    skipped += drop;
    got = got.subspan(drop);
    got = got.first(std::min(got.size(), left));
    left -= got.size();
    if (!got.empty()) push(got);
  }
  result.samples = front_end.samples_pushed();
  result.bad_frames = stream.bad_frames();
  if (window.pad_short && result.count == 0) {
    check(result.samples > 0 || window.start_s == 0,
          "audio: {}: the window starts at {} s, after the end of the audio ({:.3f} s)",
          path.string(), window.start_s, static_cast<double>(skipped) / rate);
    check(result.samples > 0, "audio: {}: no audio samples", path.string());
    // Silence up to one example: what a reader of the output is told (FileExamples::padded).
    const std::size_t need =
        static_cast<std::size_t>(config.example_frames - 1) * config.hop_length_samples +
        static_cast<std::size_t>(config.window_length_samples);
    const std::vector<float> zeros(need - std::min(need, result.samples), 0.0f);
    push(zeros);
    result.padded = true;
  }
  return result;
}

FileExamples vggish_examples_from_file(const std::filesystem::path& path,
                                       const LogMelConfig& config) {
  std::vector<float> values;
  auto result = for_each_example_in_file(path, config, [&](std::size_t, std::span<const float> ex) {
    values.insert(values.end(), ex.begin(), ex.end());
  });
  result.values = std::move(values);
  return result;
}

}  // namespace tutti::features
