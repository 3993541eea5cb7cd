// End-to-end: the real `tutti` program trains, evaluates and predicts on the small fixtures
// (tests/fixtures/train, made by tools/fixtures/make_train_fixtures.py), runs a tiny experiment
// and fails cleanly (exit 2 for usage, 1 for bad files, one "tutti: error:" line, no output file).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/bag_io.h"
#include "tutti/models/model_decl.h"

using tutti::testing::fixture;
using tutti::testing::TempDir;

namespace {

using Run = tutti::testing::CliResult;

Run tutti_cli(const std::vector<std::string>& args, const TempDir& /*dir*/) {
  return tutti::testing::run_cli(args);
}

std::string fx(const std::string& name) { return fixture("train/" + name).string(); }

}  // namespace

TEST(CliTrain, TrainEvalPredictAtt) {
  TempDir dir;
  const auto model = (dir / "att.tutti").string();
  auto r = tutti_cli({"train", fx("train_small.npz"), "--model", "att", "--seed", "3", "--epochs",
                      "4", "--batch-size", "32", "--threads", "2", "-o", model},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("trained att"), std::string::npos) << r.err;
  ASSERT_TRUE(std::filesystem::exists(model));
  EXPECT_TRUE(r.out.empty()) << "train must keep stdout free: " << r.out;

  r = tutti_cli({"eval", model, fx("test_small.npz"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = tutti::core::Json::parse(r.out);
  for (const char* key : {"mAP", "auc", "f1_pos", "f1_pos_05", "f1_attmic", "per_class"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_GT(j["mAP"].get<double>(), 0.3);
  EXPECT_EQ(j["per_class"].size(), 3u);

  r = tutti_cli({"eval", model, fx("test_small.npz")}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("macro"), std::string::npos);

  const auto pred = (dir / "pred.npz").string();
  r = tutti_cli({"predict", model, fx("test_small.npz"), "-o", pred, "--instances"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tutti::core::ZipReader z(pred);
  for (const char* e : {"scores.npy", "sample_key.npy", "classes.npy", "instance_prob.npy",
                        "attention.npy", "n_instances.npy"})
    EXPECT_TRUE(z.contains(e)) << e;
}

TEST(CliTrain, RandomForestAndValSplitFile) {
  TempDir dir;
  const auto model = (dir / "rf.tutti").string();
  auto r = tutti_cli({"train", fx("train_small.npz"), "--model", "rf", "--rf-trees", "20",
                      "--val-split", fx("val_split_small.npz"), "-o", model},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("130 clips (+30 validation)"), std::string::npos) << r.err;
  r = tutti_cli({"eval", model, fx("test_small.npz"), "--json"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_GT(tutti::core::Json::parse(r.out)["mAP"].get<double>(), 0.5);
  // A forest has no per-instance outputs.
  r = tutti_cli({"predict", model, fx("test_small.npz"), "-o", (dir / "p.npz").string(),
                 "--instances"},
                dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(std::filesystem::exists(dir / "p.npz"));
}

TEST(CliTrain, UsageErrorsExit2) {
  TempDir dir;
  const auto out = (dir / "m.tutti").string();
  const std::vector<std::vector<std::string>> cases = {
      {"train", fx("train_small.npz"), "-o", out, "--epochs", "0"},
      {"train", fx("train_small.npz"), "-o", out, "--model", "svm"},
      {"train", fx("train_small.npz"), "-o", out, "--batch-size", "many"},
      {"train", fx("train_small.npz")},  // no -o
      {"train", fx("train_small.npz"), "-o", out, "--device", "tpu"},
      {"train", fx("train_small.npz"), "-o", out, "--val-split", fx("val_split_small.npz"),
       "--val-fraction", "0.2"},
      {"train", fx("train_small.npz"), "-o", out, "--option", "novalue"},
      {"eval", out},
      {"experiment", "--train", fx("train_small.npz"), "--test", fx("test_small.npz"), "-o",
       (dir / "exp").string(), "--seeds", "0"},
  };
  for (const auto& args : cases) {
    const auto r = tutti_cli(args, dir);
    EXPECT_EQ(r.exit_code, 2) << args[0] << " " << args.back() << ": " << r.err;
    EXPECT_FALSE(std::filesystem::exists(out));
  }
  for (const char* verb : {"train", "eval", "predict", "experiment"}) {
    const auto r = tutti_cli({verb, "--help"}, dir);
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << verb;
  }
}

TEST(CliTrain, BadFilesExit1WithOneLineNamingTheFile) {
  TempDir dir;
  const auto out = (dir / "m.tutti").string();
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const auto junk = (dir / "junk.tutti").string();
  std::ofstream(junk) << "not a zip";
  const std::vector<Case> cases = {
      {{"train", fx("bad_noknown.npz"), "-o", out, "--epochs", "1"}, "'c2'"},
      {{"train", fx("bad_nan.npz"), "-o", out, "--epochs", "1"}, "bad_nan.npz"},
      {{"train", fx("train_small.npz"), "--model", "fc", "-o", out, "--epochs", "1"},
       "train_small.npz"},
      {{"eval", junk, fx("test_small.npz")}, "junk.tutti"},
      {{"train", fx("train_small.npz"), "-o", out, "--device", "cuda", "--epochs", "1"}, "cuda"},
  };
  for (const auto& c : cases) {
    const auto r = tutti_cli(c.args, dir);
    if (c.needle == "cuda") {  // a usage error when CUDA is missing, which it is on CI machines
      EXPECT_NE(r.exit_code, 0);
      continue;
    }
    EXPECT_EQ(r.exit_code, 1) << c.args[1] << ": " << r.err;
    EXPECT_EQ(r.err.rfind("tutti: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out)) << c.args[1];
  }
  // A model trained on D = 16 evaluated on D = 8 features.
  auto r = tutti_cli({"train", fx("train_small.npz"), "--model", "rf", "--rf-trees", "5", "-o",
                      out},
                     dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = tutti_cli({"eval", out, fx("test_d8.npz")}, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("test_d8.npz: features have D = 8"), std::string::npos) << r.err;
}

TEST(CliTrain, ExperimentWritesResultsAndResumes) {
  TempDir dir;
  const auto exp = (dir / "exp").string();
  const std::vector<std::string> args = {"experiment", "--train", fx("train_small.npz"), "--test",
                                         fx("test_small.npz"), "--models", "att,rf", "--seeds",
                                         "2", "--epochs", "2", "--batch-size", "32",
                                         "--rf-trees", "10", "--threads", "2", "-o", exp};
  auto r = tutti_cli(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"att-seed1.tutti", "att-seed2.tutti", "rf-seed1.tutti", "rf-seed2.tutti",
                        "results.json", "report.html"})
    EXPECT_TRUE(std::filesystem::exists(dir / ("exp/" + std::string(f)))) << f;
  const auto res = tutti::core::read_json_file(dir / "exp/results.json");
  ASSERT_EQ(res["runs"].size(), 4u);
  for (const auto& run : res["runs"]) {
    for (const char* key : {"model", "seed", "metrics", "train_seconds", "seconds_per_epoch",
                            "epochs_run", "best_epoch", "params", "infer_clips_per_s",
                            "model_file"})
      EXPECT_TRUE(run.contains(key)) << key;
  }
  EXPECT_EQ(res["data"]["classes"].size(), 3u);
  EXPECT_EQ(res["data"]["train_md5"].get<std::string>().size(), 32u);
  const auto& att = res["summary"]["att"];
  EXPECT_EQ(att["n_runs"], 2);
  // Mean and sample std (ddof = 1) of the two runs' mAP.
  const double a = res["runs"][0]["metrics"]["mAP"], b = res["runs"][1]["metrics"]["mAP"];
  EXPECT_NEAR(att["mAP"]["mean"].get<double>(), (a + b) / 2, 1e-12);
  EXPECT_NEAR(att["mAP"]["std"].get<double>(), std::abs(a - b) / std::sqrt(2.0), 1e-12);
  EXPECT_TRUE(att["per_class"]["c0"]["f1"].contains("mean"));

  // Rerun: every run is skipped, nothing retrained.
  const auto before = std::filesystem::last_write_time(dir / "exp/att-seed1.tutti");
  r = tutti_cli(args, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("skipped"), std::string::npos) << r.err;
  EXPECT_EQ(std::filesystem::last_write_time(dir / "exp/att-seed1.tutti"), before);
  EXPECT_EQ(tutti::core::read_json_file(dir / "exp/results.json")["runs"].size(), 4u);

  // Another configuration in the same folder is refused.
  auto changed = args;
  changed[10] = "3";  // --epochs 3
  r = tutti_cli(changed, dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another configuration"), std::string::npos) << r.err;

  // Another model with other options joins the folder; the runs of att and rf stay as they are.
  r = tutti_cli({"experiment", "--train", fx("train_small.npz"), "--test", fx("test_small.npz"),
                 "--models", "fc_t", "--seeds", "1", "--epochs", "3", "--patience", "1",
                 "--batch-size", "32", "--threads", "2", "-o", exp},
                dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto joined = tutti::core::read_json_file(dir / "exp/results.json");
  EXPECT_EQ(joined["runs"].size(), 5u);
  EXPECT_EQ(joined["summary"]["att"]["n_runs"], 2);
  EXPECT_EQ(joined["summary"]["fc_t"]["n_runs"], 1);
  EXPECT_EQ(joined["runs"][0]["train_config"]["epochs"], 2);
  EXPECT_EQ(std::filesystem::last_write_time(dir / "exp/att-seed1.tutti"), before);
}

// `tutti train --help` lists every declared model and alias with its summary.
TEST(CliTrain, HelpListsTheDeclaredModels) {
  TempDir dir;
  const auto r = tutti_cli({"train", "--help"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& d : tutti::models::model_decls()) {
    EXPECT_NE(r.out.find(d.name), std::string::npos) << d.name;
    EXPECT_NE(r.out.find(d.summary), std::string::npos) << d.summary;
  }
  for (const auto& a : tutti::models::model_aliases())
    EXPECT_NE(r.out.find(a.name), std::string::npos) << a.name;
}

// The embedder is one fact: the dataset's record, in the model file's features and its training
// configuration, and in an experiment's configurations (the report shows them).
TEST(CliTrain, TheDatasetsEmbedderIsRecordedOnce) {
  TempDir dir;
  auto ds = tutti::data::load_bags(fx("train_small.npz"));
  ds.embedder = "logmel-stats";
  tutti::data::save_bags(dir / "train.npz", ds);
  auto test = tutti::data::load_bags(fx("test_small.npz"));
  test.embedder = "logmel-stats";
  tutti::data::save_bags(dir / "test.npz", test);
  const auto meta_of = [](const std::filesystem::path& file) {
    tutti::core::ZipReader z(file);
    const auto bytes = z.read("meta.json");
    return tutti::core::Json::parse(std::string(bytes.begin(), bytes.end()));
  };
  for (const char* model : {"rf", "att"}) {
    const auto out = dir / (std::string(model) + ".tutti");
    const auto r = tutti_cli({"train", (dir / "train.npz").string(), "--model", model, "--epochs",
                              "1", "--rf-trees", "3", "--batch-size", "32", "-o", out.string()},
                             dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto meta = meta_of(out);
    EXPECT_EQ(meta["features"]["embedder"], "logmel-stats") << model;
    EXPECT_EQ(meta["train_config"]["embedder"], "logmel-stats") << model;
  }
  const auto exp = dir / "exp";
  const auto r = tutti_cli(
      {"experiment", "--train", (dir / "train.npz").string(), "--test", (dir / "test.npz").string(),
       "--models", "rf", "--seeds", "1", "--rf-trees", "3", "-o", exp.string()},
      dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto res = tutti::core::read_json_file(exp / "results.json");
  EXPECT_EQ(res["config"]["model_configs"]["rf"]["embedder"], "logmel-stats");
  EXPECT_EQ(res["runs"][0]["train_config"]["embedder"], "logmel-stats");
  EXPECT_EQ(meta_of(exp / "rf-seed1.tutti")["train_config"]["embedder"], "logmel-stats");
}

// Every training flag sets its declared key (recorded in meta.json "train_config"), and the help
// shows the declared defaults, the per-model ones computed from the model declarations.
TEST(CliTrain, FlagsMapToTheirKeysAndHelpShowsDeclaredDefaults) {
  TempDir dir;
  const auto out = dir / "att.tutti";
  const auto r = tutti_cli({"train",
                            fx("train_small.npz"),
                            "--model",
                            "att",
                            "--seed",
                            "5",
                            "--threads",
                            "1",
                            "--device",
                            "cpu",
                            "--embedder",
                            "custom",
                            "--val-fraction",
                            "0.2",
                            "--val-seed",
                            "9",
                            "--label-smoothing",
                            "0.1",
                            "--lr-schedule",
                            "cosine",
                            "--mixup",
                            "0.3",
                            "--ema",
                            "0.5",
                            "--aux-weight",
                            "0.5",
                            "--teacher-weight",
                            "0.25",
                            "--epochs",
                            "1",
                            "--lr",
                            "0.001",
                            "--weight-decay",
                            "0",
                            "--batch-size",
                            "16",
                            "--patience",
                            "3",
                            "--engine",
                            "autograd",
                            "--rf-trees",
                            "7",
                            "--rf-max-depth",
                            "3",
                            "--rf-subsample",
                            "0.5",
                            "--rf-features",
                            "mean_std",
                            "--option",
                            "dropout=0.25",
                            "-o",
                            out.string()},
                           dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  tutti::core::ZipReader z(out);
  const auto bytes = z.read("meta.json");
  const auto cfg =
      tutti::core::Json::parse(std::string(bytes.begin(), bytes.end()))["train_config"];
  const tutti::core::Json want = {{"model", "att"},
                                  {"seed", 5},
                                  {"threads", 1},
                                  {"device", "cpu"},
                                  {"embedder", "custom"},
                                  {"val_split", ""},
                                  {"val_fraction", 0.2},
                                  {"val_seed", 9},
                                  {"label_smoothing", 0.1},
                                  {"lr_schedule", "cosine"},
                                  {"mixup", 0.3},
                                  {"ema", 0.5},
                                  {"aux_labels", ""},
                                  {"aux_weight", 0.5},
                                  {"teacher", ""},
                                  {"teacher_weight", 0.25},
                                  {"epochs", 1},
                                  {"learning_rate", 0.001},
                                  {"weight_decay", 0.0},
                                  {"batch_size", 16},
                                  {"patience", 3},
                                  {"engine", "autograd"},
                                  {"rf_trees", 7},
                                  {"rf_max_depth", 3},
                                  {"rf_subsample", 0.5},
                                  {"rf_features", "mean_std"},
                                  {"model_options", {{"dropout", 0.25}}}};
  EXPECT_EQ(cfg, want);

  for (const char* verb : {"train", "experiment"}) {
    const auto h = tutti_cli({verb, "--help"}, dir);
    ASSERT_EQ(h.exit_code, 0) << verb;
    EXPECT_NE(h.out.find("(default: 250 for att, 100 otherwise)"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("(default: 0.0001 for fc, 0.00025 for mmgat, 0.0005 otherwise)"),
              std::string::npos)
        << h.out;
    EXPECT_NE(h.out.find("(default: 0.632)"), std::string::npos) << h.out;
    EXPECT_NE(h.out.find("Random forest (rf):"), std::string::npos) << h.out;
    EXPECT_EQ(h.out.find("--seed ") != std::string::npos, std::string(verb) == "train") << verb;
  }
}

// `tutti models list` prints every declaration: each model, its options with their defaults, and
// the aliases.
TEST(CliTrain, ModelsListPrintsTheDeclarations) {
  TempDir dir;
  const auto r = tutti_cli({"models", "list"}, dir);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& d : tutti::models::model_decls()) {
    const auto section = r.out.find(d.name + ": " + d.summary);
    ASSERT_NE(section, std::string::npos) << d.name;
    for (const auto& o : d.options) {
      const auto at = r.out.find("--option " + o.key + "=", section);
      ASSERT_NE(at, std::string::npos) << d.name << "." << o.key;
      const auto line = r.out.substr(at, r.out.find('\n', at) - at);
      EXPECT_NE(line.find(" " + o.help + " (" + o.describe() + ")"), std::string::npos) << line;
    }
  }
  EXPECT_NE(r.out.find("att: "), std::string::npos);
  EXPECT_NE(r.out.find("training: 250 epochs, lr 0.0005"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("mmgat-single: mmgat with one graph scale (= mmgat with {\"scales\":1})"),
            std::string::npos)
      << r.out;
}
