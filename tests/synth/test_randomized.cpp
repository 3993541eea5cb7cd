// Randomized synthesis: the old flags keep their bytes, soundfont pools and the FluidR3 rule,
// program draws, and each effect recorded and measured on the audio or the labels.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "synth_test_util.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/random.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/effects.h"
#include "tutti/synth/font_pool.h"
#include "tutti/synth/mix.h"

namespace ts = tutti::synth;
namespace fs = std::filesystem;

namespace {

const std::string kTim = tutti::testing::kTimGm6mb;
#define REQUIRE_TIM() \
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim

ts::SynthConfig pool_config() {
  ts::SynthConfig c;
  c.n_clips = 6;
  c.duration_s = 1.5;
  c.seed = 11;
  c.sample_rate_hz = 16000;
  c.channels = 2;
  c.clips_per_synth = 3;
  c.threads = 1;
  c.instruments_per_clip = {1.0};
  return c;
}

// One long note of a melodic GM program, the rest of the clip silent.
ts::Score one_note(int program_1based, int key, double on_s, double off_s, double clip_s,
                   int rate = 16000) {
  ts::Score s;
  s.sample_rate_hz = rate;
  s.num_samples = static_cast<std::int64_t>(clip_s * rate);
  s.peak_dbfs = -6;
  ts::Part p;
  p.class_index = ts::class_of_gm_program(program_1based);
  p.program = program_1based - 1;
  auto grid = [&](double t) { return static_cast<std::int64_t>(t * rate) / 64 * 64; };
  p.notes.push_back({grid(on_s), grid(off_s), key, 100});
  s.parts.push_back(p);
  return s;
}

double energy(const std::vector<float>& x, std::size_t from, std::size_t to) {
  double e = 0;
  for (std::size_t i = from; i < std::min(to, x.size()); ++i) e += double{x[i]} * x[i];
  return e;
}

}  // namespace

// Reference: main's build/tutti before randomized synthesis existed, commands
//   tutti synth -n 3 --seed 5 --duration 3 --threads 1 -o A
//   tutti synth -n 2 --seed 9 --duration 2 --sample-rate 16000 --channels 1 --snr 20 --noise pink
//               --format float -o B
// and `md5sum` of every file but synth.json (it records the version).
TEST(SynthRandomized, OldFlagsKeepTheirBytes) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  ts::SynthConfig a;
  a.n_clips = 3;
  a.seed = 5;
  a.duration_s = 3;
  a.threads = 1;
  ts::write_synth_dataset(a, tmp / "a");
  const std::map<std::string, std::string> want_a = {
      {"audio/synth_000000.wav", "f71e83d93227e2d1e8243f09a1d4b428"},
      {"audio/synth_000001.wav", "06df756002b000161d24b2f776270f16"},
      {"audio/synth_000002.wav", "5e0408d0e75aecab5b02a9236daaa970"},
      {"instances.csv", "daa5a27c4ff5831eb1f68793128bfa67"},
      {"labels.csv", "10fe1651422c723c0144ee3f6eb10579"},
      {"strong.csv", "4b828adac5d44c24a987c70682c78d3f"}};
  EXPECT_EQ(tutti::testing::file_md5s(tmp / "a"), want_a);
  const auto meta = tutti::core::Json::parse(tutti::core::read_file_text(tmp / "a" / "synth.json"));
  EXPECT_FALSE(meta["config"].contains("effects"));
  EXPECT_FALSE(meta.contains("soundfonts"));

  ts::SynthConfig b;
  b.n_clips = 2;
  b.seed = 9;
  b.duration_s = 2;
  b.sample_rate_hz = 16000;
  b.channels = 1;
  b.noise_snr_db = 20;
  b.noise_color = ts::NoiseColor::kPink;
  b.sample_format = ts::SampleFormat::kFloat;
  ts::write_synth_dataset(b, tmp / "b");
  const std::map<std::string, std::string> want_b = {
      {"audio/synth_000000.wav", "e117357849c90967ed6a98fbcbb7ab6c"},
      {"audio/synth_000001.wav", "4cd57f434883c03a6cff80ab7e3f07d2"},
      {"instances.csv", "0bdbbb4c82b0b8b3956675c9c673ffc8"},
      {"labels.csv", "dc6eab4db6fb7eaed9ae768f2bed42ea"},
      {"strong.csv", "84186c87555a7026cd9a8a360a94a764"}};
  EXPECT_EQ(tutti::testing::file_md5s(tmp / "b"), want_b);
}

