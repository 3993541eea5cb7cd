// Decoding: WAV/FLAC written by libsndfile, M4A/AAC encoded at test time (FFmpeg back end), the
// real OpenMIC Ogg Vorbis clip, and one clear tutti::Error for every kind of bad file.
#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "audio/audio_test_util.h"
#include "test_util.h"
#include "tutti/audio/decoder.h"
#include "tutti/core/error.h"

namespace tutti::audio {
namespace {

using tutti::testing::TempDir;

TEST(Decoder, WavPcm16RoundTripsThroughLibsndfile) {
  TempDir dir;
  const auto path = dir / "stereo.wav";
  const auto x = tutti::testing::sine(440, 22050, 5000, 0.5, 2);
  tutti::testing::write_sndfile(path, x, 22050, 2, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const auto d = decode_native(path);
  EXPECT_EQ(d.info.backend, "sndfile");
  EXPECT_EQ(d.info.sample_rate_hz, 22050);
  EXPECT_EQ(d.info.channels, 2);
  EXPECT_EQ(d.info.frames, 5000);
  ASSERT_EQ(d.frames(), 5000u);
  // 16-bit quantisation: within one LSB (1/32768) of the written values.
  for (std::size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(d.samples[i], x[i], 1.0 / 32768) << i;
}

TEST(Decoder, FlacIsLossless) {
  TempDir dir;
  const auto path = dir / "mono.flac";
  const auto x = tutti::testing::sine(1000, 48000, 12345, 0.25, 1);
  // Round through 16 bits first so FLAC (lossless) must give back exactly these values.
  std::vector<float> q(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) q[i] = std::round(x[i] * 32768.0f) / 32768.0f;
  tutti::testing::write_sndfile(path, q, 48000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const auto d = decode_native(path);
  EXPECT_EQ(d.info.backend, "sndfile");
  EXPECT_EQ(d.info.sample_rate_hz, 48000);
  EXPECT_EQ(d.info.channels, 1);
  ASSERT_EQ(d.samples.size(), q.size());
  for (std::size_t i = 0; i < q.size(); ++i) ASSERT_EQ(d.samples[i], q[i]) << i;
}

TEST(Decoder, ReadMonoAveragesChannels) {
  TempDir dir;
  const auto path = dir / "lr.wav";
  std::vector<float> x;  // left 0.5, right -0.25 -> mean 0.125
  for (int i = 0; i < 1000; ++i) x.insert(x.end(), {0.5f, -0.25f});
  tutti::testing::write_sndfile(path, x, 8000, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  auto dec = Decoder::open(path);
  std::vector<float> mono(300);
  std::size_t total = 0;
  while (const std::size_t n = dec->read_mono(mono)) {
    for (std::size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(mono[i], 0.125f);
    total += n;
  }
  EXPECT_EQ(total, 1000u);
  EXPECT_EQ(dec->read_mono(mono), 0u);  // stays at the end
}

TEST(Decoder, MixToMonoThreeChannels) {
  const std::vector<float> x = {3, 6, 9, -1, 0, 1};
  std::vector<float> out(2);
  mix_to_mono(x, 3, out);
  EXPECT_FLOAT_EQ(out[0], 6);
  EXPECT_FLOAT_EQ(out[1], 0);
}

TEST(Decoder, M4aAacGoesThroughFfmpeg) {
  TempDir dir;
  const auto path = dir / "tone.m4a";
  const std::size_t frames = 44100 * 2;
  const auto x = tutti::testing::sine(1000, 44100, frames, 0.5, 2);
  if (!tutti::testing::write_m4a(path, x, 44100, 2)) GTEST_SKIP() << "FFmpeg has no AAC encoder";
  const auto d = decode_native(path);
  EXPECT_EQ(d.info.backend, "ffmpeg");
  EXPECT_NE(d.info.format.find("aac"), std::string::npos) << d.info.format;
  EXPECT_EQ(d.info.sample_rate_hz, 44100);
  EXPECT_EQ(d.info.channels, 2);
  // AAC adds/trims up to a couple of codec frames (1024 samples) of priming and padding.
  EXPECT_NEAR(static_cast<double>(d.frames()), static_cast<double>(frames), 2048.0);
  std::vector<float> left(44100);  // one second from the middle: 1000 whole periods
  for (std::size_t i = 0; i < left.size(); ++i) left[i] = d.samples[(22050 + i) * 2];
  const auto fit = tutti::testing::fit_sine(left, 1000, 44100);
  EXPECT_NEAR(fit.amplitude, 0.5, 0.01);
  std::printf("m4a: amplitude %.4f residual rms %.4f\n", fit.amplitude, fit.residual_rms);
  EXPECT_LT(fit.residual_rms, 0.01);  // lossy, but at 160 kb/s a pure tone survives well
}

// FFmpeg seeks (to a packet before the target, then decodes and drops to it): the samples after
// the seek are those of decoding the M4A/AAC file from the start. Each AAC frame overlaps the
// one before; the seek lands 8 codec frames early, so the decoder's overlap has converged to the
// one decoding from the start gives by the target: bit for bit without perceptual noise
// substitution (PNS). With PNS (FFmpeg's encoder default) the substituted bands are noise that
// the decoder draws from its random generator (ISO/IEC 14496-3, 4.6.13), whose state depends on
// where decoding began: there the samples agree to the noise's energy, 1e-4 on this signal away
// from its last frame (where the encoder pads, noise bands reach 0.015).
TEST(Decoder, FfmpegSeekGivesTheSamplesOfDecodingFromTheStart) {
  TempDir dir;
  const auto x = tutti::testing::chirp_stereo_44k(6);
  for (const bool pns : {false, true}) {
    SCOPED_TRACE(pns ? "PNS" : "no PNS");
    const auto path = dir / (pns ? "pns.m4a" : "chirp.m4a");
    if (!tutti::testing::write_m4a(path, x, 44100, 2, pns))
      GTEST_SKIP() << "FFmpeg has no AAC encoder";
    const auto whole = decode_native(path);
    ASSERT_EQ(whole.info.backend, "ffmpeg");
    // Inside a codec frame, on a frame boundary, within the preroll of the start, in the last 1 s.
    for (const std::int64_t target : {100000, 1024 * 100, 5000, 44100 * 5 + 17}) {
      SCOPED_TRACE(target);
      if (pns && target > 44100 * 5) continue;
      auto d = Decoder::open(path);
      ASSERT_TRUE(d->seek(target));
      std::vector<float> got(44100 * 2);
      std::size_t n = 0;
      while (const std::size_t k = d->read_interleaved(std::span(got).subspan(n * 2))) n += k;
      const auto t = static_cast<std::size_t>(target);
      ASSERT_EQ(n, std::min<std::size_t>(44100, whole.frames() - t));
      float max_diff = 0;
      for (std::size_t i = 0; i < n * 2; ++i)
        max_diff = std::max(max_diff, std::abs(got[i] - whole.samples[t * 2 + i]));
      if (pns)
        EXPECT_LT(max_diff, 1e-4f);
      else
        EXPECT_EQ(max_diff, 0.0f);
    }
  }
  // Past the end: no seek (callers decode and drop, and so learn the audio's length).
  auto d = Decoder::open(dir / "chirp.m4a");
  EXPECT_FALSE(d->seek(44100 * 60));
  std::vector<float> buf(1024 * 2);
  EXPECT_EQ(d->read_interleaved(buf), 1024u);
}

TEST(Decoder, RealOpenmicOggVorbis) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.ogg");
  const auto path = tutti::testing::shared_data_dir() / "openmic/000046_3840.ogg";
  const auto d = decode_native(path);
  EXPECT_EQ(d.info.backend, "sndfile");
  EXPECT_EQ(d.info.sample_rate_hz, 44100);
  EXPECT_EQ(d.info.channels, 2);
  EXPECT_EQ(static_cast<std::int64_t>(d.frames()), d.info.frames);
  EXPECT_NEAR(static_cast<double>(d.frames()) / 44100.0, 10.0, 0.05);
  float peak = 0;
  for (float v : d.samples) peak = std::max(peak, std::abs(v));
  EXPECT_GT(peak, 0.1f);  // real music, not silence
  EXPECT_LE(peak, 1.0f);
}

// --- bad files: one tutti::Error naming the file and the problem -------------------------------

void expect_audio_error(const std::filesystem::path& path, const std::string& problem) {
  try {
    decode_native(path);
    FAIL() << "no error for " << path;
  } catch (const tutti::Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(problem), std::string::npos) << msg;
  }
}

TEST(DecoderErrors, MissingFile) {
  TempDir dir;
  expect_audio_error(dir / "nope.wav", "no such file");
}

TEST(DecoderErrors, Directory) {
  TempDir dir;
  expect_audio_error(dir.path(), "not a regular file");
}

TEST(DecoderErrors, EmptyFile) {
  TempDir dir;
  tutti::testing::write_bytes(dir / "empty.wav", "");
  expect_audio_error(dir / "empty.wav", "empty");
}

TEST(DecoderErrors, TextFileNamedWav) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "this is not audio, just a line of text number " + std::to_string(i) + "\n";
  tutti::testing::write_bytes(dir / "notes.wav", text);
  expect_audio_error(dir / "notes.wav", "not a recognised audio file");
}

TEST(DecoderErrors, TruncatedWavHeader) {
  TempDir dir;
  const auto good = dir / "good.wav";
  tutti::testing::write_sndfile(good, tutti::testing::sine(440, 16000, 1000, 0.5), 16000, 1,
                                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  std::ifstream in(good, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  tutti::testing::write_bytes(dir / "truncated.wav", bytes.substr(0, 30));  // inside "fmt "
  expect_audio_error(dir / "truncated.wav", "audio: ");
}

TEST(DecoderErrors, RandomBytesNamedMp3) {
  TempDir dir;
  std::mt19937 rng(7);
  std::string bytes(16384, '\0');
  for (auto& b : bytes) b = static_cast<char>(rng() & 0xFF);
  tutti::testing::write_bytes(dir / "noise.mp3", bytes);
  expect_audio_error(dir / "noise.mp3", "audio: ");
}

TEST(DecoderErrors, M4aWithGarbageAfterTheHeader) {
  // A real M4A whose audio data is overwritten: the container parses, nothing decodes (or an
  // error is reported); never a crash, and the error names the file.
  TempDir dir;
  const auto path = dir / "broken.m4a";
  const auto x = tutti::testing::sine(1000, 44100, 44100, 0.5, 1);
  if (!tutti::testing::write_m4a(path, x, 44100, 1)) GTEST_SKIP() << "FFmpeg has no AAC encoder";
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  std::mt19937 rng(3);
  for (std::size_t i = bytes.size() / 4; i < bytes.size(); ++i)
    bytes[i] = static_cast<char>(rng() & 0xFF);
  tutti::testing::write_bytes(path, bytes);
  try {
    const auto d = decode_native(path);
    // If something decodes, it is bounded by what the container claims.
    EXPECT_LE(d.frames(), 44100u + 4096u);
  } catch (const tutti::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tutti::audio
