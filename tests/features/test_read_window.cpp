// features::ReadWindow: a start/duration window is cut sample-exactly at 16 kHz, and a file shorter
// than one example is padded with silence to one when asked.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <utility>

#include "audio/audio_test_util.h"
#include "test_util.h"
#include "tutti/audio/audio_stream.h"
#include "tutti/core/error.h"
#include "tutti/features/file_examples.h"

namespace tutti::features {
namespace {

using testing::error_of;
using testing::TempDir;

FileExamples read(const std::filesystem::path& p, const ReadWindow& w) {
  std::vector<float> values;
  auto r = for_each_example_in_file(
      p, LogMelConfig{},
      [&](std::size_t, std::span<const float> ex) {
        values.insert(values.end(), ex.begin(), ex.end());
      },
      w);
  r.values = std::move(values);
  return r;
}

// Largest difference between the values of `part` and those of `whole` from example `first` on.
float max_diff_from(const FileExamples& part, const FileExamples& whole, std::size_t first) {
  const std::size_t n = LogMelConfig{}.example_size();
  float max_diff = 0;
  for (std::size_t i = 0; i < part.values.size(); ++i)
    max_diff = std::max(max_diff, std::abs(part.values[i] - whole.values[first * n + i]));
  return max_diff;
}

TEST(ReadWindow, WindowAtAnExampleBoundaryGivesThoseExamplesOfTheWholeFile) {
  TempDir dir;
  const auto wav = dir / "chirp.wav";
  // A 16 kHz float WAV whose pitch rises, so that every example differs.
  std::vector<float> x(16000 * 5);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double t = static_cast<double>(i) / 16000;
    x[i] = static_cast<float>(0.4 * std::sin(2 * 3.141592653589793 * (200 + 150 * t) * t));
  }
  testing::write_sndfile(wav, x, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  const auto whole = read(wav, {});
  ASSERT_EQ(whole.count, 5u);
  ReadWindow w;
  w.start_s = 0.96 * 2;         // example 2 starts at sample 2 * 96 * 160
  w.duration_s = 0.96 + 0.015;  // exactly one example's samples (15,600)
  const auto part = read(wav, w);
  ASSERT_EQ(part.count, 1u);
  EXPECT_EQ(part.samples, 15600u);
  EXPECT_DOUBLE_EQ(part.start_s, 1.92);
  const std::size_t n = LogMelConfig{}.example_size();
  for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(part.values[i], whole.values[2 * n + i]) << i;
  // One sample less: no example.
  w.duration_s = 15599.0 / 16000;
  EXPECT_EQ(read(wav, w).count, 0u);
}

// A start far into the file seeks in the decoder (libsndfile) instead of decoding and dropping,
// and gives the examples of decoding from the start and cutting, for WAV and FLAC at 44.1 kHz
// stereo (resampled: the seek lands a second early and on a frame that is an output sample).
TEST(ReadWindow, StartSeeksAndGivesTheSamplesOfDecodingFromTheStart) {
  TempDir dir;
  const auto x = testing::chirp_stereo_44k(12);
  for (const auto& [name, format] : {std::pair{"chirp.wav", SF_FORMAT_WAV | SF_FORMAT_PCM_16},
                                     std::pair{"chirp.flac", SF_FORMAT_FLAC | SF_FORMAT_PCM_16}}) {
    SCOPED_TRACE(name);
    const auto file = dir / name;
    testing::write_sndfile(file, x, 44100, 2, format);
    {
      audio::AudioStream s(file);
      EXPECT_EQ(s.seek_before(8 * 15360), 8 * 15360 - 16000u);  // one second early
    }
    const auto whole = read(file, {});
    ASSERT_EQ(whole.count, 12u);
    ReadWindow w;
    w.start_s = 0.96 * 8;  // example 8 of the whole file
    const auto part = read(file, w);
    ASSERT_EQ(part.count, 4u);
    EXPECT_EQ(part.samples, whole.samples - 8 * 15360);
    EXPECT_LT(max_diff_from(part, whole, 8), 1e-4f);
  }
}

// The same through FFmpeg (M4A/AAC, without noise substitution, whose decoded noise depends on
// where decoding began: tests/audio/test_decoder.cpp): the seek lands a second early and the
// examples are those of the whole file; a window after the end names the audio's length.
TEST(ReadWindow, StartSeeksInFfmpegFilesToo) {
  TempDir dir;
  const auto x = testing::chirp_stereo_44k(12);
  const auto file = dir / "chirp.m4a";
  if (!testing::write_m4a(file, x, 44100, 2, /*noise_substitution=*/false))
    GTEST_SKIP() << "FFmpeg has no AAC encoder";
  {
    audio::AudioStream s(file);
    ASSERT_EQ(s.source_info().backend, "ffmpeg");
    EXPECT_EQ(s.seek_before(8 * 15360), 8 * 15360 - 16000u);
  }
  const auto whole = read(file, {});
  ASSERT_EQ(whole.count, 12u);
  ReadWindow w;
  w.start_s = 0.96 * 8;
  const auto part = read(file, w);
  ASSERT_EQ(part.count, 4u);
  EXPECT_EQ(part.samples, whole.samples - 8 * 15360);
  EXPECT_LT(max_diff_from(part, whole, 8), 1e-4f);
  w.start_s = 60;
  w.pad_short = true;
  EXPECT_EQ(error_of([&] { read(file, w); }),
            fmt::format("audio: {}: the window starts at 60 s, after the end of the audio "
                        "({:.3f} s)",
                        file.string(), static_cast<double>(whole.samples) / 16000));
}

TEST(ReadWindow, ShortFilesArePaddedWithSilenceWhenAsked) {
  TempDir dir;
  const auto wav = dir / "short.wav";
  testing::write_sndfile(wav, testing::sine(440, 16000, 8000, 0.5), 16000, 1,
                         SF_FORMAT_WAV | SF_FORMAT_FLOAT);
  EXPECT_EQ(read(wav, {}).count, 0u);
  ReadWindow pad;
  pad.pad_short = true;
  const auto r = read(wav, pad);
  ASSERT_EQ(r.count, 1u);
  EXPECT_TRUE(r.padded);
  EXPECT_EQ(r.samples, 8000u);  // the audio, not the padding
  // The last frame lies in the silence: every mel band is log(0 + log_offset).
  const LogMelConfig cfg;
  const std::size_t last = (cfg.example_frames - 1) * static_cast<std::size_t>(cfg.num_mel_bins);
  for (int b = 0; b < cfg.num_mel_bins; ++b)
    EXPECT_FLOAT_EQ(r.values[last + b], static_cast<float>(std::log(cfg.log_offset)));
  // The first frame holds the sine: well above silence.
  EXPECT_GT(r.values[10], std::log(cfg.log_offset) + 1.0);
}

TEST(ReadWindow, NothingToPadAndBadValuesAreErrors) {
  TempDir dir;
  const auto empty = dir / "empty.wav", wav = dir / "one.wav";
  testing::write_sndfile(empty, {}, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  testing::write_sndfile(wav, testing::sine(440, 16000, 16000, 0.5), 16000, 1,
                         SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  ReadWindow pad;
  pad.pad_short = true;
  EXPECT_EQ(error_of([&] { read(empty, pad); }), "audio: " + empty.string() + ": no audio samples");
  pad.start_s = 3;
  EXPECT_EQ(error_of([&] { read(wav, pad); }),
            "audio: " + wav.string() +
                ": the window starts at 3 s, after the end of the audio (1.000 s)");
  ReadWindow bad;
  bad.start_s = -1;
  EXPECT_THROW(read(wav, bad), UsageError);
  bad.start_s = 0;
  bad.duration_s = std::nan("");
  EXPECT_THROW(read(wav, bad), UsageError);
}

}  // namespace
}  // namespace tutti::features
