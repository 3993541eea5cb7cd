// soxr resampling: a 1 kHz sine at 44.1 kHz -> 16 kHz keeps frequency and amplitude; lengths;
// streaming in blocks equals one call; equal rates pass through; bad rates are usage errors.
#include <gtest/gtest.h>

#include <cmath>

#include "audio/audio_test_util.h"
#include "tutti/audio/resampler.h"
#include "tutti/core/error.h"

namespace tutti::audio {
namespace {

TEST(Resampler, SineKeepsFrequencyAndAmplitude) {
  const std::size_t n = 44100 * 3 + 17;
  const auto x = tutti::testing::sine(1000, 44100, n, 0.5);
  const auto y = resample(x, 44100, 16000);
  EXPECT_NEAR(static_cast<double>(y.size()), std::round(n * 16000.0 / 44100.0), 1.0);
  // One second from the middle: 1000 whole periods of 16 samples.
  const auto mid = std::span<const float>(y).subspan(16000, 16000);
  const auto fit = tutti::testing::fit_sine(mid, 1000, 16000);
  EXPECT_NEAR(fit.amplitude, 0.5, 1e-4);
  EXPECT_LT(fit.residual_rms, 1e-4);  // nothing but the 1 kHz tone
  // The tone is at 1 kHz, not beside it: 990 Hz and 1010 Hz projections are tiny.
  EXPECT_LT(tutti::testing::fit_sine(mid, 990, 16000).amplitude, 0.01);
  EXPECT_LT(tutti::testing::fit_sine(mid, 1010, 16000).amplitude, 0.01);
  // Zero crossings: 2 per period -> 2000 upward+downward crossings in one second (+-1).
  int crossings = 0;
  for (std::size_t i = 1; i < mid.size(); ++i) crossings += (mid[i - 1] < 0) != (mid[i] < 0);
  EXPECT_NEAR(crossings, 2000, 1);
}

TEST(Resampler, LengthsForSeveralSizesAndRates) {
  for (const double in_rate : {44100.0, 48000.0, 22050.0, 8000.0}) {
    for (const std::size_t n : {1000u, 4410u, 44101u}) {
      const auto x = tutti::testing::sine(300, in_rate, n, 0.3);
      const auto y = resample(x, in_rate, 16000);
      EXPECT_NEAR(static_cast<double>(y.size()), std::round(n * 16000.0 / in_rate), 1.0)
          << in_rate << " Hz, " << n << " samples";
    }
  }
}

TEST(Resampler, StreamingInBlocksEqualsOneCall) {
  const std::size_t n = 44100 * 2 + 5;
  const auto x = tutti::testing::sine(700, 44100, n, 0.4);
  const auto whole = resample(x, 44100, 16000);
  Resampler rs(44100, 16000);
  std::vector<float> streamed;
  std::size_t pos = 0;
  for (std::size_t block : {1u, 7u, 1000u, 4096u, 333u}) {  // odd sizes, then the rest
    rs.process(std::span<const float>(x).subspan(pos, block), streamed);
    pos += block;
  }
  rs.process(std::span<const float>(x).subspan(pos), streamed);
  rs.flush(streamed);
  ASSERT_EQ(streamed.size(), whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) ASSERT_NEAR(streamed[i], whole[i], 1e-6) << i;
  EXPECT_THROW(rs.process(x, streamed), tutti::Error);  // after flush
}

TEST(Resampler, EqualRatesPassThrough) {
  const auto x = tutti::testing::sine(440, 16000, 1234, 0.7);
  const auto y = resample(x, 16000, 16000);
  EXPECT_EQ(y, x);
}

TEST(Resampler, EmptyInputGivesEmptyOutput) { EXPECT_TRUE(resample({}, 44100, 16000).empty()); }

TEST(Resampler, BadRatesAreUsageErrors) {
  EXPECT_THROW(Resampler(0, 16000), tutti::UsageError);
  EXPECT_THROW(Resampler(44100, -1), tutti::UsageError);
  EXPECT_THROW(Resampler(NAN, 16000), tutti::UsageError);
}

}  // namespace
}  // namespace tutti::audio
