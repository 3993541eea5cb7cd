// Decodable files with bad contents: float WAVs holding NaN or infinity, and MP3s whose frames
// are damaged (valid frame headers, garbage payload), made at test time with libsndfile.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <random>

#include "audio/audio_test_util.h"
#include "test_util.h"
#include "tutti/audio/audio_stream.h"
#include "tutti/audio/decoder.h"
#include "tutti/core/error.h"

namespace tutti::audio {
namespace {

using tutti::testing::error_of;
using tutti::testing::damage_frames;
using tutti::testing::mp3_frames;
using tutti::testing::TempDir;
using tutti::testing::write_mp3;

TEST(FirstNonFinite, FindsNanAndInfinity) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> ok = {0.f, 1.f, -1.f, 3e38f};
  EXPECT_EQ(first_non_finite(ok), ok.size());
  EXPECT_EQ(first_non_finite(std::vector<float>{0.f, 0.f, nan}), 2u);
  EXPECT_EQ(first_non_finite(std::vector<float>{-inf, 0.f}), 0u);
  EXPECT_EQ(first_non_finite({}), 0u);
}

TEST(DecoderBadInput, FloatWavWithNanOrInfinityIsRefusedNamingTheFile) {
  TempDir dir;
  for (const float bad :
       {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::infinity()}) {
    auto x = tutti::testing::sine(440, 16000, 32000, 0.5, 2);
    x[2 * 20000 + 1] = bad;  // frame 20000 (1.25 s), right channel
    const auto path = dir / "nan.wav";
    tutti::testing::write_sndfile(path, x, 16000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
    const std::string kind = std::isnan(bad) ? "nan" : "-inf";
    const std::string want = "audio: " + path.string() +
                             ": sample 20000 of channel 1 (at 1.250 s) is " + kind +
                             ": the file holds non-finite samples";
    EXPECT_EQ(error_of([&] { decode_native(path); }), want);
    // Every consumer goes through the decoder: the 16 kHz stream too.
    EXPECT_EQ(error_of([&] { load_mono_16k(path); }), want);
  }
}

TEST(DecoderBadInput, Mp3GoesThroughFfmpegAndDecodesTheSine) {
  TempDir dir;
  const auto path = dir / "sine.mp3";
  if (write_mp3(path).empty()) GTEST_SKIP() << "libsndfile cannot write MP3";
  const auto a = decode_native(path);
  EXPECT_EQ(a.info.backend, "ffmpeg");
  EXPECT_EQ(a.info.sample_rate_hz, 44100);
  ASSERT_GT(a.frames(), 2u * 44100);
  const auto mid = std::span<const float>(a.samples).subspan(44100, 44100);
  EXPECT_NEAR(tutti::testing::fit_sine(mid, 440, 44100).amplitude, 0.5, 0.02);
}

TEST(DecoderBadInput, Mp3WithEveryFrameDamagedFailsQuietly) {
  TempDir dir;
  const auto good = dir / "good.mp3";
  const auto bytes = write_mp3(good);
  if (bytes.empty()) GTEST_SKIP() << "libsndfile cannot write MP3";
  ASSERT_GT(mp3_frames(bytes).size(), 100u);
  const auto path = dir / "damaged.mp3";
  tutti::testing::write_bytes(path, damage_frames(bytes, 1));
  ::testing::internal::CaptureStderr();
  const auto msg = error_of([&] { decode_native(path); });
  const std::string printed = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(msg.find("audio: " + path.string() + ": "), std::string::npos) << msg;
  EXPECT_NE(msg.find("frames could not be decoded"), std::string::npos) << msg;
  EXPECT_EQ(printed, "");  // nothing from the codec libraries
}

TEST(DecoderBadInput, Mp3WithAFewDamagedFramesDecodesAndCountsThem) {
  TempDir dir;
  const auto good = dir / "good.mp3";
  const auto bytes = write_mp3(good);
  if (bytes.empty()) GTEST_SKIP() << "libsndfile cannot write MP3";
  const auto path = dir / "scratched.mp3";
  tutti::testing::write_bytes(path, damage_frames(bytes, 20));
  ::testing::internal::CaptureStderr();
  auto dec = Decoder::open(path);
  std::vector<float> block(4096);
  std::size_t frames = 0;
  while (const std::size_t n = dec->read_mono(block)) frames += n;
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_GT(frames, 2u * 44100);
  EXPECT_GT(dec->bad_frames(), 0);
  EXPECT_LT(dec->bad_frames(), 20);
  // The count reaches the 16 kHz stream (and from there the embedders' warnings).
  AudioStream stream(path);
  while (stream.read(block) > 0) {
  }
  EXPECT_EQ(stream.bad_frames(), dec->bad_frames());
}

}  // namespace
}  // namespace tutti::audio