TEST(SynthRandomized, PoolDrawsEveryFontEvenlyAndDeterministically) {
  std::map<int, int> count;
  for (int i = 0; i < 300; ++i) {
    const int f = ts::draw_soundfont(42, i, 3);
    EXPECT_EQ(f, ts::draw_soundfont(42, i, 3));
    ++count[f];
  }
  ASSERT_EQ(count.size(), 3u);
  for (const auto& [f, n] : count) EXPECT_GT(n, 70) << "font " << f;
  EXPECT_EQ(ts::draw_soundfont(42, 5, 1), 0);
}

TEST(SynthRandomized, ClipsRecordTheirFontProgramsAndEffects) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  auto cfg = pool_config();
  const auto tiny = tutti::testing::fixture("synth/tiny.sf2").string();
  cfg.soundfonts = {kTim, tiny};
  cfg.effects = true;
  ts::write_synth_dataset(cfg, tmp / "d");
  const auto rows = tutti::testing::csv_cells(tmp / "d" / "clips.csv");
  ASSERT_EQ(rows.size(), 7u);
  std::set<std::string> fonts;
  for (int i = 0; i < cfg.n_clips; ++i) {
    const auto& r = rows[static_cast<std::size_t>(i) + 1];
    ASSERT_EQ(r.size(), 25u) << i;
    EXPECT_EQ(r[0], ts::clip_name(i) + ".wav");
    EXPECT_EQ(r[1], "composer");
    EXPECT_EQ(r[4], ts::draw_soundfont(cfg.seed, i, 2) == 0 ? kTim : tiny);
    fonts.insert(r[4]);
    // The drawn effects, as draw_effects gives them for this clip.
    const auto fx = ts::draw_effects(ts::clip_seed(cfg.seed, i, 3), 1, cfg);
    EXPECT_NEAR(std::stod(r[6]), fx.tempo_factor, 1e-5);
    EXPECT_NEAR(std::stod(r[18]), fx.peak_dbfs, 1e-4);
    EXPECT_NE(r[5].find(':'), std::string::npos);  // class:program
  }
  EXPECT_EQ(fonts.size(), 2u);
  const auto meta = tutti::core::Json::parse(tutti::core::read_file_text(tmp / "d" / "synth.json"));
  EXPECT_EQ(meta["soundfonts"].size(), 2u);
  EXPECT_TRUE(meta["config"]["effects"].get<bool>());

  // Same seed, other thread count: the same bytes.
  cfg.threads = 2;
  ts::write_synth_dataset(cfg, tmp / "e");
  EXPECT_EQ(tutti::testing::file_md5s(tmp / "d"), tutti::testing::file_md5s(tmp / "e"));
  cfg.seed = 12;
  ts::write_synth_dataset(cfg, tmp / "f");
  EXPECT_NE(tutti::testing::file_md5s(tmp / "d"), tutti::testing::file_md5s(tmp / "f"));
}

