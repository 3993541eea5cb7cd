// End-to-end: `tutti ensemble` combines model files (old ones from tests/fixtures/compat and fresh
// ones) into one; `tutti predict` on it gives the mean of what its members predict, its thresholds
// are the ones the single-model code chooses, and bad members are refused with one line.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"
#include "tutti/eval/evaluate.h"

using namespace tutti;
using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

std::string compat(const std::string& name) { return fixture("compat/" + name).string(); }
std::string fx(const std::string& name) { return fixture("train/" + name).string(); }

core::Json meta_of(const std::string& model, const std::string& entry = "meta.json") {
  const auto bytes = core::ZipReader(model).read(entry);
  return core::Json::parse(bytes.begin(), bytes.end());
}

std::vector<float> array(const std::string& npz, const std::string& key) {
  return data::read_npz(npz).at(key).as_f32(npz + ":" + key);
}

void expect_near_all(const std::vector<float>& got, const std::vector<float>& want, double tol,
                     const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i)
    worst = std::max(worst, std::abs(static_cast<double>(got[i]) - want[i]));
  EXPECT_LE(worst, tol) << what;
}

// Exit 1 (2 for usage), one "tutti: error:" line containing `needle`, no output file.
void expect_refused(const std::vector<std::string>& args, const std::string& out, int code,
                    const std::string& needle) {
  const auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(tutti::testing::count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out)) << out;
}

}  // namespace

