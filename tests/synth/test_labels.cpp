// Strong, weak and per-instance labels; the config's validation and JSON; noise and mixing.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/random.h"
#include "tutti/synth/composer.h"
#include "tutti/synth/labels.h"
#include "tutti/synth/mix.h"
#include "tutti/synth/synth_config.h"

namespace ts = tutti::synth;

namespace {

ts::Note note(double on_s, double off_s, int key = 60, int sr = 1000) {
  return {static_cast<std::int64_t>(std::lround(on_s * sr)),
          static_cast<std::int64_t>(std::lround(off_s * sr)), key, 100};
}

template <typename F>
void expect_usage_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no exception, expected one mentioning '" << needle << "'";
  } catch (const tutti::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(SynthLabels, MergeSegmentsJoinsGapsShorterThanTolerance) {
  const auto m =
      ts::merge_segments({{3.0, 4.0}, {0.0, 1.0}, {1.2, 2.0}, {2.5, 2.6}, {3.5, 3.7}}, 0.5);
  // 0-1 and 1.2-2 (gap 0.2) merge; 2.0 -> 2.5 is a gap of exactly 0.5: not shorter, kept apart;
  // 2.6 -> 3.0 (gap 0.4) merges; 3.5-3.7 lies inside 3-4.
  ASSERT_EQ(m.size(), 2u);
  EXPECT_DOUBLE_EQ(m[0].onset_s, 0.0);
  EXPECT_DOUBLE_EQ(m[0].offset_s, 2.0);
  EXPECT_DOUBLE_EQ(m[1].onset_s, 2.5);
  EXPECT_DOUBLE_EQ(m[1].offset_s, 4.0);
  EXPECT_EQ(ts::merge_segments({{0.0, 1.0}, {1.0, 2.0}}, 0.0).size(), 2u);  // touching, gap 0
  EXPECT_EQ(ts::merge_segments({{0.0, 1.5}, {1.0, 2.0}}, 0.0).size(), 1u);  // overlapping
}

TEST(SynthLabels, StrongLabelsFromNotesWithReleaseGapMergeAndClipEnd) {
  ts::Score s;
  s.sample_rate_hz = 1000;
  s.num_samples = 10000;  // 10 s
  ts::Part piano;
  piano.class_index = *ts::instrument_index("piano");
  piano.notes = {note(0.0, 1.0), note(1.3, 2.0, 64), note(4.0, 5.0), note(9.5, 10.0)};
  ts::Part piano2 = piano;  // the same class twice: union
  piano2.notes = {note(4.5, 6.0, 67)};
  ts::Part flute;
  flute.class_index = *ts::instrument_index("flute");
  flute.notes = {note(2.0, 3.0, 72)};
  s.parts = {flute, piano, piano2};
  const auto l = ts::strong_labels(s, 0.1, 0.5);
  // flute: [2.0, 3.1]; piano: [0, 2.1] (gap 1.1->1.3 merged), [4.0, 6.1], [9.5, 10.0] (clipped).
  const std::vector<ts::StrongLabel> expected = {
      {ts::instrument_index("flute").value(), 2.0, 3.1},
      {ts::instrument_index("piano").value(), 0.0, 2.1},
      {ts::instrument_index("piano").value(), 4.0, 6.1},
      {ts::instrument_index("piano").value(), 9.5, 10.0}};
  ASSERT_EQ(l.size(), expected.size());
  for (std::size_t i = 0; i < l.size(); ++i) {
    EXPECT_EQ(l[i].class_index, expected[i].class_index) << i;
    EXPECT_NEAR(l[i].onset_s, expected[i].onset_s, 1e-12) << i;
    EXPECT_NEAR(l[i].offset_s, expected[i].offset_s, 1e-12) << i;
  }
  // No merging, no release: notes stay separate unless they overlap (4-5 and 4.5-6).
  EXPECT_EQ(ts::strong_labels(s, 0.0, 0.0).size(), 5u);
  expect_usage_error([&] { ts::strong_labels(s, -0.1, 0.5); }, "release_s");
}

TEST(SynthLabels, WeakLabelsPresentAbsentUnknown) {
  const auto pal = ts::Palette::general_midi();
  const auto playable = pal.playable();
  const int piano = *ts::instrument_index("piano"), drums = *ts::instrument_index("drums");
  const std::vector<ts::StrongLabel> strong = {{piano, 0, 1}, {drums, 2, 3}, {piano, 4, 5}};
  const auto w = ts::weak_labels(strong, playable);
  ASSERT_EQ(w.relevance.size(), 20u);
  for (int c = 0; c < 20; ++c) {
    const auto& name = ts::instrument_classes()[static_cast<std::size_t>(c)].name;
    if (name == "mandolin" || name == "ukulele") {
      EXPECT_EQ(w.known[static_cast<std::size_t>(c)], 0) << name;
    } else {
      EXPECT_EQ(w.known[static_cast<std::size_t>(c)], 1) << name;
      EXPECT_EQ(w.relevance[static_cast<std::size_t>(c)], (c == piano || c == drums) ? 1.0f : 0.0f)
          << name;
    }
  }
}

TEST(SynthLabels, InstanceTruthMatchesNumpyReference) {
  const auto cases =
      tutti::core::read_json_file(tutti::testing::fixture("synth/instance_truth.json"));
  ASSERT_GE(cases.size(), 5u);
  int active_total = 0;
  for (const auto& c : cases) {
    std::vector<ts::StrongLabel> labels;
    for (const auto& l : c["labels"])
      labels.push_back({l[0].get<int>(), l[1].get<double>(), l[2].get<double>()});
    const auto t =
        ts::instance_truth(labels, c["num_classes"].get<int>(), c["num_instances"].get<int>(),
                           c["hop_s"].get<double>(), c["fraction"].get<double>());
    const auto& ref = c["active"];
    ASSERT_EQ(t.num_instances, static_cast<int>(ref.size()));
    for (int k = 0; k < t.num_instances; ++k)
      for (int j = 0; j < t.num_classes; ++j) {
        EXPECT_EQ(t.at(k, j),
                  ref[static_cast<std::size_t>(k)][static_cast<std::size_t>(j)].get<int>())
            << "k=" << k << " c=" << j;
        active_total += t.at(k, j);
      }
  }
  EXPECT_GT(active_total, 5);  // the reference exercises both outcomes
}

TEST(SynthLabels, InstanceTruthBoundariesAndErrors) {
  // One class sounding [0, 0.48) and [1.0, 1.92): instance 0 covers 0.48/0.96 = exactly half.
  const std::vector<ts::StrongLabel> l = {{0, 0.0, 0.48}, {0, 1.0, 1.92}, {0, 1.1, 1.5}};
  auto t = ts::instance_truth(l, 1, 3, 0.96, 0.5);
  EXPECT_EQ(t.at(0, 0), 1);  // exactly f counts
  EXPECT_EQ(t.at(1, 0), 1);  // 0.92 of 0.96
  EXPECT_EQ(t.at(2, 0), 0);
  t = ts::instance_truth(l, 1, 3, 0.96, 0.6);
  EXPECT_EQ(t.at(0, 0), 0);
  EXPECT_EQ(ts::num_instances(10.0, 0.96), 10);
  EXPECT_EQ(ts::num_instances(0.5, 0.96), 1);
  expect_usage_error([&] { ts::instance_truth(l, 1, 3, 0.0, 0.5); }, "hop_s");
  expect_usage_error([&] { ts::instance_truth(l, 1, 3, 0.96, 0.0); }, "fraction");
  expect_usage_error([&] { ts::instance_truth(l, 1, 3, 0.96, 1.5); }, "fraction");
  expect_usage_error([&] { ts::instance_truth(l, 1, 0, 0.96, 0.5); }, "K >= 1");
  expect_usage_error([&] { ts::instance_truth({{{3, 0, 1}}}, 2, 3, 0.96, 0.5); }, "class index 3");
}

TEST(SynthConfig, DefaultsValidateAndJsonRoundTrips) {
  ts::SynthConfig c;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.duration_s, 10.0);
  EXPECT_EQ(c.sample_rate_hz, 44100);
  EXPECT_EQ(c.max_instruments(), 5);
  c.noise_snr_db = 12.5;
  c.noise_color = ts::NoiseColor::kPink;
  c.classes = {"piano", "drums"};
  c.instruments_per_clip = {1, 1};
  c.sample_format = ts::SampleFormat::kFloat;
  c.seed = 1234567890123ULL;
  const auto j = ts::to_json(c);
  const auto back = ts::synth_config_from_json(j);
  EXPECT_EQ(ts::to_json(back), j);
  EXPECT_EQ(back.noise_snr_db.value(), 12.5);
  EXPECT_EQ(back.seed, 1234567890123ULL);
  // A key written only when set: files of a tutti without it read the same as before.
  EXPECT_FALSE(j.contains("any_role_probability"));
  c.any_role_probability = 0.25;
  EXPECT_EQ(ts::synth_config_from_json(ts::to_json(c)).any_role_probability, 0.25);
  EXPECT_FALSE(j.contains("any_instrument_probability"));
  c.any_instrument_probability = 0.75;
  EXPECT_EQ(ts::synth_config_from_json(ts::to_json(c)).any_instrument_probability, 0.75);
  EXPECT_FALSE(j.contains("rhythm_section_probability"));
  c.rhythm_section_probability = 0.8;
  EXPECT_EQ(ts::synth_config_from_json(ts::to_json(c)).rhythm_section_probability, 0.8);
  EXPECT_FALSE(j.contains("drop_part_probability"));
  c.drop_part_probability = 0.5;
  EXPECT_EQ(ts::synth_config_from_json(ts::to_json(c)).drop_part_probability, 0.5);
  EXPECT_FALSE(j.contains("timbre_probability"));
  c.timbre_probability = 0.25;
  EXPECT_EQ(ts::synth_config_from_json(ts::to_json(c)).timbre_probability, 0.25);
  expect_usage_error([] { ts::synth_config_from_json({{"n_clip", 3}}); }, "unknown key 'n_clip'");
  expect_usage_error([] { ts::synth_config_from_json({{"n_clips", "three"}}); }, "n_clips");
  expect_usage_error([] { ts::synth_config_from_json({{"noise_color", "brown"}}); }, "brown");
}