TEST(SynthRandomized, FluidR3IsRefusedForTrainingSets) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  // By file name (through a link, as default-GM.sf2 points to FluidR3_GM.sf2) ...
  fs::create_symlink(kTim, tmp / "FluidR3_GM.sf2");
  fs::create_symlink(tmp / "FluidR3_GM.sf2", tmp / "default-GM.sf2");
  // ... and by the font's own name (INFO/INAM), whatever the file is called.
  auto bytes = tutti::core::read_file_text(tutti::testing::fixture("synth/tiny.sf2"));
  const auto at = bytes.find("tutti test font");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 15, "Fluid R3 GM    ");
  std::ofstream(tmp / "renamed.sf2", std::ios::binary) << bytes;
  EXPECT_EQ(ts::soundfont_info_name(tmp / "renamed.sf2"), "Fluid R3 GM    ");

  auto cfg = pool_config();
  cfg.n_clips = 1;
  for (const auto& f : {"FluidR3_GM.sf2", "default-GM.sf2", "renamed.sf2"}) {
    cfg.soundfonts = {kTim, (tmp / f).string()};
    const auto msg = tutti::testing::error_of([&] { ts::write_synth_dataset(cfg, tmp / "out"); });
    EXPECT_NE(msg.find("FluidR3"), std::string::npos) << msg;
    EXPECT_NE(msg.find(f), std::string::npos) << msg;
    EXPECT_NE(msg.find("--test-font-ok"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(tmp / "out"));
  }
  cfg.soundfonts.clear();
  cfg.soundfont = (tmp / "FluidR3_GM.sf2").string();  // a single font too
  EXPECT_NE(
      tutti::testing::error_of([&] { ts::write_synth_dataset(cfg, tmp / "out"); }).find("FluidR3"),
      std::string::npos);
  cfg.test_font_ok = true;  // a test set
  ts::write_synth_dataset(cfg, tmp / "out");
  EXPECT_TRUE(fs::exists(tmp / "out" / "labels.csv"));
  EXPECT_FALSE(ts::fluidr3_reason(kTim).has_value());
}

TEST(SynthRandomized, BadSoundfontsAreNamed) {
  tutti::testing::TempDir tmp;
  fs::create_directories(tmp / "empty");
  std::ofstream(tmp / "junk.sf2") << "not a soundfont at all";
  auto cfg = pool_config();
  cfg.soundfonts = {(tmp / "empty").string()};
  auto msg = tutti::testing::error_of([&] { ts::write_synth_dataset(cfg, tmp / "o"); });
  EXPECT_NE(msg.find("no .sf2 or .sf3"), std::string::npos) << msg;
  cfg.soundfonts = {(tmp / "missing.sf2").string()};
  msg = tutti::testing::error_of([&] { ts::write_synth_dataset(cfg, tmp / "o"); });
  EXPECT_NE(msg.find("missing.sf2"), std::string::npos) << msg;
  cfg.soundfonts = {tutti::testing::fixture("synth/tiny.sf2").string(),
                    (tmp / "junk.sf2").string()};
  msg = tutti::testing::error_of([&] { ts::write_synth_dataset(cfg, tmp / "o"); });
  EXPECT_NE(msg.find("junk.sf2"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp / "o"));
}

TEST(SynthRandomized, ProgramDrawsCoverEveryProgramOfAClass) {
  const auto palette = ts::Palette::general_midi();
  ts::ComposerOptions opt;
  opt.duration_s = 1;
  opt.instruments_per_clip = {0, 0, 0, 0, 1};
  std::map<int, std::set<int>> seen;
  for (std::uint64_t seed = 0; seed < 600; ++seed)
    for (const auto& p : ts::compose(opt, palette, seed).parts)
      if (p.bank == 0) seen[p.class_index].insert(p.program + 1);
  for (int c : ts::synthesizable_classes()) {
    const auto& cls = ts::instrument_classes()[static_cast<std::size_t>(c)];
    if (cls.percussion) continue;
    EXPECT_EQ(seen[c], std::set<int>(cls.gm_programs.begin(), cls.gm_programs.end())) << cls.name;
  }
}

TEST(SynthRandomized, OutputLevelIsTheRecordedPeak) {
  REQUIRE_TIM();
  ts::FluidSynthesizer synth(kTim, 16000, false);
  auto cfg = pool_config();
  cfg.reverb = false;
  const auto palette = ts::Palette::general_midi();
  ts::EffectsParams fx;
  for (double peak : {-3.0, -17.5}) {
    fx.peak_dbfs = peak;
    auto clip = ts::synthesize_clip(synth, cfg, palette, 0, one_note(1, 60, 0.1, 0.8, 1.0), &fx);
    EXPECT_NEAR(20 * std::log10(ts::peak_abs(clip.audio)), peak, 1e-3);
  }
}