// Members written by an earlier tutti (format versions 1-2): the ensemble's scores and
// per-instance outputs are the means of the predictions stored with them, and its thresholds are
// eval::choose_thresholds of those means on the validation data.
TEST(CliEnsemble, OldModelFilesAverageToTheirStoredPredictions) {
  TempDir dir;
  const std::string ens = (dir / "ens.tutti").string(), pred = (dir / "pred.npz").string();
  const std::vector<std::string> names = {"att", "fc_t", "rnn"};
  std::vector<std::string> args = {"ensemble",           "-o",        ens, "--validation",
                                   fx("test_small.npz"), "--threads", "1"};
  for (const auto& n : names) args.push_back(compat(n + ".tutti"));
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("ensemble of 3 models"), std::string::npos) << r.err;
  r = run_cli({"predict", ens, fx("test_small.npz"), "-o", pred, "--instances", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::vector<double> mean_scores, mean_inst;
  for (const auto& n : names) {
    const auto s = array(compat(n + "-pred.npz"), "scores");
    const auto inst = array(compat(n + "-pred.npz"), "instance_prob");
    mean_scores.resize(s.size());
    mean_inst.resize(inst.size());
    for (std::size_t i = 0; i < s.size(); ++i) mean_scores[i] += s[i] / 3.0;
    for (std::size_t i = 0; i < inst.size(); ++i) mean_inst[i] += inst[i] / 3.0;
  }
  const std::vector<float> want(mean_scores.begin(), mean_scores.end());
  expect_near_all(array(pred, "scores"), want, 1e-6, "scores");
  expect_near_all(array(pred, "instance_prob"),
                  std::vector<float>(mean_inst.begin(), mean_inst.end()), 1e-6, "instance_prob");
  // Only ATT has attention: the ensemble has none.
  EXPECT_EQ(data::read_npz(pred).count("attention"), 0u);

  const core::Json meta = meta_of(ens);
  EXPECT_EQ(meta["format_version"], 3);
  EXPECT_EQ(meta["ensemble"]["members"], 3);
  EXPECT_EQ(meta["model"]["name"], "att");
  const auto val = data::load_bags(fx("test_small.npz"));
  const auto thr = eval::choose_thresholds(val, want);
  expect_near_all(meta["thresholds"].get<std::vector<float>>(), thr, 1e-5, "thresholds");
  EXPECT_NEAR(meta["training"]["val_map"].get<double>(), eval::evaluate(val, want, thr).mAP, 1e-6);
  EXPECT_EQ(meta_of(ens, "member-1/meta.json")["model"]["name"], "fc_t");

  // The ensemble evaluates like any model file.
  r = run_cli({"eval", ens, fx("test_small.npz"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(core::Json::parse(r.out)["mAP"].get<double>(), eval::evaluate(val, want, thr).mAP,
              1e-6);
}

// One member and its own validation part (--val-seed = its seed): the trainer's thresholds and
// validation mAP come back.
TEST(CliEnsemble, OneMemberOnItsValidationPartKeepsTheTrainersThresholds) {
  TempDir dir;
  const std::string model = (dir / "att.tutti").string(), ens = (dir / "ens.tutti").string();
  auto r = run_cli({"train", fx("train_small.npz"), "--model", "att", "--seed", "3", "--epochs",
                    "4", "--batch-size", "32", "--threads", "1", "-o", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"ensemble", model, "--validation", fx("train_small.npz"), "--val-seed", "3",
               "--threads", "1", "-o", ens});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const core::Json m = meta_of(model), e = meta_of(ens);
  expect_near_all(e["thresholds"].get<std::vector<float>>(),
                  m["thresholds"].get<std::vector<float>>(), 1e-6, "thresholds");
  EXPECT_NEAR(e["training"]["val_map"].get<double>(), m["training"]["val_map"].get<double>(), 1e-6);
  EXPECT_NEAR(e["training"]["val_loss"].get<double>(), m["training"]["val_loss"].get<double>(),
              1e-5);
  EXPECT_EQ(e["training"]["n_val"], m["training"]["n_val"]);
}

TEST(CliEnsemble, BadMembersAndDataAreRefused) {
  TempDir dir;
  const std::string out = (dir / "ens.tutti").string();
  const std::string val = fx("test_small.npz"), att = compat("att.tutti");
  auto ens = [&](std::vector<std::string> members) {
    std::vector<std::string> a = {"ensemble", "-o", out, "--validation", val};
    a.insert(a.end(), members.begin(), members.end());
    return a;
  };
  // Another feature dimension.
  const std::string d8 = (dir / "d8.tutti").string();
  ASSERT_EQ(run_cli({"train", fx("test_d8.npz"), "--model", "att", "--epochs", "1", "--threads",
                     "1", "-o", d8})
                .exit_code,
            0);
  expect_refused(ens({att, d8}), out, 1, "features (D = 8");
  // Other classes.
  const std::string two = (dir / "two.npz").string(), two_model = (dir / "two.tutti").string();
  ASSERT_EQ(
      run_cli({"data", "filter", fx("train_small.npz"), "--classes", "c0,c1", "-o", two}).exit_code,
      0);
  ASSERT_EQ(
      run_cli({"train", two, "--model", "att", "--epochs", "1", "--threads", "1", "-o", two_model})
          .exit_code,
      0);
  expect_refused(ens({att, two_model}), out, 1, "its 2 classes differ from the ensemble's 3");
  // A forest with neural models.
  expect_refused(ens({att, compat("rf.tutti")}), out, 1, "a 'rf' model cannot join");
  // A truncated member.
  const std::string cut = (dir / "cut.tutti").string();
  {
    const auto bytes = tutti::testing::slurp(att);
    std::ofstream(cut, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  expect_refused(ens({att, cut}), out, 1, "model: " + cut);
  // Validation data of other classes or features.
  expect_refused({"ensemble", "-o", out, "--validation", two, att}, out, 1,
                 "--validation " + two + ": the dataset's 2 classes differ");
  expect_refused({"ensemble", "-o", out, "--validation", fx("test_d8.npz"), att}, out, 1,
                 "features have D = 8, the model expects D = 16");
  // Usage.
  expect_refused({"ensemble", "-o", out, att}, out, 2, "--validation");
  expect_refused({"ensemble", "-o", att, "--validation", val, att}, out, 2, "is the input");

  // An ensemble is not a member; a damaged ensemble file is refused when loaded.
  const std::string good = (dir / "good.tutti").string();
  ASSERT_EQ(run_cli(ens({att, compat("fc_t.tutti")})).exit_code, 0);
  std::filesystem::rename(out, good);
  expect_refused(ens({good, att}), out, 1, "is an ensemble; give its members instead");
  const std::string broken = (dir / "broken.tutti").string();
  {
    core::ZipReader in(good);
    core::ZipWriter w(broken);
    for (const auto& name : in.names())
      if (name != "member-1/weights.pt") w.add(name, in.read(name));
    w.commit();
  }
  const std::string pred = (dir / "p.npz").string();
  expect_refused({"predict", broken, val, "-o", pred}, pred, 1,
                 "entry 'member-1/weights.pt' is missing");
  // "ensemble" in a version-2 file.
  const std::string v2 = (dir / "v2.tutti").string();
  {
    core::ZipReader in(good);
    core::ZipWriter w(v2);
    for (const auto& name : in.names()) {
      if (name != "meta.json") {
        w.add(name, in.read(name));
        continue;
      }
      core::Json j = meta_of(good);
      j["format_version"] = 2;
      const std::string s = j.dump();
      w.add(name, std::vector<std::uint8_t>(s.begin(), s.end()));
    }
    w.commit();
  }
  expect_refused({"predict", v2, val, "-o", pred}, pred, 1,
                 "format version 2 cannot have an \"ensemble\" entry");
}

// `tutti experiment --ensembles`: per seed, the ensemble of that seed's runs (an extra member of
// a model named twice trained with seed s + 1000 on seed s's validation split), recorded next to
// the single models and resumed like them.
TEST(CliEnsemble, ExperimentRunsEnsemblesNextToTheirMembers) {
  TempDir dir;
  const std::string out = (dir / "exp").string();
  const std::vector<std::string> args = {"experiment",
                                         "--train",
                                         fx("train_small.npz"),
                                         "--test",
                                         fx("test_small.npz"),
                                         "--models",
                                         "att,fc_t",
                                         "--ensembles",
                                         "att+fc_t,att+att",
                                         "--seeds",
                                         "2",
                                         "--epochs",
                                         "3",
                                         "--threads",
                                         "1",
                                         "-o",
                                         out};
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const core::Json res = core::read_json_file(dir / "exp" / "results.json");
  int ensembles = 0;
  for (const auto& run : res["runs"]) {
    const std::string model = run["model"];
    if (model.find('+') == std::string::npos) continue;
    ++ensembles;
    const std::string file = (dir / "exp" / run["model_file"].get<std::string>()).string();
    EXPECT_EQ(meta_of(file)["ensemble"]["members"], 2);
    r = run_cli({"eval", file, fx("test_small.npz"), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NEAR(core::Json::parse(r.out)["mAP"].get<double>(), run["metrics"]["mAP"].get<double>(),
                1e-9)
        << model;
  }
  EXPECT_EQ(ensembles, 4);
  const core::Json member = meta_of((dir / "exp" / "att-seed2-m1.tutti").string());
  EXPECT_EQ(member["train_config"]["seed"], 1002);
  EXPECT_EQ(member["train_config"]["val_seed"], 2);
  // Resumed: nothing is trained again.
  r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("att+att seed 2: done earlier, skipped"), std::string::npos) << r.err;

  r = run_cli({"experiment", "--train", fx("train_small.npz"), "--test", fx("test_small.npz"),
               "--models", "att", "--ensembles", "att+rnn", "-o", (dir / "bad").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--ensembles att+rnn: 'rnn' is not one of --models"), std::string::npos)
      << r.err;
}
