#include "tutti/features/file_examples.h"

#include "tutti/audio/audio_stream.h"

namespace tutti::features {
namespace {
constexpr std::size_t kBlockSamples = 16000;  // 1 s at 16 kHz
}

double FileExamples::duration_s() const {
  return sample_rate_hz > 0 ? static_cast<double>(samples) / sample_rate_hz : 0.0;
}

FileExamples for_each_example_in_file(
    const std::filesystem::path& path, const LogMelConfig& config,
    const std::function<void(std::size_t, std::span<const float>)>& on_example) {
  config.validate();
  audio::AudioStream stream(path, config.sample_rate_hz);
  LogMelStream front_end(config);
  FileExamples result;
  result.source = stream.source_info();
  result.sample_rate_hz = config.sample_rate_hz;
  std::vector<float> block(kBlockSamples);
  std::vector<float> examples;
  const std::size_t example_size = config.example_size();
  while (const std::size_t n = stream.read(block)) {
    examples.clear();
    const std::size_t k = front_end.push(std::span<const float>(block).first(n), examples);
    for (std::size_t i = 0; i < k; ++i)
      on_example(result.count++,
                 std::span<const float>(examples).subspan(i * example_size, example_size));
  }
  result.samples = front_end.samples_pushed();
  result.bad_frames = stream.bad_frames();
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
