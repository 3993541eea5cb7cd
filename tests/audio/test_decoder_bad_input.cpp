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
using tutti::testing::TempDir;

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

// The frames of an MPEG audio stream: (offset, length) of each, found by walking the headers
// (ISO 11172-3 2.4.2.3; Layer III: 144 * bitrate / rate (+1 when padded), 72 for MPEG-2/2.5).
std::vector<std::pair<std::size_t, std::size_t>> mp3_frames(const std::string& b) {
  static const int kBitrate[2][16] = {
      {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},  // MPEG-1
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}};     // MPEG-2/2.5
  static const int kRate[4][3] = {
      {11025, 12000, 8000}, {0, 0, 0}, {22050, 24000, 16000}, {44100, 48000, 32000}};
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t pos = 0;
  if (b.compare(0, 3, "ID3") == 0 && b.size() >= 10)
    pos = 10 + ((b[6] & 0x7F) << 21 | (b[7] & 0x7F) << 14 | (b[8] & 0x7F) << 7 | (b[9] & 0x7F));
  while (pos + 4 <= b.size()) {
    const auto h = [&](std::size_t k) { return static_cast<unsigned char>(b[pos + k]); };
    if (h(0) != 0xFF || (h(1) & 0xE0) != 0xE0) break;
    const int version = (h(1) >> 3) & 3;  // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    const int bitrate = kBitrate[version == 3 ? 0 : 1][h(2) >> 4] * 1000;
    const int rate = kRate[version][(h(2) >> 2) & 3];
    if (bitrate == 0 || rate == 0) break;
    const std::size_t len = (version == 3 ? 144 : 72) * bitrate / rate + ((h(2) >> 1) & 1);
    out.emplace_back(pos, len);
    pos += len;
  }
  return out;
}

// A 3 s 440 Hz MP3 written by libsndfile (LAME). Empty when libsndfile cannot write MP3.
std::string write_mp3(const std::filesystem::path& path) {
  SF_INFO info{};
  info.samplerate = 44100;
  info.channels = 1;
  info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  if (!sf_format_check(&info)) return {};
  tutti::testing::write_sndfile(path, tutti::testing::sine(440, 44100, 3 * 44100, 0.5), 44100, 1,
                                info.format);
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Overwrites the payload of every `every`-th frame (header and CRC kept) with random bytes.
std::string damage_frames(std::string b, std::size_t every) {
  std::mt19937 rng(11);
  const auto frames = mp3_frames(b);
  for (std::size_t f = 1; f < frames.size(); f += every) {  // frame 0 may be LAME's info frame
    const auto [pos, len] = frames[f];
    for (std::size_t k = 6; k < len && pos + k < b.size(); ++k)
      b[pos + k] = static_cast<char>(rng() & 0xFF);
  }
  return b;
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
