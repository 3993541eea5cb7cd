// End-to-end: `tutti synth` writes a complete labeled folder, or nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "test_util.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliSynth, WritesAudioAndWeakAndStrongLabels) {
  if (!fs::exists("/usr/share/sounds/sf2/TimGM6mb.sf2")) GTEST_SKIP() << "TimGM6mb not installed";
  TempDir dir;
  const auto out = dir / "syn";
  const auto r = run_cli(
      {"synth", "-n", "3", "--seed", "5", "--duration", "3", "--threads", "2", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("3 clips"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("mandolin"), std::string::npos) << r.err;  // said: never synthesized
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(fs::exists(out / "audio" / ("synth_00000" + std::to_string(i) + ".wav")));
  // Weak labels: every synthesizable class (18) is known for each clip.
  const auto labels = slurp(out / "labels.csv");
  EXPECT_EQ(labels.rfind("file,instrument,relevance\n", 0), 0u);
  EXPECT_EQ(count_lines(labels), 1 + 3 * 18);
  EXPECT_EQ(slurp(out / "strong.csv").rfind("file,instrument,onset_s,offset_s\n", 0), 0u);
}

TEST(CliSynth, ImpossibleOptionsAndMissingSoundfontLeaveNoFolder) {
  TempDir dir;
  auto r = run_cli({"synth", "-n", "0", "-o", (dir / "a").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli({"synth", "-n", "2", "--duration", "0", "-o", (dir / "b").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli(
      {"synth", "-n", "2", "--soundfont", (dir / "none.sf2").string(), "-o", (dir / "c").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.sf2"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CliSynth, FmFontWritesASoundfontOrOneErrorLineAndNothing) {
  const std::string roms = "/usr/share/hexter/dx7_roms.dx7";
  if (!fs::exists(roms) || !fs::exists("/usr/lib/dssi/hexter.so"))
    GTEST_SKIP() << "hexter not installed";
  TempDir dir;
  auto r = run_cli({"fm-font", roms, "--key-step", "24", "--hold", "0.5", "--release", "0.1",
                    "-o", (dir / "fm.sf2").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("128 voices read"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("piano:6"), std::string::npos) << r.err;
  // The font plays in `tutti synth`: its drum classes are reported missing, not an error.
  r = run_cli({"synth", "-n", "2", "--duration", "2", "--soundfont", (dir / "fm.sf2").string(),
               "-o", (dir / "syn").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("drums: no percussion keys"), std::string::npos) << r.err;

  std::ofstream(dir / "short.dx7") << "not a bank";
  r = run_cli({"fm-font", (dir / "short.dx7").string(), "-o", (dir / "bad.sf2").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("short.dx7: not a DX7 voice bank (10 bytes"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  r = run_cli({"fm-font", roms, "--velocity", "0", "-o", (dir / "bad.sf2").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli({"fm-font", (dir / "short.dx7").string(), "-o", (dir / "short.dx7").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(fs::exists(dir / "bad.sf2"));
}

TEST(CliSynth, RandomizedPoolMidiBatchesAndTheFluidR3Rule) {
  const std::string tim = "/usr/share/sounds/sf2/TimGM6mb.sf2";
  if (!fs::exists(tim)) GTEST_SKIP() << "TimGM6mb not installed";
  TempDir dir;
  const auto tiny = fixture("synth/tiny.sf2").string();
  auto r = run_cli({"synth", "-n", "4", "--seed", "3", "--duration", "1", "--instruments", "1",
                    "--soundfont", tim, "--soundfont", tiny, "--effects", "-o",
                    (dir / "pool").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines(slurp(dir / "pool" / "clips.csv")), 5);

  // FluidR3, by the name of a link: refused in one line, nothing written; allowed for a test set.
  fs::create_symlink(tim, dir / "FluidR3_GM.sf2");
  r = run_cli({"synth", "-n", "1", "--duration", "1", "--soundfont",
               (dir / "FluidR3_GM.sf2").string(), "-o", (dir / "r3").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("FluidR3_GM.sf2"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir / "r3"));
  r = run_cli({"synth", "-n", "1", "--duration", "1", "--soundfont",
               (dir / "FluidR3_GM.sf2").string(), "--test-font-ok", "-o", (dir / "r3").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;

  // MIDI: a file that is not MIDI alone is the error; in a batch it is skipped and counted.
  fs::create_directories(dir / "midi");
  {
    std::ofstream(dir / "midi" / "bad.mid") << "not midi";
    // Format 0, one track: piano C4 for one quarter note at 120 BPM.
    const unsigned char good[] = {'M', 'T',  'h',  'd',  0,    0,   0, 6, 0,    0,    0, 1,
                                  1,   0xE0, 'M',  'T',  'r',  'k', 0, 0, 0,    13,   0, 0x90,
                                  60,  100,  0x83, 0x60, 0x80, 60,  0, 0, 0xFF, 0x2F, 0};
    std::ofstream(dir / "midi" / "good.mid", std::ios::binary)
        .write(reinterpret_cast<const char*>(good), sizeof(good));
  }
  r = run_cli(
      {"synth", "--midi", (dir / "midi" / "bad.mid").string(), "-o", (dir / "m1").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.mid: not a Standard MIDI File"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_FALSE(fs::exists(dir / "m1"));
  r = run_cli({"synth", "--midi", (dir / "midi").string(), "--generator", "mine", "-o",
               (dir / "m2").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped 1 of 2 MIDI files"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("bad.mid"), std::string::npos) << r.err;
  EXPECT_NE(slurp(dir / "m2" / "strong.csv").find("synth_000000.wav,piano,0.000000"),
            std::string::npos);
  EXPECT_NE(slurp(dir / "m2" / "clips.csv").find(",mine,"), std::string::npos);
}

}  // namespace
}  // namespace tutti::testing
