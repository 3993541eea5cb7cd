// logmel-stats: a weight-free 128-dimensional embedding of each VGGish example, in the same
// 8-bit form as the released VGGish embeddings, so every bag model can train on it without the
// VGGish network.
//
// Per example ([96 frames, 64 bands] of log-mel values): for each band b,
//   mean_b = (1/T) sum_t x[t, b],   std_b = sqrt((1/T) sum_t (x[t, b] - mean_b)^2)  (ddof = 0)
// and the embedding is [mean_0..mean_63, std_0..std_63] quantised to uint8:
//   q = clamp(floor((v - lo) / (hi - lo) * 255 + 0.5), 0, 255)
// with [lo, hi] = [-4.7, 5.5] for means (steps of 0.04) and [0, 5.1] for standard deviations
// (steps of 0.02). Why (docs/audio.md): ln(0.01) = -4.605 is the floor of every log-mel value and
// a full-scale tone reaches about 4.8, so no signal in [-1, 1] saturates; the real OpenMIC clip's
// band means span -3.8..2.4 and its stds 0.03..1.8. Statistics are accumulated in float64.
//
//   auto emb = tutti::features::logmel_stats(examples, n);   // [n, 128] uint8
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tutti::features {

inline constexpr double kLogMelStatsMeanMin = -4.7;
inline constexpr double kLogMelStatsMeanMax = 5.5;
inline constexpr double kLogMelStatsStdMin = 0.0;
inline constexpr double kLogMelStatsStdMax = 5.1;

// [n, frames, bands] log-mel examples -> [n, 2 * bands] float statistics (means, then stds).
// Throws tutti::Error when examples.size() != n * frames * bands or a size is zero.
std::vector<double> logmel_stats_float(std::span<const float> examples, std::size_t n_examples,
                                       std::size_t frames_per_example = 96,
                                       std::size_t num_bands = 64);

// The same, quantised to uint8 as documented above: [n, 2 * bands].
std::vector<std::uint8_t> logmel_stats(std::span<const float> examples, std::size_t n_examples,
                                       std::size_t frames_per_example = 96,
                                       std::size_t num_bands = 64);

// One value -> uint8 over [lo, hi] (the rounding used by logmel_stats).
std::uint8_t quantize_u8(double value, double lo, double hi);

}  // namespace tutti::features