TEST(SynthRandomized, RoomReverbLengthensTheDecay) {
  REQUIRE_TIM();
  ts::FluidSynthesizer synth(kTim, 16000, false);
  auto cfg = pool_config();
  cfg.reverb = false;
  const auto palette = ts::Palette::general_midi();
  ts::EffectsParams dry, wet;
  wet.reverb_rt60_s = 1.2;
  wet.reverb_wet = 0.3;
  auto tail = [&](const ts::EffectsParams& fx) {
    auto clip = ts::synthesize_clip(synth, cfg, palette, 0, one_note(1, 60, 0.0, 0.2, 2.0), &fx);
    // Energy 0.6-1.6 s (well after the note and its release) over the energy of the note.
    return energy(clip.audio, 2 * 9600, 2 * 25600) / energy(clip.audio, 0, 2 * 6400);
  };
  const double t_dry = tail(dry), t_wet = tail(wet);
  EXPECT_GT(t_wet, 10 * t_dry + 1e-6) << t_dry << " " << t_wet;
  // The response decays by 60 dB over rt60: compare 0.1 s windows at 0 and 0.6 s (-30 dB).
  const auto ir = ts::room_impulse_response(16000, 1.2, 0.0, 3);
  ASSERT_EQ(ir.size(), 19200u);
  const double e0 = energy(ir, 0, 1600), e1 = energy(ir, 9600, 11200);
  EXPECT_NEAR(10 * std::log10(e0 / e1), 30.0, 2.0);
}

TEST(SynthRandomized, TempoChangeScalesNoteTimesAndLabels) {
  const auto palette = ts::Palette::general_midi();
  ts::ComposerOptions opt;
  opt.duration_s = 4;
  opt.sample_rate_hz = 16000;
  opt.partial_probability = 0;
  const auto score = ts::compose(opt, palette, 7);
  for (double f : {0.92, 1.08}) {
    auto fast = score;
    ts::EffectsParams fx;
    fx.tempo_factor = f;
    ts::apply_score_effects(fast, fx);
    ASSERT_EQ(fast.parts.size(), score.parts.size());
    for (std::size_t p = 0; p < score.parts.size(); ++p)
      for (std::size_t i = 0; i < fast.parts[p].notes.size(); ++i)
        EXPECT_NEAR(static_cast<double>(fast.parts[p].notes[i].on),
                    static_cast<double>(score.parts[p].notes[i].on) / f, 64.0);
    // Strong labels follow: each class's first onset scales by 1/f.
    const auto a = ts::strong_labels(score, 0.1, 0.5), b = ts::strong_labels(fast, 0.1, 0.5);
    std::map<int, double> first_a, first_b;
    for (const auto& s : a) first_a.try_emplace(s.class_index, s.onset_s);
    for (const auto& s : b) first_b.try_emplace(s.class_index, s.onset_s);
    for (const auto& [c, t] : first_a) EXPECT_NEAR(first_b[c], t / f, 0.005);
  }
}

