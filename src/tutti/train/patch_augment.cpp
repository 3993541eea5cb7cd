// Augmentation of the embedder's training patches (patch_augment.h).
#include "tutti/train/patch_augment.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tutti/core/error.h"

namespace tutti::train {

namespace {
constexpr float kLogOffset = 0.01f;  // the front end's log(mel + 0.01)
constexpr int kBands = 64, kFrames = 96;

float magnitude(float log_mel) { return std::max(0.0f, std::exp(log_mel) - kLogOffset); }
}  // namespace

PatchAugment PatchAugment::parse(const std::vector<std::string>& names) {
  PatchAugment a;
  for (const auto& n : names) {
    bool* flag = n == "mix" ? &a.mix : n == "eq" ? &a.eq : n == "mask" ? &a.mask : nullptr;
    check<UsageError>(flag != nullptr, "--augment {}: unknown (expected mix, eq or mask)", n);
    check<UsageError>(!*flag, "--augment {}: named twice", n);
    *flag = true;
  }
  return a;
}

std::vector<std::string> PatchAugment::names() const {
  std::vector<std::string> out;
  if (mix) out.emplace_back("mix");
  if (eq) out.emplace_back("eq");
  if (mask) out.emplace_back("mask");
  return out;
}

float mix_log_mel(float x, float y, float gain) {
  const float m1 = magnitude(x), m2 = gain * magnitude(y);
  return std::log(std::sqrt(m1 * m1 + m2 * m2) + kLogOffset);
}

MixedLabel mix_labels(float y1, bool known1, float y2, bool known2) {
  const bool present = (known1 && y1 > 0.5f) || (known2 && y2 > 0.5f);
  return {present ? 1.0f : 0.0f, present || (known1 && known2)};
}

std::array<float, 64> eq_curve_db(core::Xoshiro256ss& rng) {
  const double gain = core::uniform(rng, -6.0, 6.0), tilt = core::uniform(rng, -6.0, 6.0);
  struct Bump {
    double db, centre, sigma;
  } bumps[2];
  for (auto& b : bumps)
    b = {core::uniform(rng, -6.0, 6.0), core::uniform(rng, 0.0, kBands),
         core::uniform(rng, 2.0, 8.0)};
  std::array<float, 64> curve{};
  for (int k = 0; k < kBands; ++k) {
    double db = gain + tilt * (2.0 * k / (kBands - 1) - 1.0);
    for (const auto& b : bumps) {
      const double z = (k - b.centre) / b.sigma;
      db += b.db * std::exp(-0.5 * z * z);
    }
    curve[static_cast<std::size_t>(k)] = static_cast<float>(db);
  }
  return curve;
}

void apply_eq(std::span<float> frames, const std::array<float, 64>& curve_db) {
  std::array<float, 64> factor;
  for (std::size_t k = 0; k < factor.size(); ++k) factor[k] = std::pow(10.0f, curve_db[k] / 20.0f);
  for (std::size_t i = 0; i < frames.size(); ++i)
    frames[i] = std::log(magnitude(frames[i]) * factor[i % kBands] + kLogOffset);
}

void mask_patch(std::span<float> patch, core::Xoshiro256ss& rng) {
  const float mean =
      std::accumulate(patch.begin(), patch.end(), 0.0f) / static_cast<float>(patch.size());
  for (int m = 0; m < 2; ++m) {
    const int width = core::uniform_int(rng, 0, 8);
    const int first = core::uniform_int(rng, 0, kBands - width);
    for (int t = 0; t < kFrames; ++t) std::fill_n(patch.begin() + t * kBands + first, width, mean);
  }
  for (int m = 0; m < 2; ++m) {
    const int width = core::uniform_int(rng, 0, 16);
    const int first = core::uniform_int(rng, 0, kFrames - width);
    std::fill_n(patch.begin() + first * kBands, width * kBands, mean);
  }
}

}  // namespace tutti::train