TEST(SynthConfig, ImpossibleOptionsAreUsageErrors) {
  auto bad = [](auto mutate, const std::string& needle) {
    ts::SynthConfig c;
    mutate(c);
    expect_usage_error([&] { c.validate(); }, needle);
  };
  bad([](auto& c) { c.n_clips = 0; }, "n_clips");
  bad([](auto& c) { c.duration_s = 0; }, "duration_s");
  bad([](auto& c) { c.duration_s = -3; }, "duration_s");
  bad([](auto& c) { c.duration_s = NAN; }, "duration_s");
  bad([](auto& c) { c.sample_rate_hz = 100; }, "sample_rate_hz");
  bad([](auto& c) { c.channels = 3; }, "channels");
  bad([](auto& c) { c.instruments_per_clip.assign(19, 1.0); }, "only 18 classes");
  bad(
      [](auto& c) {
        c.classes = {"piano", "flute"};
        c.instruments_per_clip = {1, 1, 1};
      },
      "only 2 classes");
  bad([](auto& c) { c.instruments_per_clip = {}; }, "instruments_per_clip");
  bad([](auto& c) { c.instruments_per_clip = {0, 0}; }, "sum to 0");
  bad([](auto& c) { c.instruments_per_clip = {1, -1}; }, ">= 0");
  bad([](auto& c) { c.noise_snr_db = NAN; }, "noise_snr_db");
  bad([](auto& c) { c.noise_snr_db = 1000; }, "noise_snr_db");
  bad([](auto& c) { c.classes = {"kazoo"}; }, "unknown instrument class 'kazoo'");
  bad([](auto& c) { c.classes = {"mandolin"}; }, "no General MIDI program");
  bad([](auto& c) { c.classes = {"piano", "piano"}; }, "twice");
  bad([](auto& c) { c.partial_probability = 1.5; }, "partial_probability");
  bad([](auto& c) { c.any_role_probability = -0.1; }, "any_role_probability must be in [0, 1]");
  bad([](auto& c) { c.rhythm_section_probability = 2; },
      "rhythm_section_probability must be in [0, 1]");
  bad(
      [](auto& c) {
        c.rhythm_section_probability = 0.5;
        c.midi = {"song.mid"};
      },
      "rhythm_section_probability is for the composer, not MIDI files (--midi)");
  bad(
      [](auto& c) {
        c.any_role_probability = 0.5;
        c.midi = {"song.mid"};
      },
      "for MIDI files (--midi) use any_instrument_probability");
  bad(
      [](auto& c) {
        c.any_instrument_probability = 1.5;
        c.midi = {"song.mid"};
      },
      "any_instrument_probability must be in [0, 1]");
  bad([](auto& c) { c.any_instrument_probability = 0.5; },
      "any_instrument_probability is for MIDI files (--midi); for the composer use "
      "any_role_probability");
  bad(
      [](auto& c) {
        c.drop_part_probability = -0.5;
        c.midi = {"song.mid"};
      },
      "drop_part_probability must be in [0, 1]");
  bad([](auto& c) { c.drop_part_probability = 0.5; },
      "drop_part_probability is for MIDI files (--midi)");
  bad([](auto& c) { c.timbre_probability = 1.5; }, "timbre_probability must be in [0, 1], got 1.5");
  bad([](auto& c) { c.instance_fraction = 0; }, "instance_fraction");
  bad([](auto& c) { c.hop_s = 0; }, "hop_s");
  bad([](auto& c) { c.release_s = -1; }, "release_s");
  bad([](auto& c) { c.merge_gap_s = -1; }, "merge_gap_s");
  bad([](auto& c) { c.threads = -1; }, "threads");
  bad([](auto& c) { c.clips_per_synth = 0; }, "clips_per_synth");
  bad([](auto& c) { c.soundfont = ""; }, "soundfont");
  bad([](auto& c) { c.max_peak_dbfs = 3; }, "peak range");
}