TEST(SynthRandomized, PartLevelsDetuneCompressionAndWidth) {
  ts::Score s = one_note(1, 60, 0, 0.5, 1.0);
  s.parts[0].volume = 100;
  ts::EffectsParams fx;
  fx.part_level_db = {-6.0};
  ts::apply_score_effects(s, fx);
  EXPECT_EQ(s.parts[0].volume, 71);  // 100 * 10^(-6/40), GM's 40 log10 volume curve
  // A volume change scales as the part's volume, and moves with the tempo (1 s -> 0.5 s at
  // twice the speed; a change past the clip's end goes).
  s.parts[0].volume_changes = {{16000, 127}, {24064, 40}, {80000, 10}};
  fx.part_level_db = {-6.0};
  fx.tempo_factor = 2;
  s.num_samples = 2 * 16000;
  ts::apply_score_effects(s, fx);
  ASSERT_EQ(s.parts[0].volume_changes.size(), 2u);
  EXPECT_EQ(s.parts[0].volume_changes[0].sample, 8000);
  EXPECT_EQ(s.parts[0].volume_changes[0].volume, 90);  // 127 * 10^(-6/40) = 89.9
  EXPECT_EQ(s.parts[0].volume_changes[1].sample, 12032);
  EXPECT_EQ(s.parts[0].volume_changes[1].volume, 28);  // 40 * 10^(-6/40) = 28.3
  fx.part_level_db.clear();
  fx.tempo_factor = 1;
  fx.detune_cents = 12.5;
  ts::apply_score_effects(s, fx);
  EXPECT_EQ(s.detune_cents, 12.5);

  // Compressor: a step from -20 dB to 0 dB, threshold -6 dB re peak, ratio 4: after the attack
  // the loud part sits at 0 - 6 * (1 - 1/4) = -4.5 dB.
  std::vector<float> x(2 * 16000);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = i < x.size() / 2 ? 0.1f : 1.0f;
  ts::compress(x, 16000, -6, 4, 0.005, 0.1);
  EXPECT_NEAR(20 * std::log10(x.back()), -4.5, 0.01);
  EXPECT_NEAR(x[100], 0.1f, 1e-6);  // below threshold: untouched

  // Width 0: mono; width 1: unchanged.
  std::vector<float> lr = {1.0f, -1.0f, 0.5f, 0.25f};
  ts::EffectsParams w;
  w.stereo_width = 0;
  auto m = lr;
  ts::apply_audio_effects(m, 16000, w, 1);
  EXPECT_FLOAT_EQ(m[0], m[1]);
  EXPECT_FLOAT_EQ(m[2], 0.375f);
}

TEST(SynthRandomized, DetuneShiftsThePitch) {
  REQUIRE_TIM();
  ts::FluidSynthesizer synth(kTim, 16000, false);
  // Flute (GM 74) A4: the fundamental dominates; find it with a DFT scan 400-500 Hz.
  auto pitch = [&](double cents) {
    auto s = one_note(74, 69, 0.0, 1.0, 1.0);
    s.detune_cents = cents;
    const auto lr = synth.render(s);
    double best = 0, best_f = 0;
    for (double f = 400; f <= 500; f += 0.25) {
      double re = 0, im = 0;
      for (std::size_t i = 3200; i < 16000; ++i) {
        const double ph = 2 * M_PI * f * static_cast<double>(i) / 16000;
        re += lr[2 * i] * std::cos(ph);
        im += lr[2 * i] * std::sin(ph);
      }
      if (re * re + im * im > best) best = re * re + im * im, best_f = f;
    }
    return best_f;
  };
  const double f0 = pitch(0), f1 = pitch(50), f2 = pitch(0);
  EXPECT_NEAR(1200 * std::log2(f1 / f0), 50, 3);
  EXPECT_EQ(f0, f2);  // a later clip without detune is back in tune
}

TEST(SynthRandomized, RoomAndTiltAreALinearConvolution) {
  // Reverb only: y = x + wet * (x * h), checked against the direct sum (no FFT).
  const int rate = 8000;
  std::vector<float> lr(2 * 1200, 0.0f);
  for (std::size_t i = 0; i < lr.size(); ++i)
    lr[i] = static_cast<float>(std::sin(0.01 * static_cast<double>(i * i % 977)));
  ts::EffectsParams fx;
  fx.reverb_rt60_s = 0.05;
  fx.reverb_wet = 0.3;
  fx.reverb_predelay_s = 0.002;
  auto y = lr;
  ts::apply_audio_effects(y, rate, fx, 99);
  for (int c = 0; c < 2; ++c) {
    const auto h = ts::room_impulse_response(rate, 0.05, 0.002, tutti::core::derive_seed(99, c, 0));
    ASSERT_EQ(h.size(), 416u);
    for (std::size_t n = 0; n < 1200; n += 37) {
      double acc = 0;
      for (std::size_t k = 0; k < h.size() && k <= n; ++k)
        acc += double{h[k]} * lr[2 * (n - k) + static_cast<std::size_t>(c)];
      EXPECT_NEAR(y[2 * n + static_cast<std::size_t>(c)],
                  lr[2 * n + static_cast<std::size_t>(c)] + 0.3 * acc, 2e-5)
          << c << " " << n;
    }
  }
  // Tilt only: +2 dB/octave raises a 4 kHz sine by 4 dB and lowers a 250 Hz sine by 4 dB.
  auto tone_gain = [&](double f) {
    std::vector<float> s(2 * 8000);
    for (std::size_t i = 0; i < 8000; ++i)
      s[2 * i] = s[2 * i + 1] = static_cast<float>(std::sin(2 * M_PI * f * i / 16000.0));
    auto t = s;
    ts::EffectsParams tilt;
    tilt.tilt_db_per_octave = 2;
    ts::apply_audio_effects(t, 16000, tilt, 1);
    return 10 * std::log10(energy(t, 4000, 12000) / energy(s, 4000, 12000));
  };
  EXPECT_NEAR(tone_gain(4000), 4.0, 0.1);
  EXPECT_NEAR(tone_gain(250), -4.0, 0.1);
}

