// End-to-end: `tutti embed` a folder with labels -> `tutti train` -> `tutti tag` (table, JSON,
// CSV, SVG), with failures in batch mode and the embedder checks.
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <fstream>

#include "../embed/embed_test_util.h"
#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

struct Folder {
  TempDir dir;
  Folder() { write_labeled_wav_folder(dir.path()); }
};

TEST(CliEmbedTag, EmbedTrainTag) {
  Folder f;
  const auto npz = f.dir / "f.npz";
  auto r = run_cli({"embed", (f.dir / "audio").string(), "--embedder", "logmel-stats", "--labels",
                    (f.dir / "labels.csv").string(), "--threads", "2", "-o", npz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ds = data::load_bags(npz);
  EXPECT_EQ(ds.size(), 10);
  EXPECT_EQ(ds.max_instances, 3);
  EXPECT_EQ(ds.embedder, "logmel-stats");
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"drums", "piano"}));
  EXPECT_EQ(ds.keys[3], "c3.wav");
  EXPECT_FLOAT_EQ(ds.label(3, 1), 1.0f);

  // The dataset's embedder goes into the model; a contradicting --embedder is refused.
  const auto model = f.dir / "m.tutti";
  r = run_cli({"train", npz.string(), "--model", "att", "--epochs", "2", "--threads", "1",
               "--val-fraction", "0.3", "--embedder", "vggish", "-o", model.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("made by embedder 'logmel-stats'"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(model));
  r = run_cli({"train", npz.string(), "--model", "att", "--epochs", "2", "--threads", "1",
               "--val-fraction", "0.3", "-o", model.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  write_test_wav(f.dir / "long.wav", 20.0, 99);
  {
    std::ofstream(f.dir / "broken.wav") << "not audio";
  }
  const std::string a = (f.dir / "audio" / "c1.wav").string(), l = (f.dir / "long.wav").string();
  // Table.
  r = run_cli({"tag", "--model", model.string(), a, l});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("instrument"), std::string::npos);
  EXPECT_NE(r.out.find("piano"), std::string::npos);
  EXPECT_NE(r.out.find("20 instances, windows of 3"), std::string::npos) << r.out;
  // JSON with a failure: the others reported, exit 1, one line naming the bad file.
  r = run_cli({"tag", "--model", model.string(), a, (f.dir / "broken.wav").string(), l, "--json",
               "--plot", (f.dir / "t.svg").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("broken.wav"), std::string::npos) << r.err;
  const auto j = core::Json::parse(r.out);
  ASSERT_TRUE(j["files"].contains(l));
  const auto& lj = j["files"][l];
  EXPECT_EQ(lj["n_instances"], 20);
  EXPECT_EQ(lj["timeline"].size(), 20u);
  EXPECT_NEAR(lj["timeline"][19]["end_s"].get<double>(), 19.2, 1e-9);
  EXPECT_TRUE(lj["instruments"]["piano"].contains("probability"));
  EXPECT_TRUE(lj["timeline"][0].contains("attention"));
  EXPECT_EQ(j["failures"].size(), 1u);
  EXPECT_EQ(j["embedder"], "logmel-stats");
  ASSERT_TRUE(fs::exists(f.dir / "t.svg"));
  EXPECT_NE(slurp(f.dir / "t.svg").find("<svg"), std::string::npos);
  // CSV: header + files x classes.
  r = run_cli({"tag", "--model", model.string(), a, l, "--csv"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1 + 2 * 2);
  EXPECT_EQ(r.out.rfind("file,instrument,probability,threshold,present,segments\n", 0), 0u);
  // Embedder mismatch.
  r = run_cli({"tag", "--model", model.string(), a, "--embedder", "vggish"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("trained on 'logmel-stats' features"), std::string::npos) << r.err;
}

TEST(CliEmbedTag, EmbedBatchFailuresStrictAndErrors) {
  Folder f;
  {
    std::ofstream(f.dir / "audio" / "zz.wav") << "not audio";
  }
  const auto npz = f.dir / "f.npz";
  auto r = run_cli({"embed", (f.dir / "audio").string(), "-o", npz.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("zz.wav"), std::string::npos) << r.err;
  ASSERT_TRUE(fs::exists(npz));  // the good files are written
  EXPECT_EQ(data::load_bags(npz).size(), 10);
  const auto strict = f.dir / "s.npz";
  r = run_cli({"embed", (f.dir / "audio").string(), "--strict", "-o", strict.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(fs::exists(strict));
  r = run_cli({"embed", (f.dir / "nope").string(), "-o", strict.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("nope: no such file"), std::string::npos) << r.err;
  r = run_cli({"embed", (f.dir / "audio" / "c0.wav").string(), "--embedder", "mfcc", "-o",
               strict.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown"), std::string::npos) << r.err;
  r = run_cli({"embed", (f.dir / "audio" / "c0.wav").string(), "--labels",
               (f.dir / "missing.csv").string(), "-o", strict.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("missing.csv: no such file"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(strict));
}

}  // namespace
}  // namespace tutti::testing
