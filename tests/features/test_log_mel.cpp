// The VGGish log-mel front end against the reference implementation (mel_features.py /
// vggish_input.py): the mel matrix and a synthetic signal (fixtures made by
// tools/fixtures/make_audio_fixtures.py), and the real OpenMIC reference arrays in ../shared/data.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "audio/audio_test_util.h"
#include "audio/npy_test_reader.h"
#include "max_abs_diff.h"
#include "test_util.h"
#include "tutti/audio/audio_stream.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/features/file_examples.h"
#include "tutti/features/log_mel.h"

namespace tutti::features {
namespace {

using tutti::testing::fixture;
using tutti::testing::max_abs_diff;

// The signal documented in tools/fixtures/make_audio_fixtures.py.
std::vector<float> synth_signal() {
  std::vector<float> x(19200);
  std::uint64_t s = 12345;
  for (std::size_t n = 0; n < x.size(); ++n) {
    s = (1103515245ULL * s + 12345ULL) % (1ULL << 31);
    const double u = static_cast<double>(s) / static_cast<double>(1ULL << 31);
    const double t = static_cast<double>(n) / 16000.0;
    const double v = 0.3 * std::sin(2 * M_PI * 440 * t) +
                     0.2 * std::sin(2 * M_PI * (200 + 3000 * t) * t) + 0.05 * (u - 0.5);
    x[n] = n < 2000 ? 0.0f : static_cast<float>(v);
  }
  return x;
}

TEST(LogMel, MelMatrixMatchesReference) {
  const auto j = core::read_json_file(fixture("audio/mel_matrix.json"));
  const auto w = mel_weight_matrix(LogMelConfig{});
  ASSERT_EQ(w.size(), 257u * 64u);
  std::vector<double> expected(w.size(), 0.0);
  for (const auto& e : j["nonzero"])
    expected[e[0].get<std::size_t>() * 64 + e[1].get<std::size_t>()] = e[2].get<double>();
  EXPECT_GT(j["nonzero"].size(), 300u);
  for (std::size_t i = 0; i < w.size(); ++i) ASSERT_NEAR(w[i], expected[i], 1e-12) << i;
  for (std::size_t b = 0; b < 64; ++b) EXPECT_EQ(w[b], 0.0);  // the DC row is zeroed
}

TEST(LogMel, SyntheticSignalMatchesReference) {
  const auto ref = tutti::testing::read_npy_f32(fixture("audio/synth_examples.npy"));
  ASSERT_EQ(ref.shape, (std::vector<std::size_t>{1, 96, 64}));
  LogMelFrontEnd fe;
  const auto x = synth_signal();
  const auto ex = fe.examples(x);
  ASSERT_EQ(ex.size(), ref.data.size());
  const float d = max_abs_diff(ex, ref.data);
  std::printf("synthetic signal: max |diff| vs numpy reference %.3g\n", d);
  EXPECT_LT(d, 1e-4f);
  // The leading silence sits exactly on the floor ln(0.01).
  for (int b = 0; b < 64; ++b) EXPECT_FLOAT_EQ(ex[b], std::log(0.01f));
}

TEST(LogMel, RealClip16kMatchesReferenceExamples) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.wave16k.npy");
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.vggish_examples.npy");
  const auto dir = tutti::testing::shared_data_dir() / "openmic";
  const auto wave = tutti::testing::read_npy_f32(dir / "000046_3840.wave16k.npy");
  const auto ref = tutti::testing::read_npy_f32(dir / "000046_3840.vggish_examples.npy");
  ASSERT_EQ(ref.shape, (std::vector<std::size_t>{10, 96, 64}));
  LogMelFrontEnd fe;
  const auto ex = fe.examples(wave.data);
  ASSERT_EQ(ex.size(), ref.data.size());
  const float d = max_abs_diff(ex, ref.data);
  std::printf("reference 16 kHz waveform -> examples: max |diff| %.3g\n", d);
  EXPECT_LT(d, 1e-3f);
}

TEST(LogMel, RealClipFromOggThroughOurDecoderAndResampler) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.ogg");
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.vggish_examples.npy");
  const auto dir = tutti::testing::shared_data_dir() / "openmic";
  const auto ref = tutti::testing::read_npy_f32(dir / "000046_3840.vggish_examples.npy");
  const auto ex = vggish_examples_from_file(dir / "000046_3840.ogg");
  EXPECT_EQ(ex.count, 10u);
  EXPECT_EQ(ex.source.sample_rate_hz, 44100);
  EXPECT_NEAR(ex.duration_s(), 10.0, 0.05);
  ASSERT_EQ(ex.values.size(), ref.data.size());
  double sum = 0;
  for (std::size_t i = 0; i < ex.values.size(); ++i) sum += std::abs(ex.values[i] - ref.data[i]);
  const double mean_abs = sum / static_cast<double>(ex.values.size());
  std::printf("ogg -> our decoder + soxr -> examples: mean |diff| %.4f, max |diff| %.3g\n",
              mean_abs, max_abs_diff(ex.values, ref.data));
  EXPECT_LT(mean_abs, 0.05);
}