TEST(SynthRandomized, MandolinAndUkuleleFromGsVariationPresets) {
  const std::string gm_bank = "/usr/share/sounds/sf2/sf_GMbank.sf2";  // csound-soundfont
  if (!fs::exists(gm_bank)) GTEST_SKIP() << "not installed: " << gm_bank;
  ts::FluidSynthesizer synth(gm_bank, 16000, false);
  const auto old_report = synth.check();
  const int mandolin = *ts::instrument_index("mandolin"),
            ukulele = *ts::instrument_index("ukulele");
  EXPECT_EQ(old_report.classes[static_cast<std::size_t>(mandolin)].status,
            ts::ClassStatus::kNoGeneralMidi);  // single-font synthesis: as before
  const auto report = synth.check(/*variations=*/true);
  const auto& m = report.classes[static_cast<std::size_t>(mandolin)];
  EXPECT_EQ(m.status, ts::ClassStatus::kOk);
  EXPECT_EQ(m.variations, (std::vector<std::pair<int, int>>{{16, 25}}));
  EXPECT_EQ(report.classes[static_cast<std::size_t>(ukulele)].variations,
            (std::vector<std::pair<int, int>>{{8, 24}}));
  const auto palette = report.palette();
  EXPECT_TRUE(palette.playable()[static_cast<std::size_t>(mandolin)]);
  // The composer plays them with their bank, and they sound.
  ts::ComposerOptions opt;
  opt.duration_s = 1;
  opt.sample_rate_hz = 16000;
  opt.classes = {mandolin, ukulele};
  opt.instruments_per_clip = {0, 1};
  const auto score = ts::compose(opt, palette, 5);
  ASSERT_EQ(score.parts.size(), 2u);
  EXPECT_EQ(score.parts[0].bank, 16);
  EXPECT_EQ(score.parts[1].bank, 8);
  EXPECT_GT(ts::peak_abs(synth.render(score)), 1e-3);
  // A font without them leaves the classes unknown.
  if (fs::exists(kTim)) {
    ts::FluidSynthesizer tim(kTim, 16000, false);
    EXPECT_EQ(tim.check(true).classes[static_cast<std::size_t>(mandolin)].status,
              ts::ClassStatus::kNoGeneralMidi);
  }
}

TEST(SynthRandomized, FluidSynthReverbSettingsPerClip) {
  REQUIRE_TIM();
  // Tail energy 0.5-1.5 s after a 0.2 s note with full reverb send, each from a fresh
  // synthesizer (FluidSynth's reverb modulates its delay lines, so a reused one varies by ~30 %).
  auto tail = [&](const std::vector<std::optional<ts::FluidReverb>>& clips) {
    ts::FluidSynthesizer synth(kTim, 16000, /*reverb=*/true);
    double e = 0;
    for (const auto& r : clips) {
      auto s = one_note(1, 60, 0.0, 0.2, 2.0);
      s.parts[0].reverb_send = 127;
      s.fluid_reverb = r;
      e = energy(synth.render(s), 2 * 8000, 2 * 24000);
    }
    return e;  // of the last clip
  };
  const ts::FluidReverb big{0.95, 0.0, 1.0, 1.0}, mute{0.95, 0.0, 1.0, 0.0};
  const double plain = tail({std::nullopt}), large = tail({big}), none = tail({mute});
  EXPECT_GT(large, 5 * plain) << plain << " " << large;
  EXPECT_LT(none, 0.1 * plain) << plain << " " << none;
  // A clip without settings after one with: FluidSynth's defaults again (not the muted reverb).
  const double after = tail({mute, std::nullopt});
  EXPECT_GT(after, 0.3 * plain) << plain << " " << after;
}

