// AudioStream / load_mono_16k: mono 16 kHz from any rate and channel count, block reads equal the
// whole-file load, the real OpenMIC clip matches the reference 16 kHz waveform (resampy) closely.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "audio/audio_test_util.h"
#include "audio/npy_test_reader.h"
#include "test_util.h"
#include "tutti/audio/audio_stream.h"
#include "tutti/core/error.h"

namespace tutti::audio {
namespace {

using tutti::testing::TempDir;

TEST(AudioStream, StereoWav441kBecomesMono16k) {
  TempDir dir;
  const auto path = dir / "tone.wav";
  const std::size_t n = 44100 * 2;
  const auto x = tutti::testing::sine(1000, 44100, n, 0.5, 2);  // channels differ in phase by 0.3
  tutti::testing::write_sndfile(path, x, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const auto y = load_mono_16k(path);
  EXPECT_NEAR(static_cast<double>(y.size()), std::round(n * 16000.0 / 44100.0), 1.0);
  // The mean of two equal sines 0.3 rad apart has amplitude 0.5 * cos(0.15).
  const auto fit =
      tutti::testing::fit_sine(std::span<const float>(y).subspan(8000, 16000), 1000, 16000);
  EXPECT_NEAR(fit.amplitude, 0.5 * std::cos(0.15), 1e-4);
  EXPECT_LT(fit.residual_rms, 1e-4);
}

TEST(AudioStream, At16kIsUntouched) {
  TempDir dir;
  const auto path = dir / "mono16k.wav";
  const auto x = tutti::testing::sine(250, 16000, 20000, 0.5);
  tutti::testing::write_sndfile(path, x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(load_mono_16k(path), x);
}

TEST(AudioStream, BlockReadsEqualWholeLoad) {
  TempDir dir;
  const auto path = dir / "tone.flac";
  const auto x = tutti::testing::sine(523, 48000, 100000, 0.5, 2);
  tutti::testing::write_sndfile(path, x, 48000, 2, SF_FORMAT_FLAC | SF_FORMAT_PCM_24);
  const auto whole = load_mono_16k(path);
  AudioStream stream(path);
  EXPECT_EQ(stream.source_info().sample_rate_hz, 48000);
  EXPECT_EQ(stream.source_info().channels, 2);
  EXPECT_EQ(stream.sample_rate_hz(), 16000);
  std::vector<float> got;
  std::vector<float> block(997);  // not a divisor of anything
  while (const std::size_t k = stream.read(block))
    got.insert(got.end(), block.begin(), block.begin() + k);
  EXPECT_EQ(stream.read(block), 0u);
  ASSERT_EQ(got.size(), whole.size());
  for (std::size_t i = 0; i < got.size(); ++i) ASSERT_EQ(got[i], whole[i]) << i;
}

TEST(AudioStream, OtherTargetRate) {
  TempDir dir;
  const auto path = dir / "tone.wav";
  tutti::testing::write_sndfile(path, tutti::testing::sine(100, 16000, 16000, 0.5), 16000, 1,
                                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_NEAR(static_cast<double>(load_mono(path, 22050).size()), 22050.0, 1.0);
  EXPECT_THROW(AudioStream(path, 0), tutti::UsageError);
}

TEST(AudioStream, ShortFileLoads) {
  TempDir dir;
  const auto path = dir / "short.wav";
  tutti::testing::write_sndfile(path, tutti::testing::sine(100, 44100, 22050, 0.5), 44100, 1,
                                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_NEAR(static_cast<double>(load_mono_16k(path).size()), 8000.0, 1.0);  // 0.5 s
}

TEST(AudioStream, ZeroLengthWavIsEmptyNotAnError) {
  TempDir dir;
  const auto path = dir / "zero.wav";
  tutti::testing::write_sndfile(path, {}, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  EXPECT_TRUE(load_mono_16k(path).empty());
}

TEST(AudioStream, BadFileErrorNamesTheFile) {
  TempDir dir;
  tutti::testing::write_bytes(dir / "x.ogg",
                              "OggS but not really an ogg stream at all............");
  try {
    load_mono_16k(dir / "x.ogg");
    FAIL() << "no error";
  } catch (const tutti::Error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "x.ogg").string()), std::string::npos) << e.what();
  }
}

// The reference 16 kHz waveform was made by the VGGish pipeline with resampy (kaiser_best); ours
// uses soxr VHQ. Two good band-limited resamplers agree to a small fraction of the signal.
TEST(AudioStream, RealClipMatchesReferenceWaveform) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.wave16k.npy");
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.ogg");
  const auto dir = tutti::testing::shared_data_dir() / "openmic";
  const auto ref = tutti::testing::read_npy_f32(dir / "000046_3840.wave16k.npy");
  const auto y = load_mono_16k(dir / "000046_3840.ogg");
  ASSERT_EQ(ref.shape, std::vector<std::size_t>{160000});
  ASSERT_NEAR(static_cast<double>(y.size()), 160000.0, 1.0);
  const std::size_t n = std::min(y.size(), ref.data.size());
  double sum_abs = 0, max_abs = 0, ref_abs = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(y[i]) - ref.data[i]);
    sum_abs += d;
    max_abs = std::max(max_abs, d);
    ref_abs += std::abs(ref.data[i]);
  }
  std::printf("16 kHz waveform vs reference: mean |diff| %.3g (mean |ref| %.3g), max |diff| %.3g\n",
              sum_abs / n, ref_abs / n, max_abs);
  EXPECT_LT(sum_abs / n, 0.01 * ref_abs / n);  // under 1% of the signal level
  EXPECT_LT(max_abs, 0.05);
}

}  // namespace
}  // namespace tutti::audio