TEST(LogMel, FrameAndExampleCounts) {
  const LogMelConfig c;
  EXPECT_EQ(num_frames(c, 0), 0u);
  EXPECT_EQ(num_frames(c, 399), 0u);
  EXPECT_EQ(num_frames(c, 400), 1u);
  EXPECT_EQ(num_frames(c, 559), 1u);
  EXPECT_EQ(num_frames(c, 560), 2u);
  EXPECT_EQ(num_frames(c, 160000), 998u);  // 1 + (160000 - 400) // 160
  EXPECT_EQ(num_examples(c, 15599), 0u);   // 95 frames
  EXPECT_EQ(num_examples(c, 15600), 1u);   // 96 frames = 0.975 s
  EXPECT_EQ(num_examples(c, 160000), 10u);
  EXPECT_EQ(num_examples(c, 30959), 1u);  // 191 frames
  EXPECT_EQ(num_examples(c, 31120), 2u);  // 192 frames
}

TEST(LogMel, ShortInputGivesNoExamples) {
  LogMelFrontEnd fe;
  EXPECT_TRUE(fe.examples(std::vector<float>(15599, 0.1f)).empty());
  EXPECT_TRUE(fe.examples({}).empty());
  EXPECT_TRUE(fe.log_mel(std::vector<float>(399, 0.1f)).empty());
  EXPECT_EQ(fe.log_mel(std::vector<float>(400, 0.1f)).size(), 64u);
}

TEST(LogMel, LogMelRowsAreTheExampleRows) {
  LogMelFrontEnd fe;
  const auto x = tutti::testing::sine(1000, 16000, 40000, 0.5);
  const auto spec = fe.log_mel(x);
  const auto ex = fe.examples(x);
  ASSERT_EQ(spec.size(), num_frames(fe.config(), x.size()) * 64);
  ASSERT_EQ(ex.size(), 2u * 96 * 64);
  for (std::size_t i = 0; i < ex.size(); ++i) ASSERT_EQ(ex[i], spec[i]);
  // A 1 kHz tone: the loudest band is the one whose centre is nearest 1 kHz (band 15 of 64:
  // centres are evenly spaced in HTK mel between 125 and 7500 Hz).
  const float* row = spec.data() + 50 * 64;
  const auto peak = std::max_element(row, row + 64) - row;
  const double lo = 1127 * std::log(1 + 125 / 700.0), hi = 1127 * std::log(1 + 7500 / 700.0);
  const double target = 1127 * std::log(1 + 1000 / 700.0);
  const auto nearest = std::lround((target - lo) / ((hi - lo) / 65) - 1);
  EXPECT_EQ(peak, nearest);
}

