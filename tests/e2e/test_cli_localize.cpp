// End-to-end: `tutti synth --embed` makes a strongly labeled dataset.npz, a tiny ATT model is
// trained on it, `tutti localize` scores it (table and JSON), `tutti experiment` fills the report's
// localization section; and every failure is one clean error line.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;
const std::string kTim = "/usr/share/sounds/sf2/TimGM6mb.sf2";

// A strongly labeled set (cached per test binary run).
fs::path synth_set(const TempDir& dir, const std::string& name, const std::string& seed) {
  const auto out = dir / name;
  const auto r = run_cli({"synth", "-n", "12", "--seed", seed, "--duration", "3",
                          "--sample-rate", "16000", "--threads", "2", "--embed", "logmel-stats",
                          "-o", out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("dataset.npz: 12 clips x 3 instances"), std::string::npos) << r.out;
  return out;
}

TEST(CliLocalize, SynthEmbedTrainLocalizeExperiment) {
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim;
  TempDir dir;
  const auto set = synth_set(dir, "syn", "1");
  const auto full = data::load_bags(set / "dataset.npz");
  EXPECT_EQ(full.size(), 12);
  EXPECT_EQ(full.max_instances, 3);
  EXPECT_EQ(full.num_classes(), 20);
  EXPECT_TRUE(full.has_instance_labels());
  // Mandolin and ukulele are unknown everywhere; training needs a known label per class.
  const auto npz = (dir / "s18.npz").string();
  auto r = run_cli({"data", "filter", (set / "dataset.npz").string(), "--classes",
                    "accordion,banjo,bass,cello,clarinet,cymbals,drums,flute,guitar,"
                    "mallet_percussion,organ,piano,saxophone,synthesizer,trombone,trumpet,violin,"
                    "voice",
                    "-o", npz});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ds = data::load_bags(npz);
  ASSERT_TRUE(ds.has_instance_labels());

  const auto att = (dir / "att.tutti").string();
  r = run_cli({"train", npz, "--model", "att", "--epochs", "3", "--batch-size", "4",
                    "--threads", "2", "-o", att});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"localize", att, npz, "--draws", "20", "--threads", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* m : {"attention", "frame", "product", "uniform", "random"})
    EXPECT_NE(r.out.find(m), std::string::npos) << r.out;
  r = run_cli({"localize", att, npz, "--draws", "20", "--seed", "4", "--json", "--examples", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  EXPECT_EQ(j["model"], "att");
  EXPECT_EQ(j["random_draws"], 20);
  EXPECT_DOUBLE_EQ(j["methods"]["uniform"]["auc"].get<double>(), 0.5);
  EXPECT_TRUE(j["methods"]["attention"]["mAP"].is_number());
  EXPECT_LE(j["examples"].size(), 1u);
  // Segment-based F1 of the tag timeline against strong.csv.
  r = run_cli({"localize", att, npz, "--draws", "5", "--strong", (set / "strong.csv").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tag timeline vs"), std::string::npos) << r.out;
  r = run_cli({"localize", att, npz, "--draws", "5", "--json", "--strong",
               (set / "strong.csv").string(), "--resolution", "0.5"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto js = core::Json::parse(r.out);
  EXPECT_DOUBLE_EQ(js["segment"]["resolution_s"].get<double>(), 0.5);
  EXPECT_GT(js["segment"]["tp"].get<int>() + js["segment"]["fn"].get<int>(), 0);
  r = run_cli({"localize", att, npz, "--strong", (set / "labels.csv").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("labels.csv:1: no header naming an onset column"), std::string::npos)
      << r.err;
  // Same seed, same random baseline.
  const auto again = core::Json::parse(
      run_cli({"localize", att, npz, "--draws", "20", "--seed", "4", "--json", "--examples", "1"})
          .out);
  EXPECT_EQ(again["methods"]["random"], j["methods"]["random"]);

  // Errors: a model without instance outputs, data without Y_instance, bad options.
  const auto rf = (dir / "rf.tutti").string();
  r = run_cli({"train", npz, "--model", "rf", "--rf-trees", "3", "-o", rf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"localize", rf, npz});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no per-instance outputs"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  auto weak = ds;
  weak.y_instance.clear();
  const auto weak_npz = (dir / "weak.npz").string();
  data::save_bags(weak_npz, weak);
  r = run_cli({"localize", att, weak_npz});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no instance labels (Y_instance)"), std::string::npos) << r.err;
  r = run_cli({"localize", att, npz, "--draws", "0"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli({"localize", att, (dir / "missing.npz").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  // Experiment: localization per model in results.json and in the report.
  const auto exp = dir / "exp";
  r = run_cli({"experiment", "--train", npz, "--test", npz, "--models", "att,fc_t,rf", "--seeds",
               "1", "--epochs", "2", "--batch-size", "4", "--rf-trees", "3", "-o", exp.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto res = core::read_json_file(exp / "results.json");
  ASSERT_TRUE(res.contains("localization"));
  const auto& loc = res["localization"];
  EXPECT_TRUE(loc["models"].contains("att"));
  EXPECT_TRUE(loc["models"].contains("fc_t"));
  EXPECT_FALSE(loc["models"].contains("rf"));
  EXPECT_NE(loc["description"].get<std::string>().find("rf"), std::string::npos);
  EXPECT_TRUE(loc["models"]["att"]["methods"]["attention"]["mAP"].contains("mean"));
  EXPECT_FALSE(loc["models"]["fc_t"]["methods"].contains("attention"));
  EXPECT_TRUE(loc["models"]["fc_t"]["methods"].contains("frame"));
  const auto html = slurp(exp / "report.html");
  EXPECT_NE(html.find("id=\"localization\""), std::string::npos);
}

TEST(CliLocalize, SynthEmbedFailuresLeaveNoFolder) {
  TempDir dir;
  auto r = run_cli({"synth", "-n", "2", "--duration", "2", "--embed", "no-such", "-o",
                    (dir / "a").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no-such"), std::string::npos) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  r = run_cli({"synth", "-n", "2", "--duration", "2", "--embed", "logmel-stats", "--soundfont",
               (dir / "none.sf2").string(), "-o", (dir / "b").string()});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CliLocalize, NoiseOnlyPool) {
  TempDir dir;
  const auto out = dir / "noise";
  auto r = run_cli({"synth", "--noise-only", "--noise", "pink", "-n", "3", "--duration", "2",
                    "--sample-rate", "16000", "--embed", "logmel-stats", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ds = data::load_bags(out / "dataset.npz");
  EXPECT_EQ(ds.size(), 3);
  for (auto m : ds.y_mask) EXPECT_EQ(m, 1);
  for (auto y : ds.y_true) EXPECT_EQ(y, 0.0f);
  // Without --embed: just the folder.
  r = run_cli({"synth", "--noise-only", "-n", "2", "--duration", "1", "-o",
               (dir / "plain").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(dir / "plain" / "audio" / "noise_000001.wav"));
  EXPECT_FALSE(fs::exists(dir / "plain" / "dataset.npz"));
}

}  // namespace
}  // namespace tutti::testing