// --timbre: generator offsets on a part's channel change its sound where the SoundFont
// specification says (a lower low-pass cutoff takes the highs away, more sustain attenuation
// makes a held note fade), and a reused synthesizer forgets them for the next score.
TEST(SynthRandomized, TimbreOffsetsChangeTheSoundAndAreForgottenAfterTheScore) {
  REQUIRE_TIM();
  ts::FluidSynthesizer synth(kTim, 16000, false);
  const auto plain_score = one_note(17, 60, 0.0, 2.0, 2.0);  // a drawbar organ note, held
  const auto plain = synth.render(plain_score);
  auto with = [&](std::vector<ts::GeneratorOffset> g) {
    auto s = plain_score;
    s.parts[0].generators = std::move(g);
    return synth.render(s);
  };
  // Brightness: the energy of the first difference (a +6 dB per octave weighting) over the
  // energy, of the left channel from 0.5 s to 1.5 s.
  auto brightness = [](const std::vector<float>& lr) {
    double d = 0, e = 0;
    for (std::size_t i = 8000; i < 24000; ++i) {
      const double x = lr[2 * i], dx = x - lr[2 * (i - 1)];
      d += dx * dx;
      e += x * x;
    }
    return d / e;
  };
  const auto dark = with({{ts::kGenFilterFc, -6000}});
  const double db_highs = 10 * std::log10(brightness(dark) / brightness(plain));
  EXPECT_LT(db_highs, -10) << "a cutoff five octaves lower keeps the highs";
  // Sustain 40 dB lower: once the decay is over the note is far quieter than the plain one.
  const auto fading = with({{ts::kGenVolEnvSustain, 400}});
  const double late = 10 * std::log10(energy(fading, 24000, 32000) / energy(plain, 24000, 32000));
  EXPECT_LT(late, -20);
  // The next score sounds as on a synthesizer that rendered as many scores without offsets (a
  // reused synthesizer is not bit for bit a fresh one, docs/synth.md "Rendering").
  ts::FluidSynthesizer control(kTim, 16000, false);
  for (int i = 0; i < 3; ++i) control.render(plain_score);
  EXPECT_EQ(synth.render(plain_score), control.render(plain_score));

  auto drums = plain_score;
  drums.parts[0].channel = ts::kPercussionChannel;
  drums.parts[0].bank = 128;
  drums.parts[0].program = 0;
  drums.parts[0].generators = {{ts::kGenFilterFc, -1200}};
  const auto msg = tutti::testing::error_of([&] { synth.render(drums); });
  EXPECT_NE(msg.find("generator offsets on the percussion channel"), std::string::npos) << msg;
}

