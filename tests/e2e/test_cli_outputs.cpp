// No verb writes over one of its inputs: an output path that names an input (the same path, another
// spelling, a symbolic or a hard link) is refused with exit 2 and one line naming both, before any
// work; the input keeps its bytes.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/file_io.h"

namespace fs = std::filesystem;
using tutti::testing::count_lines;
using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

// A folder with a dataset, a model and stand-ins for the other input kinds (the refusal comes
// before any file is opened, so their content does not matter).
struct Inputs {
  TempDir dir;
  std::string data, model, audio, csv, pth, npz2;
  Inputs() {
    data = (dir / "d.npz").string();
    model = (dir / "m.tutti").string();
    audio = (dir / "a.wav").string();
    csv = (dir / "labels.csv").string();
    pth = (dir / "w.pth").string();
    npz2 = (dir / "e.npz").string();
    fs::copy_file(fixture("train/train_small.npz"), data);
    fs::copy_file(fixture("train/test_small.npz"), npz2);
    fs::copy_file(fixture("compat/att.tutti"), model);
    for (const auto& p : {audio, csv, pth}) std::ofstream(p) << "not really " << p << "\n";
  }
};

// Runs `args`, expects exit 2, one line naming `out` and `in`, and every file of `in` untouched.
void expect_refused(const Inputs& in, const std::vector<std::string>& args, const std::string& out,
                    const std::string& input) {
  std::map<std::string, std::string> before;
  for (const auto& e : fs::directory_iterator(in.dir.path()))
    if (e.is_regular_file()) before[e.path().string()] = tutti::core::md5_file_hex(e.path());
  const auto r = run_cli(args);
  std::string cmd;
  for (const auto& a : args) cmd += a + " ";
  SCOPED_TRACE(cmd);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(out + " is the input"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(input + ";"), std::string::npos) << r.err;
  for (const auto& [path, md5] : before) {
    ASSERT_TRUE(fs::is_regular_file(path)) << path;
    EXPECT_EQ(tutti::core::md5_file_hex(path), md5) << path;
  }
}

}  // namespace

TEST(CliOutputs, TrainRefusesItsDataAsOutputInAnySpelling) {
  Inputs in;
  expect_refused(in, {"train", in.data, "-o", in.data}, in.data, in.data);
  const auto other_spelling = (in.dir / "." / "sub" / ".." / "d.npz").string();
  fs::create_directory(in.dir / "sub");
  expect_refused(in, {"train", in.data, "-o", other_spelling}, other_spelling, in.data);
  const auto sym = (in.dir / "sym.npz").string();
  fs::create_symlink("d.npz", sym);
  expect_refused(in, {"train", sym, "-o", in.data}, in.data, sym);
  const auto hard = (in.dir / "hard.npz").string();
  fs::create_hard_link(in.data, hard);
  expect_refused(in, {"train", in.data, "--model", "rf", "-o", hard}, hard, in.data);
  // A linked folder: the output does not exist yet under that name, and is the input.
  const auto linked = in.dir / "linked";
  fs::create_directory_symlink(in.dir.path(), linked);
  expect_refused(in, {"train", in.data, "-o", (linked / "d.npz").string()},
                 (linked / "d.npz").string(), in.data);
  // A --val-split file is an input too.
  expect_refused(in, {"train", in.data, "--val-split", in.npz2, "-o", in.npz2}, in.npz2, in.npz2);
}

TEST(CliOutputs, EveryVerbThatWritesRefusesAnInput) {
  Inputs in;
  expect_refused(in, {"predict", in.model, in.data, "-o", in.data}, in.data, in.data);
  expect_refused(in, {"predict", in.model, in.data, "-o", in.model}, in.model, in.model);
  expect_refused(in, {"data", "split", in.data, "--train-out", in.data}, in.data, in.data);
  expect_refused(in, {"data", "split", in.data, "--test-out", in.data}, in.data, in.data);
  expect_refused(in, {"data", "filter", in.data, "--min-instances", "1", "-o", in.data}, in.data,
                 in.data);
  expect_refused(in, {"data", "concat", in.data, in.npz2, "-o", in.npz2}, in.npz2, in.npz2);
  expect_refused(in, {"data", "convert", "audioset", in.pth, "-o", in.pth}, in.pth, in.pth);
  expect_refused(in,
                 {"data", "convert", "openmic", in.dir.path().string(), "-o",
                  (in.dir / "openmic-2018.npz").string()},
                 (in.dir / "openmic-2018.npz").string(), (in.dir / "openmic-2018.npz").string());
  expect_refused(in, {"embed", in.audio, "-o", in.audio}, in.audio, in.audio);
  expect_refused(in, {"embed", in.audio, "--labels", in.csv, "-o", in.csv}, in.csv, in.csv);
  expect_refused(in, {"tag", "--model", in.model, in.audio, "--plot", in.audio}, in.audio,
                 in.audio);
  expect_refused(in, {"tag", "--model", in.model, in.audio, "--plot", in.model}, in.model,
                 in.model);
  expect_refused(in, {"features", in.audio, "-o", in.audio}, in.audio, in.audio);
  expect_refused(in, {"tsne", in.model, in.data, "-o", in.data}, in.data, in.data);
  expect_refused(in, {"experiment", "--train", in.data, "--test", in.npz2, "-o", in.npz2}, in.npz2,
                 in.npz2);
  expect_refused(in,
                 {"models", "import-vggish", "--weights", in.pth, "--pca", in.npz2, "-o", in.pth},
                 in.pth, in.pth);
  expect_refused(in, {"synth", "-n", "1", "--soundfont", in.pth, "-o", in.pth}, in.pth, in.pth);
}

TEST(CliOutputs, SynthOverwriteRefusesAFolderHoldingItsSoundfont) {
  Inputs in;
  const auto folder = in.dir.path().string();
  const auto r = run_cli({"synth", "-n", "1", "--soundfont", in.pth, "-o", folder, "--overwrite"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("synth: -o " + folder + " would be replaced, but the input --soundfont " +
                       in.pth + " is inside it"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::exists(in.pth));
  EXPECT_TRUE(fs::exists(in.data));
}

TEST(CliOutputs, DistinctPathsStillWork) {
  Inputs in;
  const auto out = (in.dir / "kept.npz").string();
  const auto r = run_cli({"data", "filter", in.data, "--min-instances", "1", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(out));
}
