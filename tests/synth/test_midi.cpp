// `tutti synth --midi`: Standard MIDI Files written here byte by byte (SMF 1.0 spec, independent
// of the parser) become clips whose labels follow their programs, notes, tempo map and sustain
// pedal; every bad input is one error naming the file, or a skipped file in a batch.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "synth_test_util.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/midi_file.h"

namespace ts = tutti::synth;
namespace fs = std::filesystem;
using Bytes = std::vector<std::uint8_t>;

namespace {

const std::string kTim = tutti::testing::kTimGm6mb;
#define REQUIRE_TIM() \
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim

void put_vlq(Bytes& b, std::uint32_t v) {
  std::uint8_t tmp[5];
  int n = 0;
  tmp[n++] = v & 0x7F;
  while (v >>= 7) tmp[n++] = static_cast<std::uint8_t>(0x80 | (v & 0x7F));
  while (n) b.push_back(tmp[--n]);
}
void put_be(Bytes& b, std::uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A track from (delta ticks, event bytes) pairs; the end-of-track meta event is appended.
Bytes track(const std::vector<std::pair<std::uint32_t, Bytes>>& events) {
  Bytes body;
  for (const auto& [dt, ev] : events) {
    put_vlq(body, dt);
    body.insert(body.end(), ev.begin(), ev.end());
  }
  body.insert(body.end(), {0x00, 0xFF, 0x2F, 0x00});
  Bytes t = {'M', 'T', 'r', 'k'};
  put_be(t, static_cast<std::uint32_t>(body.size()), 4);
  t.insert(t.end(), body.begin(), body.end());
  return t;
}

Bytes smf(int format, const std::vector<Bytes>& tracks, int division = 480) {
  Bytes b = {'M', 'T', 'h', 'd', 0, 0, 0, 6};
  put_be(b, static_cast<std::uint32_t>(format), 2);
  put_be(b, static_cast<std::uint32_t>(tracks.size()), 2);
  put_be(b, static_cast<std::uint32_t>(division), 2);
  for (const auto& t : tracks) b.insert(b.end(), t.begin(), t.end());
  return b;
}

Bytes tempo(std::uint32_t us_per_quarter) {
  return {0xFF,
          0x51,
          0x03,
          static_cast<std::uint8_t>(us_per_quarter >> 16),
          static_cast<std::uint8_t>(us_per_quarter >> 8),
          static_cast<std::uint8_t>(us_per_quarter)};
}

// Format 1, 480 ticks per quarter. Conductor: 120 BPM, then 240 BPM from tick 960 (1 s).
// Piano (program 0) on channel 0: key 60 ticks 0-960 with the sustain pedal down until tick 1440
// (1.5 s at the new tempo... 1 s + 480 ticks at 240 BPM = 1.25 s). Bass (program 33) on channel 1,
// running status, ticks 960-1920 (1.0-1.5 s). Kick (key 36) and closed hi-hat (42) on channel 10
// at 0. Strings ensemble (program 48, no class) on channel 2: muted.
Bytes song() {
  const Bytes conductor = track({{0, tempo(500000)}, {960, tempo(250000)}});
  const Bytes piano = track({{0, {0xC0, 0}},
                             {0, {0xB0, 64, 127}},
                             {0, {0x90, 60, 100}},
                             {960, {0x80, 60, 0}},
                             {480, {0xB0, 64, 0}}});
  const Bytes bass = track({{0, {0xC1, 33}}, {960, {0x91, 40, 90}}, {960, {40, 0}}});
  const Bytes drums =
      track({{0, {0x99, 36, 100}}, {0, {42, 90}}, {60, {0x89, 36, 0}}, {0, {0x89, 42, 0}}});
  const Bytes strings = track({{0, {0xC2, 48}}, {0, {0x92, 64, 80}}, {480, {0x82, 64, 0}}});
  return smf(1, {conductor, piano, bass, drums, strings});
}

void write_bytes(const fs::path& p, const Bytes& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

ts::SynthConfig midi_config(const std::vector<std::string>& files) {
  ts::SynthConfig c;
  c.soundfont = kTim;
  c.midi = files;
  c.duration_s = 10;
  c.sample_rate_hz = 16000;
  c.threads = 1;
  return c;
}

}  // namespace

TEST(SynthMidi, ParserFollowsTempoMapSustainAndRunningStatus) {
  const auto s = ts::parse_midi(song(), "song.mid");
  EXPECT_EQ(s.format, 1);
  EXPECT_EQ(s.num_tracks, 5);
  EXPECT_DOUBLE_EQ(s.first_tempo_bpm, 120);
  std::map<std::pair<int, int>, ts::MidiNote> by;  // (channel, key)
  for (const auto& n : s.notes) by[{n.channel, n.key}] = n;
  ASSERT_EQ(s.notes.size(), 5u);
  auto at = [&](int ch, int key) { return by.at({ch, key}); };
  EXPECT_DOUBLE_EQ(at(0, 60).on_s, 0.0);
  EXPECT_DOUBLE_EQ(at(0, 60).off_s, 1.25);  // the pedal held it past its note-off at 1 s
  EXPECT_DOUBLE_EQ(at(1, 40).on_s, 1.0);
  EXPECT_DOUBLE_EQ(at(1, 40).off_s, 1.5);  // 960 ticks at 240 BPM
  EXPECT_EQ(at(1, 40).program, 33);
  EXPECT_DOUBLE_EQ(at(9, 36).off_s, 0.0625);
  EXPECT_DOUBLE_EQ(s.length_s, 1.5);
  // SMPTE division: 25 fps x 40 ticks = 1 ms per tick.
  const auto smpte = ts::parse_midi(
      smf(0, {track({{0, {0x90, 60, 100}}, {500, {0x80, 60, 0}}})}, 0xE728), "smpte.mid");
  EXPECT_DOUBLE_EQ(smpte.notes.at(0).off_s, 0.5);
}

// Format 0, 480 ticks per quarter at 120 BPM (960 ticks = 1 s). Piano on channel 0: volume 40,
// one note 0-2 s, expression 64 from 1 s, volume and expression 127 at 1.5 s (one instant), a
// repeated volume 127 at 2 s. Bass on channel 1 at volume 5: a note 0-1 s (too quiet), volume 100
// at 2 s, a note 2-3 s. Organ on channel 2 at volume 0: a note 0-2 s that the volume raises to 90
// at 1 s.
Bytes volume_song() {
  return smf(0, {track({{0, {0xC0, 0}},        {0, {0xC1, 33}},      {0, {0xC2, 16}},
                        {0, {0xB0, 7, 40}},    {0, {0xB1, 7, 5}},    {0, {0xB2, 7, 0}},
                        {0, {0x90, 60, 100}},  {0, {0x91, 40, 100}}, {0, {0x92, 48, 100}},
                        {960, {0xB0, 11, 64}}, {0, {0x81, 40, 0}},   {0, {0xB2, 7, 90}},
                        {480, {0xB0, 7, 127}}, {0, {0xB0, 11, 127}}, {480, {0xB0, 7, 127}},
                        {0, {0x80, 60, 0}},    {0, {0x82, 48, 0}},   {0, {0xB1, 7, 100}},
                        {0, {0x91, 41, 100}},  {960, {0x81, 41, 0}}})});
}

TEST(SynthMidi, VolumeAndExpressionAreFollowedAndQuietNotesMuted) {
  const auto song = ts::parse_midi(volume_song(), "vol.mid");
  auto levels = [&](int ch) {
    std::vector<std::pair<double, int>> v;
    for (const auto& c : song.levels[ch]) v.emplace_back(c.t_s, c.level);
    return v;
  };
  // Level = volume x expression / 127: 40 x 64 / 127 = 20.2.
  EXPECT_EQ(levels(0), (std::vector<std::pair<double, int>>{{0, 40}, {1, 20}, {1.5, 127}}));
  EXPECT_EQ(levels(1), (std::vector<std::pair<double, int>>{{0, 5}, {2, 100}}));
  EXPECT_EQ(levels(2), (std::vector<std::pair<double, int>>{{0, 0}, {1, 90}}));
  EXPECT_TRUE(song.levels[3].empty());

  const auto pal = ts::Palette::general_midi();
  ts::MidiScoreStats st;
  const auto score = ts::midi_score(song, pal, 16000, 10, false, &st);
  std::map<std::string, const ts::Part*> by;
  for (const auto& p : score.parts)
    by[ts::instrument_classes()[static_cast<std::size_t>(p.class_index)].name] = &p;
  ASSERT_EQ(by.size(), 3u);
  EXPECT_EQ(st.quiet_notes, 1);  // the bass's first note, at level 5 all through
  EXPECT_EQ(st.muted_notes, 1);
  ASSERT_EQ(by["bass"]->notes.size(), 1u);
  EXPECT_EQ(by["bass"]->notes[0].key, 41);
  EXPECT_EQ(by["bass"]->volume, 5);
  ASSERT_EQ(by["organ"]->notes.size(), 1u);  // level 0 at its onset, 90 from 1 s
  auto changes = [](const ts::Part* p) {
    std::vector<std::pair<std::int64_t, int>> v;
    for (const auto& c : p->volume_changes) v.emplace_back(c.sample, c.volume);
    return v;
  };
  EXPECT_EQ(by["piano"]->volume, 40);
  EXPECT_EQ(changes(by["piano"]),
            (std::vector<std::pair<std::int64_t, int>>{{16000, 20}, {24000, 127}}));
  EXPECT_EQ(changes(by["bass"]), (std::vector<std::pair<std::int64_t, int>>{{32000, 100}}));
  EXPECT_EQ(changes(by["organ"]), (std::vector<std::pair<std::int64_t, int>>{{16000, 90}}));

  // An excerpt from 1.25 s starts at the level then in force; its changes move with it (0.25 s =
  // 4000 samples, on the 64-sample grid 3968).
  const auto late = ts::midi_score(song, pal, 16000, 10, false, nullptr, 1.25);
  for (const auto& p : late.parts)
    if (ts::instrument_classes()[static_cast<std::size_t>(p.class_index)].name == "piano") {
      EXPECT_EQ(p.volume, 20);
      EXPECT_EQ(changes(&p), (std::vector<std::pair<std::int64_t, int>>{{3968, 127}}));
    }

  // Reset All Controllers: expression back to 127 (level 40 again), the pedal up (the held note
  // ends at 0.5 s); volume stays.
  const auto reset = ts::parse_midi(smf(0, {track({{0, {0xB0, 7, 40}},
                                                   {0, {0xB0, 11, 64}},
                                                   {0, {0xB0, 64, 127}},
                                                   {0, {0x90, 60, 100}},
                                                   {240, {0x80, 60, 0}},
                                                   {240, {0xB0, 121, 0}},
                                                   {480, {0x90, 62, 100}},
                                                   {480, {0x80, 62, 0}}})}),
                                    "reset.mid");
  std::vector<std::pair<double, int>> reset_levels;
  for (const auto& c : reset.levels[0]) reset_levels.emplace_back(c.t_s, c.level);
  EXPECT_EQ(reset_levels, (std::vector<std::pair<double, int>>{{0, 20}, {0.5, 40}}));
  EXPECT_DOUBLE_EQ(reset.notes.at(0).off_s, 0.5);

  // A song whose only note is too quiet: one error naming it.
  const auto quiet = ts::parse_midi(
      smf(0, {track({{0, {0xB0, 7, 12}}, {0, {0x90, 60, 100}}, {480, {0x80, 60, 0}}})}), "q.mid");
  const auto msg = tutti::testing::error_of([&] { ts::midi_score(quiet, pal, 16000, 10, false); });
  EXPECT_NE(msg.find("q.mid: every note in 0-1.5 s is too quiet"), std::string::npos) << msg;
}

TEST(SynthMidi, ClipLabelsComeFromProgramsAndNotes) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  write_bytes(tmp / "song.mid", song());
  auto cfg = midi_config({(tmp / "song.mid").string()});
  cfg.generator = "mine";
  const auto sum = ts::write_synth_dataset(cfg, tmp / "out");
  EXPECT_EQ(sum.n_clips, 1);
  EXPECT_NEAR(sum.audio_s, 2.5, 1e-9);  // 1.5 s of song + 1 s
  std::map<std::string, std::vector<double>> strong;
  for (const auto& r : tutti::testing::csv_cells(tmp / "out" / "strong.csv"))
    if (r[0] != "file") strong[r[1]] = {std::stod(r[2]), std::stod(r[3])};
  ASSERT_EQ(strong.size(), 4u);  // piano, bass, drums, cymbals; strings are muted
  const double grid = 64.0 / 16000;
  EXPECT_NEAR(strong["piano"][0], 0.0, 1e-9);
  EXPECT_NEAR(strong["piano"][1], 1.25 + 0.1, grid);  // note-off at the pedal + release
  EXPECT_NEAR(strong["bass"][0], 1.0, grid);
  EXPECT_NEAR(strong["bass"][1], 1.6, grid);
  EXPECT_TRUE(strong.count("drums") && strong.count("cymbals"));
  std::map<std::string, std::string> weak;
  for (const auto& r : tutti::testing::csv_cells(tmp / "out" / "labels.csv")) weak[r[1]] = r[2];
  EXPECT_EQ(weak["piano"], "1");
  EXPECT_EQ(weak["bass"], "1");
  EXPECT_EQ(weak["violin"], "0");
  EXPECT_EQ(weak.count("mandolin"), 0u);  // unknown
  const auto clips = tutti::testing::csv_cells(tmp / "out" / "clips.csv");
  ASSERT_EQ(clips.size(), 2u);
  EXPECT_EQ(clips[1][1], "mine");
  EXPECT_EQ(clips[1][2], (tmp / "song.mid").string());
  EXPECT_EQ(clips[1][3], "0");  // source_start_s
  EXPECT_NE(clips[1][5].find("bass:34"), std::string::npos) << clips[1][5];
  EXPECT_NE(clips[1][5].find("piano:1"), std::string::npos) << clips[1][5];

  // The clip stops at --duration; the same file and seed give the same bytes.
  cfg.duration_s = 1.2;
  ts::write_synth_dataset(cfg, tmp / "short");
  EXPECT_NEAR(ts::write_synth_dataset(cfg, tmp / "short2").audio_s, 1.2, 1e-9);
  EXPECT_EQ(tutti::core::md5_file_hex(tmp / "short" / "audio" / "synth_000000.wav"),
            tutti::core::md5_file_hex(tmp / "short2" / "audio" / "synth_000000.wav"));

  // --any-instrument 1: piano and bass are played by drawn classes; the labels follow them
  // (clips.csv, labels.csv and strong.csv agree) and the melodic timeline stays 0-1.6 s.
  cfg.duration_s = 10;
  cfg.any_instrument_probability = 1;
  ts::write_synth_dataset(cfg, tmp / "any");
  std::set<std::string> drawn, labeled, timed;
  const auto any_clips = tutti::testing::csv_cells(tmp / "any" / "clips.csv");
  std::istringstream programs(any_clips[1][5]);
  for (std::string part; std::getline(programs, part, ';');)
    drawn.insert(part.substr(0, part.find(':')));
  for (const auto& r : tutti::testing::csv_cells(tmp / "any" / "labels.csv"))
    if (r[2] == "1") labeled.insert(r[1]);
  double first = 1e9, last = 0;
  for (const auto& r : tutti::testing::csv_cells(tmp / "any" / "strong.csv")) {
    if (r[0] == "file") continue;
    timed.insert(r[1]);
    if (r[1] == "drums" || r[1] == "cymbals") continue;
    first = std::min(first, std::stod(r[2]));
    last = std::max(last, std::stod(r[3]));
  }
  EXPECT_EQ(drawn, labeled);
  EXPECT_EQ(drawn, timed);
  EXPECT_TRUE(drawn.count("drums") && drawn.count("cymbals"));
  EXPECT_NE(drawn, (std::set<std::string>{"piano", "bass", "drums", "cymbals"}));
  EXPECT_NEAR(first, 0.0, grid);
  EXPECT_NEAR(last, 1.6, grid);

  // --drop-parts 1: one part of the four stays, and the three label files name only it.
  cfg.any_instrument_probability = 0;
  cfg.drop_part_probability = 1;
  ts::write_synth_dataset(cfg, tmp / "solo");
  std::set<std::string> solo_labeled, solo_timed;
  for (const auto& r : tutti::testing::csv_cells(tmp / "solo" / "labels.csv"))
    if (r[2] == "1") solo_labeled.insert(r[1]);
  for (const auto& r : tutti::testing::csv_cells(tmp / "solo" / "strong.csv"))
    if (r[0] != "file") solo_timed.insert(r[1]);
  const auto solo_programs = tutti::testing::csv_cells(tmp / "solo" / "clips.csv")[1][5];
  EXPECT_EQ(std::count(solo_programs.begin(), solo_programs.end(), ';'), 0) << solo_programs;
  const std::string solo_class = solo_programs.substr(0, solo_programs.find(':'));
  EXPECT_EQ(solo_labeled, std::set<std::string>{solo_class});
  EXPECT_EQ(solo_labeled, solo_timed);
}

TEST(SynthMidi, BadFilesAreNamedAndNothingIsWritten) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  const std::vector<std::pair<std::string, Bytes>> bad = {
      {"text.mid", Bytes{'h', 'e', 'l', 'l', 'o'}},
      {"nonotes.mid", smf(0, {track({{0, {0xC0, 5}}})})},
      {"unmapped.mid", smf(0, {track({{0, {0xC0, 48}}, {0, {0x90, 60, 99}}, {10, {0x80, 60, 0}}})})},
      {"fasttempo.mid", smf(0, {track({{0, tempo(10)}, {0, {0x90, 60, 99}}})})},
      {"zerotempo.mid", smf(0, {track({{0, tempo(0)}, {0, {0x90, 60, 99}}})})},
      {"long.mid", smf(0, {track({{0, {0x90, 60, 99}}, {0x0FFFFFFF, {0x80, 60, 0}}})})},
      {"format2.mid", smf(2, {track({{0, {0x90, 60, 99}}})})},
      {"truncated.mid", [] {
         auto b = song();
         b.erase(b.end() - 20, b.end());
         return b;
       }()},
      {"tracks.mid", [] {
         Bytes b = {'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0x10, 0, 1, 0xE0};
         return b;
       }()},
  };
  const std::map<std::string, std::string> want = {
      {"text.mid", "not a Standard MIDI File"},
      {"nonotes.mid", "has no notes"},
      {"unmapped.mid", "no instrument class maps (49)"},
      {"fasttempo.mid", "BPM outside"},
      {"zerotempo.mid", "tempo of 0"},
      {"long.mid", "too long"},
      {"format2.mid", "format 2"},
      {"truncated.mid", "truncated"},
      {"tracks.mid", "4096 tracks"},
  };
  for (const auto& [name, bytes] : bad) {
    write_bytes(tmp / name, bytes);
    const auto msg = tutti::testing::error_of(
        [&] { ts::write_synth_dataset(midi_config({(tmp / name).string()}), tmp / "out"); });
    EXPECT_NE(msg.find(name), std::string::npos) << msg;
    EXPECT_NE(msg.find(want.at(name)), std::string::npos) << name << ": " << msg;
    EXPECT_FALSE(fs::exists(tmp / "out")) << name;
  }
  // A batch: bad files are skipped with one warning each and counted; the good one is rendered.
  write_bytes(tmp / "song.mid", song());
  const auto sum = ts::write_synth_dataset(midi_config({tmp.path().string()}), tmp / "out");
  EXPECT_EQ(sum.n_clips, 1);
  EXPECT_EQ(sum.skipped_files, static_cast<int>(bad.size()));
  ASSERT_EQ(sum.warnings.size(), bad.size());
  for (const auto& w : sum.warnings) EXPECT_NE(w.find(tmp.path().string()), std::string::npos);
  // Only bad files: an error, nothing written.
  fs::remove(tmp / "song.mid");
  const auto msg = tutti::testing::error_of(
      [&] { ts::write_synth_dataset(midi_config({tmp.path().string()}), tmp / "none"); });
  EXPECT_NE(msg.find("none of the"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp / "none"));
  // A folder without MIDI files, a missing file.
  fs::create_directories(tmp / "empty");
  EXPECT_NE(tutti::testing::error_of([&] {
              ts::write_synth_dataset(midi_config({(tmp / "empty").string()}), tmp / "x");
            }).find("no .mid"),
            std::string::npos);
  EXPECT_NE(tutti::testing::error_of([&] {
              ts::write_synth_dataset(midi_config({(tmp / "gone.mid").string()}), tmp / "x");
            }).find("gone.mid"),
            std::string::npos);
}

TEST(SynthMidi, BankSelectReachesGsVariationPresets) {
  // Channel 0: bank 16 program 25 (GS mandolin); channel 1: bank 16 program 25 in a palette
  // without variations falls back to GM program 26 (steel guitar), as a GS synthesizer would.
  const auto song = ts::parse_midi(
      smf(0,
          {track(
              {{0, {0xB0, 0, 16}}, {0, {0xC0, 25}}, {0, {0x90, 67, 90}}, {480, {0x80, 67, 0}}})}),
      "gs.mid");
  ASSERT_EQ(song.notes.size(), 1u);
  EXPECT_EQ(song.notes[0].bank, 16);
  auto palette = ts::Palette::general_midi();
  const int mandolin = *ts::instrument_index("mandolin");
  auto score = ts::midi_score(song, palette, 16000, 10, false);
  ASSERT_EQ(score.parts.size(), 1u);
  EXPECT_EQ(score.parts[0].class_index, *ts::instrument_index("guitar"));
  EXPECT_EQ(score.parts[0].bank, 0);
  palette.variations.assign(static_cast<std::size_t>(ts::num_instrument_classes()), {});
  palette.variations[static_cast<std::size_t>(mandolin)] = {{16, 25}};
  score = ts::midi_score(song, palette, 16000, 10, false);
  ASSERT_EQ(score.parts.size(), 1u);
  EXPECT_EQ(score.parts[0].class_index, mandolin);
  EXPECT_EQ(score.parts[0].bank, 16);
  EXPECT_EQ(score.parts[0].program, 25);
}

TEST(SynthMidi, SplitCutsASongIntoConsecutiveClips) {
  REQUIRE_TIM();
  EXPECT_EQ(ts::excerpt_starts(25, 10), (std::vector<double>{0, 10, 20}));
  EXPECT_EQ(ts::excerpt_starts(20.5, 10), (std::vector<double>{0, 10}));  // 0.5 s left: no clip
  EXPECT_EQ(ts::excerpt_starts(3, 10), (std::vector<double>{0}));
  tutti::testing::TempDir tmp;
  write_bytes(tmp / "song.mid", song());  // 1.5 s: piano 0-1.25 s (pedal), bass 1.0-1.5 s
  auto cfg = midi_config({(tmp / "song.mid").string()});
  cfg.duration_s = 0.5;
  cfg.midi_split = true;
  const auto sum = ts::write_synth_dataset(cfg, tmp / "out");
  ASSERT_EQ(sum.n_clips, 3);
  const auto clips = tutti::testing::csv_cells(tmp / "out" / "clips.csv");
  EXPECT_EQ(clips[1][3], "0");
  EXPECT_EQ(clips[2][3], "0.5");
  EXPECT_EQ(clips[3][3], "1");
  std::map<std::string, std::vector<double>> third;  // the clip from 1.0 s
  for (const auto& r : tutti::testing::csv_cells(tmp / "out" / "strong.csv"))
    if (r[0] == "synth_000002.wav") third[r[1]] = {std::stod(r[2]), std::stod(r[3])};
  const double grid = 64.0 / 16000;
  ASSERT_TRUE(third.count("piano") && third.count("bass"));
  EXPECT_NEAR(third["piano"][0], 0.0, 1e-9);
  EXPECT_NEAR(third["piano"][1], 0.25 + 0.1, grid);  // held by the pedal until 1.25 s
  EXPECT_NEAR(third["bass"][0], 0.0, grid);
  EXPECT_EQ(third.count("drums"), 0u);  // the kick rang at 0-0.06 s
}

namespace {

ts::Part melodic_part(int cls, int channel, std::vector<std::pair<int, std::int64_t>> keys_on) {
  ts::Part p;
  p.class_index = cls;
  p.channel = channel;
  p.program = ts::instrument_classes()[static_cast<std::size_t>(cls)].gm_programs.front() - 1;
  for (const auto& [key, on] : keys_on)
    p.notes.push_back({on * ts::kBlockSamples, (on + 100) * ts::kBlockSamples, key, 90});
  return p;
}

ts::Palette only_class(ts::Palette pal, int cls) {  // the palette's programs of one class only
  for (std::size_t c = 0; c < pal.programs.size(); ++c)
    if (static_cast<int>(c) != cls) pal.programs[c].clear();
  return pal;
}

}  // namespace

TEST(SynthMidi, AnyInstrumentDrawsAClassOfThePaletteAndMovesKeysByOctaves) {
  const int bass = *ts::instrument_index("bass"), drums = *ts::instrument_index("drums");
  ts::Score score;
  score.num_samples = 1000 * ts::kBlockSamples;
  score.parts.push_back(melodic_part(bass, 0, {{28, 0}, {35, 50}, {40, 120}}));
  ts::Part kit;
  kit.class_index = drums;
  kit.channel = ts::kPercussionChannel;
  kit.bank = 128;
  kit.notes.push_back({0, 64 * 10, 36, 100});
  score.parts.push_back(kit);
  const auto pal = ts::Palette::general_midi();

  // Probability 0: nothing changes.
  auto same = score;
  ts::reassign_instruments(same, pal, 0, 1);
  EXPECT_EQ(same.parts[0].class_index, bass);
  EXPECT_EQ(same.parts[0].notes[2].key, 40);

  // Only flute left in the palette: the bass line (28-40) moves up three octaves into flute's
  // range (60-93): 64-76, every key in it. Drums are untouched.
  const int flute = *ts::instrument_index("flute");
  auto moved = score;
  ts::reassign_instruments(moved, only_class(pal, flute), 1, 7);
  EXPECT_EQ(moved.parts[0].class_index, flute);
  EXPECT_EQ(moved.parts[0].program, 73);  // GM 74, flute
  std::vector<int> keys;
  for (const auto& n : moved.parts[0].notes) keys.push_back(n.key);
  EXPECT_EQ(keys, (std::vector<int>{64, 71, 76}));
  EXPECT_EQ(moved.parts[1].class_index, drums);
  EXPECT_EQ(moved.parts[1].notes[0].key, 36);

  // Banjo (50-76): keys 24 and 60 struck almost together. No shift puts both in range; no shift
  // at all fits one (60), and 24 folds up by octaves to 60 as well: the two notes share key 60,
  // so the earlier one ends where the later one starts.
  ts::Score chord;
  chord.num_samples = score.num_samples;
  chord.parts.push_back(melodic_part(bass, 0, {{24, 0}, {60, 10}}));
  ts::reassign_instruments(chord, only_class(pal, *ts::instrument_index("banjo")), 1, 3);
  ASSERT_EQ(chord.parts[0].notes.size(), 2u);
  EXPECT_EQ(chord.parts[0].notes[0].key, 60);
  EXPECT_EQ(chord.parts[0].notes[1].key, 60);
  EXPECT_EQ(chord.parts[0].notes[0].off, 10 * ts::kBlockSamples);

  // Over 800 draws with the full General MIDI palette: every one of the 16 melodic classes comes
  // up (expected 50 each), never a percussion class; the program is one of the class's; keys stay
  // in range and move by whole octaves. At probability 0.5 the class changes in 0.5 * 15/16 =
  // 0.469 of the parts.
  std::map<int, int> drawn;
  int changed_half = 0;
  for (int s = 0; s < 800; ++s) {
    auto all = score;
    ts::reassign_instruments(all, pal, 1, ts::clip_seed(5, s));
    const auto& p = all.parts[0];
    const auto& cls = ts::instrument_classes()[static_cast<std::size_t>(p.class_index)];
    ++drawn[p.class_index];
    ASSERT_FALSE(cls.percussion);
    const auto& progs = pal.programs[static_cast<std::size_t>(p.class_index)];
    EXPECT_NE(std::find(progs.begin(), progs.end(), p.program + 1), progs.end()) << cls.name;
    for (std::size_t k = 0; k < p.notes.size(); ++k) {
      EXPECT_GE(p.notes[k].key, cls.low_key);
      EXPECT_LE(p.notes[k].key, cls.high_key);
      EXPECT_EQ((p.notes[k].key - score.parts[0].notes[k].key) % 12, 0);
    }
    auto half = score;
    ts::reassign_instruments(half, pal, 0.5, ts::clip_seed(6, s));
    changed_half += half.parts[0].class_index != bass;
  }
  EXPECT_EQ(drawn.size(), 16u);
  for (const auto& [c, n] : drawn) EXPECT_GT(n, 20) << c;
  EXPECT_NEAR(changed_half / 800.0, 0.469, 0.06);
}

TEST(SynthMidi, DropPartsLeavesOutPartsButNeverAllOfThem) {
  const int bass = *ts::instrument_index("bass"), piano = *ts::instrument_index("piano");
  const int guitar = *ts::instrument_index("guitar");
  ts::Score score;
  score.num_samples = 1000 * ts::kBlockSamples;
  score.parts.push_back(melodic_part(bass, 0, {{40, 0}}));
  score.parts.push_back(melodic_part(piano, 1, {{60, 0}}));
  score.parts.push_back(melodic_part(guitar, 2, {{52, 0}}));
  score.parts.push_back(melodic_part(piano, 3, {}));  // no notes in this excerpt: always kept
  auto classes = [](const ts::Score& s) {
    std::vector<int> out;
    for (const auto& p : s.parts)
      if (!p.notes.empty()) out.push_back(p.class_index);
    return out;
  };

  // Probability 0: nothing changes.
  auto same = score;
  ts::drop_parts(same, 0, 1);
  EXPECT_EQ(classes(same), (std::vector<int>{bass, piano, guitar}));

  // Probability 1: exactly one sounding part stays, each of the three about equally often
  // (expected 200 of 600); the silent part is never dropped and the order is kept.
  std::map<int, int> solo;
  int dropped_half = 0, all_half = 0;
  for (int s = 0; s < 600; ++s) {
    auto one = score;
    ts::drop_parts(one, 1, ts::clip_seed(8, s));
    ASSERT_EQ(classes(one).size(), 1u);
    ASSERT_EQ(one.parts.size(), 2u);
    EXPECT_TRUE(one.parts[1].notes.empty());
    ++solo[classes(one)[0]];
    // Probability 0.5: each part goes with chance 1/2, but a clip never loses all three
    // (1/8 of the draws keep one instead): 1.5 - 1/8 = 1.375 parts dropped on average.
    auto half = score;
    ts::drop_parts(half, 0.5, ts::clip_seed(9, s));
    const auto left = classes(half).size();
    ASSERT_GE(left, 1u);
    dropped_half += static_cast<int>(3 - left);
    all_half += left == 3;
    // The same seed gives the same parts.
    auto again = score;
    ts::drop_parts(again, 0.5, ts::clip_seed(9, s));
    EXPECT_EQ(classes(again), classes(half));
  }
  EXPECT_EQ(solo.size(), 3u);
  for (const auto& [c, n] : solo) EXPECT_NEAR(n, 200, 45) << c;
  EXPECT_NEAR(dropped_half / 600.0, 1.375, 0.08);
  EXPECT_NEAR(all_half / 600.0, 0.125, 0.04);
}