TEST(LogMel, StreamingEqualsWholeSignalForAnyBlocks) {
  const auto x = tutti::testing::sine(700, 16000, 16000 * 5 + 123, 0.5);
  LogMelFrontEnd fe;
  const auto whole = fe.examples(x);
  ASSERT_EQ(whole.size(), 5u * 96 * 64);
  std::mt19937 rng(11);
  for (int trial = 0; trial < 4; ++trial) {
    LogMelStream stream;
    std::vector<float> out;
    std::size_t pos = 0, emitted = 0;
    std::uniform_int_distribution<std::size_t> size(trial == 0 ? 1 : 0, trial == 0 ? 3 : 5000);
    while (pos < x.size()) {
      const std::size_t n = std::min(size(rng), x.size() - pos);
      emitted += stream.push(std::span<const float>(x).subspan(pos, n), out);
      pos += n;
    }
    EXPECT_EQ(emitted, 5u);
    EXPECT_EQ(stream.samples_pushed(), x.size());
    EXPECT_EQ(stream.frames_computed(), num_frames(LogMelConfig{}, x.size()));
    ASSERT_EQ(out, whole) << "trial " << trial;  // bit-identical
  }
}

TEST(LogMel, StreamResetStartsAFreshFile) {
  const auto x = tutti::testing::sine(300, 16000, 20000, 0.4);
  LogMelStream stream;
  std::vector<float> a, b;
  stream.push(std::span<const float>(x).first(12345), a);
  stream.reset();
  stream.push(x, b);
  LogMelFrontEnd fe;
  EXPECT_EQ(b, fe.examples(x));
}

TEST(LogMel, OverlappingExamples) {
  LogMelConfig c;
  c.example_hop_frames = 48;  // 50% overlap
  LogMelFrontEnd fe(c);
  const auto x = tutti::testing::sine(440, 16000, 32000, 0.5);
  const auto spec = fe.log_mel(x);
  const auto ex = fe.examples(x);
  const std::size_t frames = num_frames(c, x.size());  // 198
  ASSERT_EQ(ex.size(), (1 + (frames - 96) / 48) * 96 * 64);
  for (std::size_t i = 0; i < 96 * 64; ++i) ASSERT_EQ(ex[96 * 64 + i], spec[48 * 64 + i]);
  LogMelStream stream(c);
  std::vector<float> out;
  for (std::size_t pos = 0; pos < x.size(); pos += 1000)
    stream.push(std::span<const float>(x).subspan(pos, std::min<std::size_t>(1000, x.size() - pos)),
                out);
  EXPECT_EQ(out, ex);
}

TEST(LogMel, ThreadsWithTheirOwnFrontEndsAgree) {
  const auto x = synth_signal();
  LogMelFrontEnd fe;
  const auto expected = fe.examples(x);
  std::vector<std::vector<float>> results(4);
  std::vector<std::thread> threads;
  for (auto& r : results)
    threads.emplace_back([&x, &r] {
      for (int i = 0; i < 20; ++i) {  // construct (plan) and destroy concurrently
        LogMelFrontEnd local;
        r = local.examples(x);
      }
    });
  for (auto& t : threads) t.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

TEST(LogMelConfig, DefaultsAreTheVggishPreset) {
  const LogMelConfig c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.sample_rate_hz, 16000);
  EXPECT_EQ(c.window_length_samples, 400);
  EXPECT_EQ(c.hop_length_samples, 160);
  EXPECT_EQ(c.fft_length, 512);
  EXPECT_EQ(c.num_spectrogram_bins(), 257);
  EXPECT_EQ(c.example_size(), 96u * 64u);
}

