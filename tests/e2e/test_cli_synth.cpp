// End-to-end: `tutti synth` writes a complete labeled folder, or nothing.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"
#include "test_util.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliSynth, WritesAudioAndWeakAndStrongLabels) {
  if (!fs::exists("/usr/share/sounds/sf2/TimGM6mb.sf2")) GTEST_SKIP() << "TimGM6mb not installed";
  TempDir dir;
  const auto out = dir / "syn";
  const auto r = run_cli({"synth", "-n", "3", "--seed", "5", "--duration", "3", "--threads", "2",
                          "-o", out.string()});
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
  r = run_cli({"synth", "-n", "2", "--soundfont", (dir / "none.sf2").string(), "-o",
               (dir / "c").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("none.sf2"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

}  // namespace
}  // namespace tutti::testing
