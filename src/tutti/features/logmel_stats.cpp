#include "tutti/features/logmel_stats.h"

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"

namespace tutti::features {
namespace {

void check_shape(std::span<const float> examples, std::size_t n, std::size_t frames,
                 std::size_t bands) {
  check(frames > 0 && bands > 0, "logmel-stats: frames ({}) and bands ({}) must be positive",
        frames, bands);
  check(examples.size() == n * frames * bands,
        "logmel-stats: {} values do not form {} examples of {} frames x {} bands", examples.size(),
        n, frames, bands);
}

// Two passes per example (mean, then centred squares): numerically like numpy's std.
template <typename Emit>
void for_each_stat(std::span<const float> examples, std::size_t n, std::size_t frames,
                   std::size_t bands, Emit&& emit) {
  std::vector<double> mean(bands), var(bands);
  for (std::size_t e = 0; e < n; ++e) {
    const float* x = examples.data() + e * frames * bands;
    std::fill(mean.begin(), mean.end(), 0.0);
    std::fill(var.begin(), var.end(), 0.0);
    for (std::size_t t = 0; t < frames; ++t)
      for (std::size_t b = 0; b < bands; ++b) mean[b] += x[t * bands + b];
    for (auto& m : mean) m /= static_cast<double>(frames);
    for (std::size_t t = 0; t < frames; ++t)
      for (std::size_t b = 0; b < bands; ++b) {
        const double d = x[t * bands + b] - mean[b];
        var[b] += d * d;
      }
    for (std::size_t b = 0; b < bands; ++b) {
      emit(e, b, mean[b]);
      emit(e, bands + b, std::sqrt(var[b] / static_cast<double>(frames)));
    }
  }
}

}  // namespace

std::uint8_t quantize_u8(double value, double lo, double hi) {
  const double q = std::floor((value - lo) / (hi - lo) * 255.0 + 0.5);
  if (!(q > 0.0)) return 0;  // also NaN -> 0
  return static_cast<std::uint8_t>(std::min(q, 255.0));
}

std::vector<double> logmel_stats_float(std::span<const float> examples, std::size_t n_examples,
                                       std::size_t frames_per_example, std::size_t num_bands) {
  check_shape(examples, n_examples, frames_per_example, num_bands);
  std::vector<double> out(n_examples * 2 * num_bands);
  for_each_stat(examples, n_examples, frames_per_example, num_bands,
                [&](std::size_t e, std::size_t j, double v) { out[e * 2 * num_bands + j] = v; });
  return out;
}

std::vector<std::uint8_t> logmel_stats(std::span<const float> examples, std::size_t n_examples,
                                       std::size_t frames_per_example, std::size_t num_bands) {
  check_shape(examples, n_examples, frames_per_example, num_bands);
  std::vector<std::uint8_t> out(n_examples * 2 * num_bands);
  for_each_stat(examples, n_examples, frames_per_example, num_bands,
                [&](std::size_t e, std::size_t j, double v) {
                  const bool is_mean = j < num_bands;
                  out[e * 2 * num_bands + j] =
                      is_mean ? quantize_u8(v, kLogMelStatsMeanMin, kLogMelStatsMeanMax)
                              : quantize_u8(v, kLogMelStatsStdMin, kLogMelStatsStdMax);
                });
  return out;
}

}  // namespace tutti::features
