// logmel-stats against numpy (mean / std with ddof=0 over frames, uint8 quantisation), computed by
// tools/fixtures/make_audio_fixtures.py on the synthetic examples and on the real reference
// examples of the OpenMIC clip.
#include <gtest/gtest.h>

#include <cmath>

#include "audio/npy_test_reader.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/features/log_mel.h"
#include "tutti/features/logmel_stats.h"

namespace tutti::features {
namespace {

using tutti::testing::fixture;

void check_against_numpy(const std::vector<float>& examples, const core::Json& j) {
  const std::size_t n = j["shape"][0].get<std::size_t>();
  ASSERT_EQ(examples.size(), n * 96 * 64);
  const auto stats = logmel_stats_float(examples, n);
  const auto q = logmel_stats(examples, n);
  ASSERT_EQ(stats.size(), n * 128);
  ASSERT_EQ(q.size(), n * 128);
  for (std::size_t e = 0; e < n; ++e) {
    for (std::size_t b = 0; b < 64; ++b) {
      EXPECT_NEAR(stats[e * 128 + b], j["mean"][e][b].get<double>(), 1e-9) << e << "," << b;
      EXPECT_NEAR(stats[e * 128 + 64 + b], j["std"][e][b].get<double>(), 1e-9) << e << "," << b;
    }
    for (std::size_t k = 0; k < 128; ++k)
      EXPECT_EQ(static_cast<int>(q[e * 128 + k]), j["quantized"][e][k].get<int>()) << e << "," << k;
  }
}

TEST(LogMelStats, SyntheticExamplesMatchNumpy) {
  const auto ex = tutti::testing::read_npy_f32(fixture("audio/synth_examples.npy"));
  check_against_numpy(ex.data, core::read_json_file(fixture("audio/synth_stats.json")));
}

TEST(LogMelStats, RealReferenceExamplesMatchNumpy) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.vggish_examples.npy");
  const auto ex = tutti::testing::read_npy_f32(tutti::testing::shared_data_dir() /
                                               "openmic/000046_3840.vggish_examples.npy");
  const auto j = core::read_json_file(fixture("audio/logmel_stats_000046_3840.json"));
  ASSERT_EQ(j["shape"][0].get<std::size_t>(), 10u);
  check_against_numpy(ex.data, j);
  // The chosen ranges do not saturate on real music: no mean or std hits 0 or 255.
  for (auto v : logmel_stats(ex.data, 10)) {
    EXPECT_GT(v, 0);
    EXPECT_LT(v, 255);
  }
}

TEST(LogMelStats, ConstantExample) {
  std::vector<float> ex(96 * 64, std::log(0.01f));  // digital silence: every value on the floor
  const auto s = logmel_stats_float(ex, 1);
  for (int b = 0; b < 64; ++b) {
    EXPECT_NEAR(s[b], std::log(0.01), 1e-6);
    EXPECT_EQ(s[64 + b], 0.0);
  }
  const auto q = logmel_stats(ex, 1);
  // (-4.60517 + 4.7) / 10.2 * 255 + 0.5 = 2.87 -> 2
  for (int b = 0; b < 64; ++b) EXPECT_EQ(q[b], 2);
  for (int b = 64; b < 128; ++b) EXPECT_EQ(q[b], 0);
}

TEST(LogMelStats, KnownMeanAndStd) {
  // Band b alternates b*0.01 +- 1 over frames: mean b*0.01, std exactly 1.
  std::vector<float> ex(2 * 96 * 64);
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t t = 0; t < 96; ++t)
      for (std::size_t b = 0; b < 64; ++b)
        ex[(e * 96 + t) * 64 + b] = static_cast<float>(b * 0.01 + (t % 2 ? 1.0 : -1.0) * (e + 1));
  const auto s = logmel_stats_float(ex, 2);
  for (std::size_t e = 0; e < 2; ++e)
    for (std::size_t b = 0; b < 64; ++b) {
      EXPECT_NEAR(s[e * 128 + b], b * 0.01, 1e-6);
      EXPECT_NEAR(s[e * 128 + 64 + b], e + 1.0, 1e-6);
    }
}

TEST(LogMelStats, Quantization) {
  EXPECT_EQ(quantize_u8(-4.7, -4.7, 5.5), 0);
  EXPECT_EQ(quantize_u8(5.5, -4.7, 5.5), 255);
  EXPECT_EQ(quantize_u8(-10, -4.7, 5.5), 0);
  EXPECT_EQ(quantize_u8(10, -4.7, 5.5), 255);
  EXPECT_EQ(quantize_u8(NAN, 0, 4), 0);
  EXPECT_EQ(quantize_u8(2.0, 0, 4), 128);  // 127.5 rounds half up
  EXPECT_EQ(quantize_u8(2.0 - 1e-9, 0, 4), 127);
  EXPECT_EQ(quantize_u8(1.0, 0, 4), 64);        // 63.75
  EXPECT_EQ(quantize_u8(0.01, -4.7, 5.5), 118);   // 4.71 / 0.04 = 117.75
  EXPECT_EQ(quantize_u8(-0.01, -4.7, 5.5), 117);  // 117.25
}

TEST(LogMelStats, FullScaleToneDoesNotSaturate) {
  // The loudest band mean a signal in [-1, 1] can give is about 4.8 (a full-scale tone).
  std::vector<float> x(32000);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = static_cast<float>(std::sin(2 * M_PI * 1000 * static_cast<double>(i) / 16000));
  LogMelFrontEnd fe;
  const auto ex = fe.examples(x);
  const auto s = logmel_stats_float(ex, 2);
  const double top = *std::max_element(s.begin(), s.begin() + 64);
  EXPECT_GT(top, 4.5);
  EXPECT_LT(top, kLogMelStatsMeanMax);
  for (auto v : logmel_stats(ex, 2)) EXPECT_LT(v, 255);
}

TEST(LogMelStats, ShapeErrors) {
  std::vector<float> ex(96 * 64);
  EXPECT_THROW(logmel_stats(ex, 2), tutti::Error);
  EXPECT_THROW(logmel_stats_float(ex, 1, 0, 64), tutti::Error);
  EXPECT_NO_THROW(logmel_stats(ex, 1));
  EXPECT_TRUE(logmel_stats({}, 0).empty());
  EXPECT_EQ(logmel_stats(std::vector<float>(10 * 4, 0.f), 2, 5, 4).size(), 2u * 8u);
}

}  // namespace
}  // namespace tutti::features