TEST(SynthMix, NoiseIsAddedAtTheRequestedSnr) {
  tutti::core::Rng rng(3);
  std::vector<float> clean(2 * 44100);
  for (std::size_t i = 0; i < clean.size(); ++i)  // a decaying tone, uneven power over time
    clean[i] = static_cast<float>(0.5 * std::sin(0.05 * i) * std::exp(-1e-5 * i));
  for (auto color : {ts::NoiseColor::kWhite, ts::NoiseColor::kPink}) {
    for (double snr : {-5.0, 0.0, 10.0, 30.0}) {
      auto x = clean;
      const auto noise = ts::add_noise(x, 2, snr, color, 77);
      std::vector<float> diff(x.size());
      for (std::size_t i = 0; i < x.size(); ++i) diff[i] = x[i] - clean[i];
      const double measured = 10 * std::log10(ts::mean_square(clean) / ts::mean_square(diff));
      EXPECT_NEAR(measured, snr, 1e-3) << ts::noise_color_name(color);
      EXPECT_NEAR(10 * std::log10(ts::mean_square(clean) / ts::mean_square(noise)), snr, 1e-6);
    }
  }
  // Deterministic per seed, different across seeds.
  EXPECT_EQ(ts::make_noise(1000, 1, ts::NoiseColor::kPink, 5),
            ts::make_noise(1000, 1, ts::NoiseColor::kPink, 5));
  EXPECT_NE(ts::make_noise(1000, 1, ts::NoiseColor::kPink, 5),
            ts::make_noise(1000, 1, ts::NoiseColor::kPink, 6));
  // A silent clip gets no noise; a non-finite SNR is a usage error.
  std::vector<float> silent(100, 0.0f);
  ts::add_noise(silent, 1, 10, ts::NoiseColor::kWhite, 1);
  EXPECT_EQ(ts::peak_abs(silent), 0.0);
  expect_usage_error([&] { ts::add_noise(silent, 1, INFINITY, ts::NoiseColor::kWhite, 1); }, "SNR");
}

