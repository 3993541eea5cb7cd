// FluidSynth rendering and soundfont inspection, with both installed fonts, a tiny fixture font
// that lacks most programs, and broken or missing files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/mix.h"
#include "tutti/synth/renderer.h"

namespace ts = tutti::synth;

namespace {

const std::string kTim = "/usr/share/sounds/sf2/TimGM6mb.sf2";
const std::string kMuse = "/usr/share/sounds/sf3/MuseScore_General.sf3";

#define REQUIRE_FILE(p) \
  if (!std::filesystem::exists(p)) GTEST_SKIP() << "not installed: " << (p)

using tutti::testing::error_of;

const ts::ClassSupport& support(const ts::SoundfontReport& r, const std::string& name) {
  return r.classes.at(static_cast<std::size_t>(*ts::instrument_index(name)));
}

ts::Score one_note_score(int class_index, int channel, int bank, int program, int key,
                         std::int64_t on, std::int64_t off, std::int64_t n = 44100) {
  ts::Score s;
  s.num_samples = n;
  ts::Part p;
  p.class_index = class_index;
  p.channel = channel;
  p.bank = bank;
  p.program = program;
  p.notes = {{on, off, key, 110}};
  s.parts = {p};
  return s;
}

}  // namespace

TEST(SynthRenderer, MissingOrBrokenSoundfontIsAnErrorNamingTheFile) {
  tutti::testing::TempDir tmp;
  const auto missing = (tmp / "nope.sf2").string();
  auto msg = error_of([&] { ts::FluidSynthesizer fs(missing, 44100, false); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  msg = error_of([&] { ts::check_soundfont(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;

  const auto text = (tmp / "notes.sf2").string();
  std::ofstream(text) << "this is not a soundfont";
  msg = error_of([&] { ts::FluidSynthesizer fs(text, 44100, false); });
  EXPECT_NE(msg.find(text), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a SoundFont"), std::string::npos) << msg;

  // A truncated copy of the fixture font, and one whose preset list is damaged.
  const auto tiny = tutti::core::read_file_text(tutti::testing::fixture("synth/tiny.sf2"));
  const auto truncated = (tmp / "truncated.sf2").string();
  std::ofstream(truncated, std::ios::binary) << tiny.substr(0, tiny.size() / 2);
  msg = error_of([&] { ts::FluidSynthesizer fs(truncated, 44100, false); });
  EXPECT_NE(msg.find(truncated), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  const auto damaged = (tmp / "damaged.sf2").string();
  std::string bad = tiny;
  const auto phdr = bad.find("phdr");
  ASSERT_NE(phdr, std::string::npos);
  bad[phdr + 4] = 37;  // a preset header list whose size is not a multiple of 38 bytes
  std::ofstream(damaged, std::ios::binary) << bad;
  msg = error_of([&] { ts::FluidSynthesizer fs(damaged, 44100, false); });
  EXPECT_NE(msg.find(damaged), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot load"), std::string::npos) << msg;

  EXPECT_THROW(ts::FluidSynthesizer(tutti::testing::fixture("synth/tiny.sf2"), 100, false),
               tutti::UsageError);
}

TEST(SynthRenderer, TinyFontReportsPartialAndMissingClasses) {
  const auto r = ts::check_soundfont(tutti::testing::fixture("synth/tiny.sf2"));
  EXPECT_EQ(r.num_presets, 4);
  EXPECT_EQ(r.drum_kits, (std::vector<int>{0}));
  EXPECT_EQ(support(r, "piano").status, ts::ClassStatus::kPartial);
  EXPECT_EQ(support(r, "piano").available, (std::vector<int>{1}));
  EXPECT_EQ(support(r, "piano").missing, (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_EQ(support(r, "guitar").available, (std::vector<int>{25}));
  EXPECT_EQ(support(r, "violin").status, ts::ClassStatus::kPartial);
  EXPECT_EQ(support(r, "violin").missing, (std::vector<int>{111}));
  // The kit's only zone spans keys 35-40.
  EXPECT_EQ(support(r, "drums").status, ts::ClassStatus::kPartial);
  EXPECT_EQ(support(r, "drums").available, (std::vector<int>{35, 36, 38, 40, 37}));
  EXPECT_EQ(support(r, "cymbals").status, ts::ClassStatus::kMissing);
  EXPECT_EQ(support(r, "flute").status, ts::ClassStatus::kMissing);
  EXPECT_EQ(support(r, "mandolin").status, ts::ClassStatus::kNoGeneralMidi);
  const auto pal = r.palette();
  const auto playable = pal.playable();
  int n = 0;
  for (auto p : playable) n += p;
  EXPECT_EQ(n, 4);  // piano, guitar, violin, drums
  const auto problems = r.problems();
  EXPECT_EQ(problems.size(), 20u);  // no class is complete
  bool saw_cymbals = false;
  for (const auto& line : problems)
    saw_cymbals |= line.rfind("cymbals: no percussion keys", 0) == 0;
  EXPECT_TRUE(saw_cymbals);
  // JSON has one entry per class with its status.
  const auto j = r.to_json();
  ASSERT_EQ(j["classes"].size(), 20u);
  EXPECT_EQ(j["classes"][static_cast<std::size_t>(*ts::instrument_index("cymbals"))]["status"],
            "missing");
}

TEST(SynthRenderer, InstalledFontsPlayEveryGeneralMidiClass) {
  for (const auto& path : {kTim, kMuse}) {
    if (!std::filesystem::exists(path)) {
      std::printf("skipping %s: not installed\n", path.c_str());
      continue;
    }
    const auto r = ts::check_soundfont(path);
    std::printf("%s: %d presets, kits", path.c_str(), r.num_presets);
    for (int k : r.drum_kits) std::printf(" %d", k);
    std::printf("\n");
    for (const auto& line : r.problems()) std::printf("  %s\n", line.c_str());
    EXPECT_GT(r.num_presets, 128) << path;
    ASSERT_FALSE(r.drum_kits.empty()) << path;
    EXPECT_EQ(r.drum_kits.front(), 0) << path;
    for (const auto& s : r.classes) {
      if (s.name == "mandolin" || s.name == "ukulele")
        EXPECT_EQ(s.status, ts::ClassStatus::kNoGeneralMidi);
      else
        EXPECT_EQ(s.status, ts::ClassStatus::kOk) << path << " " << s.name;
    }
    EXPECT_EQ(r.problems().size(), 2u) << path;  // mandolin, ukulele
  }
}

TEST(SynthRenderer, NotesSoundFromTheirBlockAndFreshSynthesizersAgreeBitForBit) {
  REQUIRE_FILE(kTim);
  const int piano = *ts::instrument_index("piano"), drums = *ts::instrument_index("drums");
  const std::int64_t on = 64 * 100;
  for (const auto& s : {one_note_score(piano, 0, 0, 0, 60, on, on + 64 * 300),
                        one_note_score(drums, 9, 128, 0, 38, on, on + 64 * 300)}) {
    ts::FluidSynthesizer a(kTim, 44100, false);
    const auto x = a.render(s);
    ASSERT_EQ(x.size(), 2u * 44100);
    for (std::int64_t i = 0; i < 2 * on; ++i) ASSERT_EQ(x[static_cast<std::size_t>(i)], 0.0f) << i;
    double early = 0;
    for (std::int64_t i = 2 * on; i < 2 * (on + 64 * 8); ++i)
      early = std::max(early, static_cast<double>(std::abs(x[static_cast<std::size_t>(i)])));
    EXPECT_GT(early, 1e-3) << "the note sounds within 8 blocks of its onset";
    ts::FluidSynthesizer b(kTim, 44100, false);
    EXPECT_EQ(b.render(s), x);
    // The same synthesizer, reused: no sound from the previous score leaks into an empty one.
    ts::Score empty = s;
    empty.parts.clear();
    const auto silence = a.render(empty);
    EXPECT_EQ(ts::peak_abs(silence), 0.0);
  }
}

TEST(SynthRenderer, VolumeChangesSoundAtTheirBlock) {
  REQUIRE_FILE(kTim);
  // An organ chord (it holds its level) at volume 127, then 32 from 1 s: each half sounds as the
  // same chord held at that volume throughout.
  const int organ = *ts::instrument_index("organ");
  const std::int64_t sr = 16000, n = 2 * sr;
  auto chord = [&](int volume) {
    auto s = one_note_score(organ, 0, 0, 16, 60, 0, n, n);
    s.sample_rate_hz = static_cast<int>(sr);
    s.parts[0].volume = volume;
    return s;
  };
  auto changed = chord(127);
  changed.parts[0].volume_changes = {{sr, 32}};
  ts::FluidSynthesizer synth(kTim, static_cast<int>(sr), false);
  const auto x = synth.render(changed), loud = synth.render(chord(127)),
             quiet = synth.render(chord(32));
  auto rms_db = [&](const std::vector<float>& v, double from_s, double to_s) {
    const auto a = static_cast<std::size_t>(from_s * sr) * 2,
               b = static_cast<std::size_t>(to_s * sr) * 2;
    return 10 * std::log10(ts::mean_square({v.data() + a, b - a}));
  };
  EXPECT_NEAR(rms_db(x, 0.2, 0.95), rms_db(loud, 0.2, 0.95), 0.01);
  EXPECT_NEAR(rms_db(x, 1.2, 1.95), rms_db(quiet, 1.2, 1.95), 0.1);
  EXPECT_GT(rms_db(loud, 1.2, 1.95) - rms_db(quiet, 1.2, 1.95), 15);  // the change is audible
}

TEST(SynthRenderer, UnknownPresetIsAnError) {
  ts::FluidSynthesizer fs(tutti::testing::fixture("synth/tiny.sf2"), 44100, false);
  const auto s = one_note_score(*ts::instrument_index("flute"), 0, 0, 73, 72, 0, 6400);
  const auto msg = error_of([&] { fs.render(s); });
  EXPECT_NE(msg.find("program 73"), std::string::npos) << msg;
  EXPECT_NE(msg.find("flute"), std::string::npos) << msg;
  ts::Score other_rate = s;
  other_rate.sample_rate_hz = 22050;
  EXPECT_THROW(fs.render(other_rate), tutti::Error);
}

TEST(SynthRenderer, StrongLabelsMatchWhereEachPartSounds) {
  REQUIRE_FILE(kTim);
  // Each part rendered alone without reverb: silent before its first label, and close to silent
  // more than 1 s after a label ends (release tails of the soundfont are not in the label).
  ts::SynthConfig cfg;
  cfg.reverb = false;
  ts::FluidSynthesizer fs(kTim, cfg.sample_rate_hz, false);
  const auto pal = fs.check().palette();
  int checked_quiet_frames = 0;
  for (int i = 0; i < 12; ++i) {
    const auto score = ts::compose(ts::composer_options(cfg), pal, ts::clip_seed(11, i));
    for (const auto& part : score.parts) {
      ts::Score solo = score;
      solo.parts = {part};
      const auto x = ts::to_channels(fs.render(solo), 1);
      const auto labels = ts::strong_labels(solo, cfg.release_s, cfg.merge_gap_s);
      ASSERT_FALSE(labels.empty());
      const auto first = static_cast<std::size_t>(std::llround(labels.front().onset_s * 44100));
      for (std::size_t t = 0; t < first; ++t) ASSERT_EQ(x[t], 0.0f) << "sound before the label";
      const double peak = ts::peak_abs(x);
      ASSERT_GT(peak, 0.0);
      const std::size_t frame = 2048;
      for (std::size_t a = 0; a + frame <= x.size(); a += frame) {
        const double ta = static_cast<double>(a) / 44100,
                     tb = static_cast<double>(a + frame) / 44100;
        bool quiet_expected = true;
        for (const auto& l : labels)
          if (ta < l.offset_s + 1.0 && tb > l.onset_s) quiet_expected = false;
        if (!quiet_expected) continue;
        ++checked_quiet_frames;
        const double rms = std::sqrt(ts::mean_square({x.data() + a, frame}));
        EXPECT_LT(rms, 0.02 * peak)
            << ts::instrument_classes()[part.class_index].name << " at " << ta << " s";
      }
    }
  }
  EXPECT_GT(checked_quiet_frames, 50);
}