TEST(SynthRandomized, TimbreDrawsStayInTheirRangesAndSparePercussion) {
  ts::Score s;
  for (int ch : {0, 1, ts::kPercussionChannel, 2}) {
    ts::Part p;
    p.channel = ch;
    s.parts.push_back(p);
  }
  auto none = s;
  ts::draw_timbres(none, 0, 7);
  for (const auto& p : none.parts) EXPECT_TRUE(p.generators.empty());
  const ts::TimbreRanges r;
  int parts = 0, changed = 0, filtered = 0, vibrato = 0;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    auto a = s, b = s;
    ts::draw_timbres(a, 0.5, seed);
    ts::draw_timbres(b, 0.5, seed);
    for (std::size_t i = 0; i < a.parts.size(); ++i) {
      const auto& g = a.parts[i].generators;
      ASSERT_EQ(g.size(), b.parts[i].generators.size());
      for (std::size_t k = 0; k < g.size(); ++k)
        EXPECT_EQ(g[k].value, b.parts[i].generators[k].value);
      if (a.parts[i].channel == ts::kPercussionChannel) {
        EXPECT_TRUE(g.empty());
        continue;
      }
      ++parts;
      if (g.empty()) continue;
      ++changed;
      std::map<int, double> v;
      for (const auto& o : g) v[o.generator] = o.value;
      ASSERT_TRUE(v.count(ts::kGenVolEnvAttack) && v.count(ts::kGenVolEnvDecay) &&
                  v.count(ts::kGenVolEnvSustain) && v.count(ts::kGenVolEnvRelease));
      EXPECT_GE(v[ts::kGenVolEnvAttack], r.attack_min_tc);
      EXPECT_LE(v[ts::kGenVolEnvAttack], r.attack_max_tc);
      EXPECT_GE(v[ts::kGenVolEnvDecay], r.decay_min_tc);
      EXPECT_LE(v[ts::kGenVolEnvDecay], r.decay_max_tc);
      EXPECT_GE(v[ts::kGenVolEnvSustain], 0);
      EXPECT_LE(v[ts::kGenVolEnvSustain], r.sustain_max_cb);
      EXPECT_GE(v[ts::kGenVolEnvRelease], r.release_min_tc);
      EXPECT_LE(v[ts::kGenVolEnvRelease], r.release_max_tc);
      if (v.count(ts::kGenFilterFc)) {
        ++filtered;
        EXPECT_GE(v[ts::kGenFilterFc], r.cutoff_min_cents);
        EXPECT_LE(v[ts::kGenFilterFc], r.cutoff_max_cents);
        EXPECT_GE(v[ts::kGenFilterQ], 0);
        EXPECT_LE(v[ts::kGenFilterQ], r.resonance_max_cb);
      }
      if (v.count(ts::kGenVibLfoToPitch)) {
        ++vibrato;
        EXPECT_GE(v[ts::kGenVibLfoToPitch], 0);
        EXPECT_LE(v[ts::kGenVibLfoToPitch], r.vibrato_max_cents);
      }
    }
  }
  // 1,200 melodic parts: binomial standard deviations 0.014 (changed), 0.020 and 0.019.
  EXPECT_NEAR(static_cast<double>(changed) / parts, 0.5, 0.05);
  EXPECT_NEAR(static_cast<double>(filtered) / changed, r.filter_probability, 0.07);
  EXPECT_NEAR(static_cast<double>(vibrato) / changed, r.vibrato_probability, 0.07);
  EXPECT_THROW(ts::draw_timbres(none, 1.5, 1), tutti::UsageError);
}

// In a dataset: the same notes and labels, other sounds, and the probability in synth.json.
TEST(SynthRandomized, TimbreKeepsTheLabelsAndChangesTheAudio) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  auto cfg = pool_config();
  cfg.soundfonts = {kTim};
  ts::write_synth_dataset(cfg, tmp / "plain");
  cfg.timbre_probability = 1;
  ts::write_synth_dataset(cfg, tmp / "timbre");
  for (const char* f : {"labels.csv", "strong.csv", "instances.csv", "clips.csv"})
    EXPECT_EQ(tutti::core::read_file_text(tmp / "plain" / f),
              tutti::core::read_file_text(tmp / "timbre" / f))
        << f;
  for (int i = 0; i < cfg.n_clips; ++i) {
    const auto wav = fs::path("audio") / (ts::clip_name(i) + ".wav");
    EXPECT_NE(tutti::core::md5_file_hex(tmp / "plain" / wav),
              tutti::core::md5_file_hex(tmp / "timbre" / wav))
        << wav;
  }
  const auto meta =
      tutti::core::Json::parse(tutti::core::read_file_text(tmp / "timbre" / "synth.json"));
  EXPECT_EQ(meta["config"]["timbre_probability"].get<double>(), 1.0);
}
