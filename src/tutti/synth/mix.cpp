#include "tutti/synth/mix.h"

#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::synth {

using core::derive_seed;
using core::Rng;

double peak_abs(std::span<const float> x) {
  double p = 0;
  for (float v : x) p = std::max(p, static_cast<double>(std::abs(v)));
  return p;
}

double mean_square(std::span<const float> x) {
  if (x.empty()) return 0;
  double s = 0;
  for (float v : x) s += static_cast<double>(v) * v;
  return s / static_cast<double>(x.size());
}

std::vector<float> to_channels(std::span<const float> stereo, int channels) {
  check<UsageError>(channels == 1 || channels == 2, "synth mix: channels must be 1 or 2, got {}",
                    channels);
  if (channels == 2) return {stereo.begin(), stereo.end()};
  std::vector<float> mono(stereo.size() / 2);
  for (std::size_t i = 0; i < mono.size(); ++i)
    mono[i] = 0.5f * (stereo[2 * i] + stereo[2 * i + 1]);
  return mono;
}

double normalize_peak(std::span<float> x, double peak) {
  const double p = peak_abs(x);
  if (p <= 0) return 1.0;
  const double g = peak / p;
  for (float& v : x) v = static_cast<float>(v * g);
  return g;
}

std::vector<float> make_noise(std::int64_t frames, int channels, NoiseColor color,
                              std::uint64_t seed) {
  std::vector<float> out(static_cast<std::size_t>(frames * channels));
  for (int ch = 0; ch < channels; ++ch) {
    Rng rng(derive_seed(seed, static_cast<std::uint64_t>(ch), 0x6e6f697365ULL));
    if (color == NoiseColor::kWhite) {
      for (std::int64_t i = 0; i < frames; ++i)
        out[static_cast<std::size_t>(i * channels + ch)] = static_cast<float>(rng.normal());
      continue;
    }
    // Pink: filter white noise, dropping a warm-up so the output starts stationary.
    const std::int64_t warmup = 8192;
    std::vector<double> white(static_cast<std::size_t>(frames + warmup));
    for (double& w : white) w = rng.normal();
    auto y = pink_filter(white);
    y.erase(y.begin(), y.begin() + warmup);
    double ms = 0;
    for (double v : y) ms += v * v;
    const double scale = ms > 0 ? 1.0 / std::sqrt(ms / static_cast<double>(frames)) : 1.0;
    for (std::int64_t i = 0; i < frames; ++i)
      out[static_cast<std::size_t>(i * channels + ch)] =
          static_cast<float>(y[static_cast<std::size_t>(i)] * scale);
  }
  return out;
}

std::vector<double> pink_filter(std::span<const double> white) {
  double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0;
  std::vector<double> y(white.size());
  for (std::size_t i = 0; i < white.size(); ++i) {
    const double w = white[i];
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.96900 * b2 + w * 0.1538520;
    b3 = 0.86650 * b3 + w * 0.3104856;
    b4 = 0.55000 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.0168980;
    y[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  return y;
}

std::vector<float> add_noise(std::span<float> x, int channels, double snr_db, NoiseColor color,
                             std::uint64_t seed) {
  check<UsageError>(std::isfinite(snr_db), "synth mix: SNR must be finite, got {}", snr_db);
  check<UsageError>(channels >= 1 && x.size() % static_cast<std::size_t>(channels) == 0,
                    "synth mix: {} samples do not split into {} channels", x.size(), channels);
  const std::int64_t frames = static_cast<std::int64_t>(x.size()) / channels;
  const double ps = mean_square(x);
  if (ps <= 0) return std::vector<float>(x.size(), 0.0f);
  auto noise = make_noise(frames, channels, color, seed);
  const double pn = mean_square(noise);
  const double g = std::sqrt(ps / std::pow(10.0, snr_db / 10.0) / pn);
  for (std::size_t i = 0; i < x.size(); ++i) {
    noise[i] = static_cast<float>(noise[i] * g);
    x[i] += noise[i];
  }
  return noise;
}

}  // namespace tutti::synth