TEST(LogMelConfig, InvalidValuesAreUsageErrorsNamingTheField) {
  auto expect_bad = [](auto mutate, const std::string& field) {
    LogMelConfig c;
    mutate(c);
    try {
      c.validate();
      ADD_FAILURE() << "no error for " << field;
    } catch (const tutti::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
    }
  };
  expect_bad([](LogMelConfig& c) { c.sample_rate_hz = 0; }, "sample_rate_hz");
  expect_bad([](LogMelConfig& c) { c.window_length_samples = -1; }, "window_length_samples");
  expect_bad([](LogMelConfig& c) { c.hop_length_samples = 401; }, "hop_length_samples");
  expect_bad([](LogMelConfig& c) { c.fft_length = 256; }, "fft_length");
  expect_bad([](LogMelConfig& c) { c.num_mel_bins = 0; }, "num_mel_bins");
  expect_bad([](LogMelConfig& c) { c.lower_edge_hz = -5; }, "lower_edge_hz");
  expect_bad([](LogMelConfig& c) { c.upper_edge_hz = 100; }, "upper_edge_hz");
  expect_bad([](LogMelConfig& c) { c.upper_edge_hz = 9000; }, "Nyquist");
  expect_bad([](LogMelConfig& c) { c.log_offset = 0; }, "log_offset");
  expect_bad([](LogMelConfig& c) { c.example_frames = 0; }, "example_frames");
  expect_bad([](LogMelConfig& c) { c.example_hop_frames = 97; }, "example_hop_frames");
  LogMelConfig bad;
  bad.num_mel_bins = -3;
  EXPECT_THROW(LogMelFrontEnd{bad}, tutti::UsageError);
}

TEST(LogMelConfig, JsonRoundTripAndUnknownKeys) {
  LogMelConfig c;
  c.num_mel_bins = 40;
  c.upper_edge_hz = 6000;
  const auto back = LogMelConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(LogMelConfig::from_json(core::Json::object()).to_json(), LogMelConfig{}.to_json());
  EXPECT_THROW(LogMelConfig::from_json(core::Json{{"num_mels", 64}}), tutti::UsageError);
  EXPECT_THROW(LogMelConfig::from_json(core::Json{{"num_mel_bins", "many"}}), tutti::UsageError);
  EXPECT_THROW(LogMelConfig::from_json(core::Json{{"log_offset", -1.0}}), tutti::UsageError);
  EXPECT_THROW(LogMelConfig::from_json(core::Json::array()), tutti::UsageError);
}

// --- files -----------------------------------------------------------------------------------

TEST(FileExamples, ShortFileGivesZeroExamplesNotACrash) {
  tutti::testing::TempDir dir;
  const auto path = dir / "short.wav";
  tutti::testing::write_sndfile(path, tutti::testing::sine(440, 44100, 40000, 0.5, 2), 44100, 2,
                                SF_FORMAT_WAV | SF_FORMAT_PCM_16);  // 0.907 s
  const auto ex = vggish_examples_from_file(path);
  EXPECT_EQ(ex.count, 0u);
  EXPECT_TRUE(ex.values.empty());
  EXPECT_NEAR(ex.duration_s(), 40000 / 44100.0, 1e-3);
  EXPECT_EQ(ex.source.channels, 2);
}

TEST(FileExamples, FileEqualsLoadThenFrontEnd) {
  tutti::testing::TempDir dir;
  const auto path = dir / "tone.flac";
  tutti::testing::write_sndfile(path, tutti::testing::sine(880, 22050, 22050 * 3, 0.5, 2), 22050, 2,
                                SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const auto ex = vggish_examples_from_file(path);
  LogMelFrontEnd fe;
  const auto expected = fe.examples(audio::load_mono_16k(path));
  EXPECT_EQ(ex.count, 3u);
  EXPECT_EQ(ex.values, expected);
  std::size_t seen = 0;
  const auto summary =
      for_each_example_in_file(path, LogMelConfig{}, [&](std::size_t i, std::span<const float> e) {
        EXPECT_EQ(i, seen++);
        ASSERT_EQ(e.size(), 96u * 64u);
        EXPECT_TRUE(std::equal(e.begin(), e.end(),
                               expected.begin() + static_cast<std::ptrdiff_t>(i * e.size())));
      });
  EXPECT_EQ(seen, 3u);
  EXPECT_EQ(summary.count, 3u);
  EXPECT_TRUE(summary.values.empty());
}

TEST(FileExamples, BadFileIsOneClearError) {
  tutti::testing::TempDir dir;
  tutti::testing::write_bytes(dir / "bad.wav", "RIFF....WAVEjunk");
  try {
    vggish_examples_from_file(dir / "bad.wav");
    FAIL() << "no error";
  } catch (const tutti::Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.wav"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tutti::features