TEST(SynthMix, WhiteIsFlatPinkIsLowPassed) {
  // E[(x[n]-x[n-1])^2] / E[x^2] = 2 for white noise; pink noise has most power at low frequencies.
  for (int ch : {1, 2}) {
    for (auto color : {ts::NoiseColor::kWhite, ts::NoiseColor::kPink}) {
      const auto x = ts::make_noise(200000, ch, color, 11);
      double d = 0, p = 0;
      for (std::size_t i = static_cast<std::size_t>(ch); i < x.size(); ++i) {
        const double diff = x[i] - x[i - static_cast<std::size_t>(ch)];
        d += diff * diff;
        p += static_cast<double>(x[i]) * x[i];
      }
      EXPECT_NEAR(p / static_cast<double>(x.size()), 1.0, 0.02);  // unit variance
      if (color == ts::NoiseColor::kWhite)
        EXPECT_NEAR(d / p, 2.0, 0.03);
      else
        EXPECT_LT(d / p, 0.5);
    }
  }
}

TEST(SynthMix, PinkFilterMatchesScipyReference) {
  const auto j = tutti::core::read_json_file(tutti::testing::fixture("synth/pink_filter.json"));
  const auto white = j["white"].get<std::vector<double>>();
  const auto ref = j["pink"].get<std::vector<double>>();
  const auto y = ts::pink_filter(white);
  ASSERT_EQ(y.size(), ref.size());
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], ref[i], 1e-9) << i;
}

