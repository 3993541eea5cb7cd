// The FM soundfont: DX7 banks read and checked, voice names mapped to GM programs, notes played
// through Debian's hexter plugin, and the SF2 file read back and played by FluidSynth.
// Pitches are checked against equal temperament (A4 = 440 Hz), not against the code's output.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/synth/fm_font.h"
#include "tutti/synth/renderer.h"

namespace ts = tutti::synth;
namespace fs = std::filesystem;

namespace {

const std::string kPlugin = "/usr/lib/dssi/hexter.so";
const std::string kDx7Roms = "/usr/share/hexter/dx7_roms.dx7";
const std::string kFb01Bank5 = "/usr/share/hexter/fb01_roms_converted_5.dx7";

#define REQUIRE_HEXTER()                                                        \
  if (!fs::exists(kPlugin) || !fs::exists(kDx7Roms) || !fs::exists(kFb01Bank5)) \
  GTEST_SKIP() << "hexter is not installed (Debian package hexter)"

using tutti::testing::error_of;

void write_bytes(const fs::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<std::uint8_t> bytes_of(const std::vector<ts::Dx7Voice>& voices) {
  std::vector<std::uint8_t> b;
  for (const auto& v : voices) b.insert(b.end(), v.packed.begin(), v.packed.end());
  return b;
}

ts::Dx7Voice renamed(ts::Dx7Voice v, const std::string& name10) {
  for (int i = 0; i < 10; ++i) v.packed[118 + i] = static_cast<std::uint8_t>(name10.at(i));
  return v;
}

// Frequency from the zero crossings of x[from, to), mono samples at `rate`.
double frequency(const std::vector<float>& x, std::size_t from, std::size_t to, int rate,
                 std::size_t stride = 1, std::size_t offset = 0) {
  int crossings = 0;
  for (std::size_t i = from + 1; i < to; ++i)
    if ((x[(i - 1) * stride + offset] < 0) != (x[i * stride + offset] < 0)) ++crossings;
  return crossings / 2.0 / (static_cast<double>(to - from) / rate);
}

}  // namespace

TEST(SynthFmFont, BanksAreReadAndBadOnesNameTheFileAndTheProblem) {
  REQUIRE_HEXTER();
  const auto roms = ts::read_dx7_bank(kDx7Roms);
  ASSERT_EQ(roms.size(), 128u);  // 16,384 bytes: four ROM cartridges of 32 voices
  EXPECT_EQ(roms[0].name, "BRASS   1");
  EXPECT_EQ(roms[14].name, "BASS    1");
  EXPECT_EQ(roms[127].name, "EXPLOSION");

  tutti::testing::TempDir dir;
  // A 32-voice bulk dump (the DX7's own SysEx format) of the first cartridge.
  std::vector<std::uint8_t> dump = {0xF0, 0x43, 0x00, 0x09, 0x20, 0x00};
  const auto data = bytes_of({roms.begin(), roms.begin() + 32});
  dump.insert(dump.end(), data.begin(), data.end());
  unsigned sum = 0;
  for (auto b : data) sum += b;
  dump.push_back(static_cast<std::uint8_t>((128 - (sum & 0x7f)) & 0x7f));
  dump.push_back(0xF7);
  write_bytes(dir.path() / "dump.syx", dump);
  const auto from_dump = ts::read_dx7_bank(dir.path() / "dump.syx");
  ASSERT_EQ(from_dump.size(), 32u);
  EXPECT_EQ(from_dump[31].name, roms[31].name);
  EXPECT_EQ(from_dump[5].packed, roms[5].packed);

  dump[4102] ^= 1;
  write_bytes(dir.path() / "badsum.syx", dump);
  EXPECT_NE(error_of([&] {
              ts::read_dx7_bank(dir.path() / "badsum.syx");
            }).find("badsum.syx: the bulk dump's checksum does not match"),
            std::string::npos);
  auto cut = data;
  cut.resize(200);
  write_bytes(dir.path() / "cut.dx7", cut);
  EXPECT_NE(error_of([&] {
              ts::read_dx7_bank(dir.path() / "cut.dx7");
            }).find("cut.dx7: not a DX7 voice bank (200 bytes"),
            std::string::npos);
  auto eight_bit = bytes_of({roms[0]});
  eight_bit[20] = 0x80;
  write_bytes(dir.path() / "8bit.dx7", eight_bit);
  EXPECT_NE(error_of([&] {
              ts::read_dx7_bank(dir.path() / "8bit.dx7");
            }).find("8bit.dx7: voice 1 has byte 20 = 128 (DX7 data are 7-bit)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { ts::read_dx7_bank(dir.path() / "absent.dx7"); }).find("absent.dx7"),
            std::string::npos);
}

TEST(SynthFmFont, VoiceNamesGiveGeneralMidiProgramGroups) {
  const std::vector<int> bass = {33, 34, 35, 36, 37, 38};
  EXPECT_EQ(ts::fm_voice_program_group("BASS    1"), bass);
  EXPECT_EQ(ts::fm_voice_program_group("FB:SynBas3"), bass);
  EXPECT_EQ(ts::fm_voice_program_group("BASSOON"), std::vector<int>{71});
  EXPECT_EQ(ts::fm_voice_program_group("E.PIANO 1"), (std::vector<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(ts::fm_voice_program_group("FB:Trombon"), std::vector<int>{58});
  EXPECT_EQ(ts::fm_voice_program_group("FB:SoloVio"), (std::vector<int>{41, 111}));
  EXPECT_EQ(ts::fm_voice_program_group("HARPSICH 1"), std::vector<int>{7});
  EXPECT_EQ(ts::fm_voice_program_group("HARP    1"), std::vector<int>{47});
  EXPECT_EQ(ts::fm_voice_program_group("SAX BC"), (std::vector<int>{65, 66, 67, 68}));
  // Sound effects whose names hold instrument words, and names of no instrument.
  EXPECT_TRUE(ts::fm_voice_program_group("GRAND PRIX").empty());
  EXPECT_TRUE(ts::fm_voice_program_group("TUBERISE A").empty());
  EXPECT_TRUE(ts::fm_voice_program_group("TRAIN").empty());
  EXPECT_TRUE(ts::fm_voice_program_group("FB:SineWav").empty());
}

TEST(SynthFmFont, HexterPlaysTheVoiceAtItsKeyAndStopsAfterTheRelease) {
  REQUIRE_HEXTER();
  const auto bank = ts::read_dx7_bank(kFb01Bank5);
  ASSERT_EQ(bank[47].name, "FB:SineWav");  // one sine operator: its pitch is the key's
  ts::FmFontConfig cfg;
  cfg.plugin = kPlugin;
  cfg.sample_rate_hz = 22050;
  cfg.hold_s = 1.0;
  cfg.release_s = 0.5;
  for (auto [key, hz] : {std::pair{69, 440.0}, std::pair{57, 220.0}, std::pair{76, 659.26}}) {
    const auto x = ts::render_dx7_note(cfg, bank[47], key);
    ASSERT_EQ(x.size(), 33075u);
    EXPECT_NEAR(frequency(x, 11025, 22050, 22050), hz, hz * 0.01) << key;
    double tail = 0;
    for (std::size_t i = 30000; i < x.size(); ++i) tail = std::max(tail, double(std::abs(x[i])));
    EXPECT_LT(tail, 1e-4) << "silent by the end of its release";
  }
  // The same note twice: the plugin starts from the same state.
  EXPECT_EQ(ts::render_dx7_note(cfg, bank[47], 69), ts::render_dx7_note(cfg, bank[47], 69));

  cfg.plugin = "/usr/lib/dssi/no-such-plugin.so";
  EXPECT_NE(error_of([&] {
              ts::render_dx7_note(cfg, bank[47], 69);
            }).find("no-such-plugin.so: cannot load the DSSI plugin"),
            std::string::npos);
  cfg.plugin = "/usr/lib/x86_64-linux-gnu/libfluidsynth.so.3";
  if (fs::exists(cfg.plugin)) {
    EXPECT_NE(error_of([&] {
                ts::render_dx7_note(cfg, bank[47], 69);
              }).find("libfluidsynth.so.3: not a DSSI plugin"),
              std::string::npos);
  }
  cfg = {};
  EXPECT_NE(error_of([&] { ts::render_dx7_note(cfg, bank[47], 128); }).find("key 128"),
            std::string::npos);
  cfg.key_step = 0;
  EXPECT_NE(error_of([&] { ts::render_dx7_note(cfg, bank[47], 69); }).find("--key-step 0"),
            std::string::npos);
}

TEST(SynthFmFont, TheSoundfontLoadsInFluidSynthWithItsProgramsAtTheirPitch) {
  REQUIRE_HEXTER();
  tutti::testing::TempDir dir;
  const auto fb = ts::read_dx7_bank(kFb01Bank5);
  const auto roms = ts::read_dx7_bank(kDx7Roms);
  // A sine named as a flute (GM 74) and the ROM's BASS 1 (GM 33-38), and a sound effect.
  write_bytes(dir.path() / "two.dx7",
              bytes_of({renamed(fb[47], "FLUTE SINE"), roms[14], roms[127]}));
  ts::FmFontConfig cfg;
  cfg.banks = {(dir.path() / "two.dx7").string()};
  cfg.sample_rate_hz = 22050;
  cfg.hold_s = 1.5;
  cfg.release_s = 0.2;
  const fs::path out = dir.path() / "fm.sf2";
  const auto s = ts::build_fm_font(cfg, out);
  EXPECT_EQ(s.voices_read, 3);
  EXPECT_EQ(s.voices_used, 2);
  ASSERT_EQ(s.presets.size(), 7u);  // bass on its 6 programs, the flute on 74
  EXPECT_EQ(s.presets.front(), (std::pair<int, std::string>{33, "BASS    1"}));
  EXPECT_EQ(s.presets.back(), (std::pair<int, std::string>{74, "FLUTE SINE"}));
  EXPECT_EQ(s.samples, 7 * 15);  // keys 24, 30, ..., 108
  // Built again: the same bytes (every note starts from the same oscillator phases).
  ts::build_fm_font(cfg, dir.path() / "again.sf2");
  EXPECT_EQ(tutti::core::read_file_bytes(out),
            tutti::core::read_file_bytes(dir.path() / "again.sf2"));

  ts::FluidSynthesizer synth(out, 22050, false);
  const auto report = synth.check();
  EXPECT_EQ(report.num_presets, 7);
  auto status = [&](const std::string& name) {
    return report.classes.at(static_cast<std::size_t>(*ts::instrument_index(name))).status;
  };
  EXPECT_EQ(status("flute"), ts::ClassStatus::kOk);
  EXPECT_EQ(status("bass"), ts::ClassStatus::kOk);
  EXPECT_EQ(status("piano"), ts::ClassStatus::kMissing);
  EXPECT_EQ(status("drums"), ts::ClassStatus::kMissing);
  EXPECT_TRUE(report.drum_kits.empty());

  // Keys on a sample (72) and between samples (70: the 72 sample two semitones down, and 75:
  // the 78 sample three down) sound at their equal-tempered pitch.
  for (auto [key, hz] : {std::pair{72, 523.25}, std::pair{70, 466.16}, std::pair{75, 622.25}}) {
    ts::Score score;
    score.sample_rate_hz = 22050;
    score.num_samples = 22050;
    ts::Part p;
    p.class_index = *ts::instrument_index("flute");
    p.program = 73;
    p.notes = {{0, 64 * 300, key, 100}};
    score.parts = {p};
    const auto x = synth.render(score);  // interleaved stereo
    EXPECT_NEAR(frequency(x, 4000, 15000, 22050, 2, 0), hz, hz * 0.01) << key;
  }

  // Banks with no instrument voice: an error, and no file.
  write_bytes(dir.path() / "fx.dx7", bytes_of({roms[127]}));
  cfg.banks = {(dir.path() / "fx.dx7").string()};
  EXPECT_NE(error_of([&] {
              ts::build_fm_font(cfg, dir.path() / "none.sf2");
            }).find("no voice of the banks is named after an instrument"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(dir.path() / "none.sf2"));
}
