// Augmentation of the embedder's patches (train/patch_augment.h): the mixing of log-mels and of
// labels, the EQ curve's shape, SpecAugment's masks, seeded draws, and the option's names.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/train/patch_augment.h"

namespace {

using tutti::testing::error_of;
namespace ta = tutti::train;

TEST(PatchAugment, MixAddsMagnitudesAsPowers) {
  // Magnitudes 1 and 2 (log(m + 0.01) each) at gain 0.5: sqrt(1 + 1) (computed by hand).
  EXPECT_NEAR(ta::mix_log_mel(std::log(1.01f), std::log(2.01f), 0.5f), std::log(1.4242136f), 1e-6);
  // Mixing silence (magnitude 0) or at gain 0 leaves the other unchanged.
  EXPECT_NEAR(ta::mix_log_mel(std::log(0.01f), std::log(1.01f), 1.0f), std::log(1.01f), 1e-6);
  EXPECT_NEAR(ta::mix_log_mel(std::log(3.01f), std::log(7.01f), 0.0f), std::log(3.01f), 1e-6);
  // Equal magnitudes at gain 1: sqrt(2) times one of them.
  EXPECT_NEAR(ta::mix_log_mel(std::log(5.01f), std::log(5.01f), 1.0f),
              std::log(5.0f * std::sqrt(2.0f) + 0.01f), 1e-5);
  // Below the log's floor (rounding) counts as silence, not as a negative magnitude.
  EXPECT_NEAR(ta::mix_log_mel(std::log(0.005f), std::log(0.01f), 1.0f), std::log(0.01f), 1e-6);
}

TEST(PatchAugment, MixedLabelsArePresentWhereEitherHasTheClass) {
  auto check = [](float y1, bool k1, float y2, bool k2, float y, bool known) {
    const auto m = ta::mix_labels(y1, k1, y2, k2);
    EXPECT_EQ(m.y, y) << y1 << k1 << y2 << k2;
    EXPECT_EQ(m.known, known) << y1 << k1 << y2 << k2;
  };
  check(1, true, 0, true, 1, true);
  check(0, true, 1, true, 1, true);
  check(1, true, 0, false, 1, true);  // present in one: present, whatever the other
  check(0, false, 1, true, 1, true);
  check(0, true, 0, true, 0, true);    // absent from both
  check(0, true, 0, false, 0, false);  // absent from one, unknown in the other: unknown
  check(0, false, 0, false, 0, false);
  check(1, false, 0, true, 0, false);  // an unknown label's value does not count
}

TEST(PatchAugment, EqCurveIsSmoothBoundedAndSeeded) {
  tutti::core::Xoshiro256ss a(7), b(7), c(8);
  const auto ca = ta::eq_curve_db(a), cb = ta::eq_curve_db(b), cc = ta::eq_curve_db(c);
  EXPECT_EQ(ca, cb);
  EXPECT_NE(ca, cc);
  tutti::core::Xoshiro256ss r(1);
  for (int n = 0; n < 200; ++n) {
    const auto curve = ta::eq_curve_db(r);
    for (std::size_t k = 0; k < 64; ++k) {
      // gain 6 + tilt 6 + two bumps of 6 dB
      EXPECT_LE(std::abs(curve[k]), 24.0f);
      // Steepest step: the tilt's 12/63 dB plus each bump's 6 exp(-1/2) / 2 dB per band.
      if (k > 0) {
        EXPECT_LE(std::abs(curve[k] - curve[k - 1]), 12.0f / 63 + 2 * 3.64f) << k;
      }
    }
  }
}

TEST(PatchAugment, EqMultipliesMagnitudes) {
  std::vector<float> frame(64);
  for (std::size_t k = 0; k < 64; ++k) frame[k] = std::log(0.5f * static_cast<float>(k) + 0.01f);
  const auto before = frame;
  std::array<float, 64> flat{};
  ta::apply_eq(frame, flat);
  for (std::size_t k = 0; k < 64; ++k) EXPECT_NEAR(frame[k], before[k], 1e-6) << k;
  std::array<float, 64> plus20;
  plus20.fill(20.0f);  // x10 in magnitude
  ta::apply_eq(frame, plus20);
  for (std::size_t k = 0; k < 64; ++k)
    EXPECT_NEAR(frame[k], std::log(5.0f * static_cast<float>(k) + 0.01f), 1e-5) << k;
}

TEST(PatchAugment, MaskSetsBandsAndFramesToThePatchMean) {
  std::vector<float> patch(96 * 64);
  for (std::size_t i = 0; i < patch.size(); ++i) patch[i] = static_cast<float>(i % 97) / 10.0f;
  const float mean = std::accumulate(patch.begin(), patch.end(), 0.0f) / patch.size();
  std::size_t changed_total = 0;
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    auto p = patch;
    tutti::core::Xoshiro256ss r(seed), r2(seed);
    ta::mask_patch(p, r);
    auto q = patch;
    ta::mask_patch(q, r2);
    EXPECT_EQ(p, q);  // seeded
    std::size_t changed = 0;
    for (std::size_t i = 0; i < p.size(); ++i)
      if (p[i] != patch[i]) {
        ++changed;
        EXPECT_FLOAT_EQ(p[i], mean);
      }
    // At most two runs of 8 bands (96 frames each) and two of 16 frames (64 bands each).
    EXPECT_LE(changed, 2u * 8 * 96 + 2u * 16 * 64);
    // Every masked cell lies in a whole masked band or a whole masked frame.
    for (std::size_t t = 0; t < 96; ++t)
      for (std::size_t k = 0; k < 64; ++k)
        if (p[t * 64 + k] != patch[t * 64 + k]) {
          bool band = true, frame = true;
          for (std::size_t u = 0; u < 96; ++u) band &= p[u * 64 + k] == mean;
          for (std::size_t l = 0; l < 64; ++l) frame &= p[t * 64 + l] == mean;
          EXPECT_TRUE(band || frame) << t << " " << k;
        }
    changed_total += changed;
  }
  EXPECT_GT(changed_total, 0u);
}

TEST(PatchAugment, NamesParseAndErrors) {
  const auto a = ta::PatchAugment::parse({"mask", "mix"});
  EXPECT_TRUE(a.mix && a.mask && !a.eq);
  EXPECT_EQ(a.names(), (std::vector<std::string>{"mix", "mask"}));
  EXPECT_FALSE(ta::PatchAugment::parse({}).any());
  auto msg = error_of([] { ta::PatchAugment::parse({"reverb"}); });
  EXPECT_NE(msg.find("--augment reverb: unknown (expected mix, eq or mask)"), std::string::npos)
      << msg;
  msg = error_of([] { ta::PatchAugment::parse({"eq", "eq"}); });
  EXPECT_NE(msg.find("--augment eq: named twice"), std::string::npos) << msg;
  EXPECT_THROW(ta::PatchAugment::parse({"x"}), tutti::UsageError);
}

}  // namespace