TEST(SynthMix, ChannelsAndPeakNormalization) {
  const std::vector<float> lr = {1.0f, 0.0f, -0.5f, 0.5f, 0.25f, 0.75f};
  EXPECT_EQ(ts::to_channels(lr, 2), lr);
  EXPECT_EQ(ts::to_channels(lr, 1), (std::vector<float>{0.5f, 0.0f, 0.5f}));
  std::vector<float> x = {0.1f, -0.4f, 0.2f};
  const double g = ts::normalize_peak(x, 0.5);
  EXPECT_NEAR(g, 1.25, 1e-6);
  EXPECT_NEAR(ts::peak_abs(x), 0.5, 1e-6);
  EXPECT_NEAR(ts::mean_square(std::vector<float>{1.0f, -1.0f, 0.0f, 0.0f}), 0.5, 1e-12);
}

TEST(SynthRng, DeterministicAndInRange) {
  tutti::core::Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const auto x = a.next();
    EXPECT_EQ(x, b.next());
    differs |= x != c.next();
  }
  EXPECT_TRUE(differs);
  for (int i = 0; i < 1000; ++i) {
    const int k = a.uniform_int(-3, 4);
    EXPECT_GE(k, -3);
    EXPECT_LE(k, 4);
    const double u = a.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
  EXPECT_NE(tutti::core::derive_seed(1, 0, 0), tutti::core::derive_seed(1, 1, 0));
  EXPECT_NE(tutti::core::derive_seed(1, 0, 0), tutti::core::derive_seed(1, 0, 1));
  EXPECT_NE(tutti::core::derive_seed(1, 0, 0), tutti::core::derive_seed(2, 0, 0));
}
