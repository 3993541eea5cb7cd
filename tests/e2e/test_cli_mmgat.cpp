// End-to-end: `tutti train --model mmgat` on the small synthetic fixture (tests/fixtures/train,
// tools/fixtures/make_train_fixtures.py) learns (test mAP well above the positive rate), writes a
// self-contained model file (label embeddings and onset groups in the spec; the embeddings file is
// deleted before predicting), and round-trips through eval and predict. The ablations train too.
#include <gtest/gtest.h>

#include <fstream>

#include "cli_runner.h"
#include "max_abs_diff.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/npz.h"

using tutti::testing::fixture;
using tutti::testing::max_abs_diff;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

std::string fx(const std::string& name) { return fixture("train/" + name).string(); }

// Fraction of known test labels that are positive: the mAP of a random scorer, roughly.
double positive_rate() {
  const auto a = tutti::data::read_npz(fx("test_small.npz"));
  const auto y = a.at("Y_true").as_f32("Y_true");
  const auto m = a.at("Y_mask").as_u8("Y_mask");
  double pos = 0, known = 0;
  for (std::size_t i = 0; i < y.size(); ++i)
    if (m[i]) {
      known += 1;
      pos += y[i] >= 0.5f;
    }
  return pos / known;
}

}  // namespace

TEST(CliMmgat, TrainEvalPredictSelfContained) {
  TempDir dir;
  std::ofstream(dir / "onset.csv") << "class,group\nc0,hard\nc1,soft\nc2,hard\n";
  std::ofstream(dir / "emb.csv") << "1,0,0.5\n0,1,0.5\n0.5,0.5,1\n";
  const auto model = (dir / "mmgat.tutti").string();
  auto r = run_cli({"train", fx("train_small.npz"), "--model", "mmgat", "--seed", "3", "--epochs",
                    "25", "--batch-size", "32", "--threads", "2", "--option",
                    "onset_table=" + (dir / "onset.csv").string(), "--option",
                    "label_embeddings=" + (dir / "emb.csv").string(), "--option",
                    "similarity=emd", "--option", "emd_sigma=0.3", "-o", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("trained mmgat"), std::string::npos) << r.err;
  std::filesystem::remove(dir / "emb.csv");
  std::filesystem::remove(dir / "onset.csv");

  tutti::core::ZipReader z(model);
  const auto meta_bytes = z.read("meta.json");
  const auto meta = tutti::core::Json::parse(std::string(meta_bytes.begin(), meta_bytes.end()));
  const auto& opt = meta["model"]["options"];
  EXPECT_EQ(opt["onset_groups"], tutti::core::Json({0, 1, 0}));
  EXPECT_EQ(opt["label_embedding_matrix"],
            tutti::core::Json({{1.0, 0.0, 0.5}, {0.0, 1.0, 0.5}, {0.5, 0.5, 1.0}}));
  EXPECT_EQ(opt["similarity"], "emd");

  r = run_cli({"eval", model, fx("test_small.npz"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const double map = tutti::core::Json::parse(r.out)["mAP"].get<double>();
  const double chance = positive_rate();
  std::printf("mmgat test mAP %.3f (positive rate %.3f)\n", map, chance);
  EXPECT_GT(map, chance + 0.2);

  const auto pred = (dir / "pred.npz").string();
  r = run_cli({"predict", model, fx("test_small.npz"), "-o", pred, "--instances"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto arrays = tutti::data::read_npz(pred);
  for (const char* e : {"scores", "instance_prob", "attention", "n_instances"})
    EXPECT_TRUE(arrays.count(e)) << e;
  // Predicting twice gives the same scores (the model file alone determines them).
  const auto pred2 = (dir / "pred2.npz").string();
  ASSERT_EQ(run_cli({"predict", model, fx("test_small.npz"), "-o", pred2}).exit_code, 0);
  EXPECT_EQ(arrays.at("scores").as_f32("a"),
            tutti::data::read_npz(pred2).at("scores").as_f32("b"));
}

TEST(CliMmgat, DefaultPpmiAndAblationsTrain) {
  TempDir dir;
  for (const char* name : {"mmgat", "mmgat-single", "mmgat-principal", "mmgat-graph"}) {
    SCOPED_TRACE(name);
    const auto model = (dir / (std::string(name) + ".tutti")).string();
    auto r = run_cli({"train", fx("train_small.npz"), "--model", name, "--epochs", "3",
                      "--batch-size", "32", "--threads", "2", "--option", "hidden=32", "-o",
                      model});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_cli({"eval", model, fx("test_small.npz"), "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // A bad option value is a usage error naming it.
  auto r = run_cli({"train", fx("train_small.npz"), "--model", "mmgat", "--option",
                    "similarity=dtw", "-o", (dir / "x.tutti").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("similarity"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.tutti"));
}

// A model file written before the ablations were options of mmgat (spec name "mmgat-single",
// tests/fixtures/mmgat/old_mmgat_single.tutti, with the scores that tutti predicted) loads and
// predicts the same scores, and training with the old name today reproduces it. Bit for bit on
// the CPU that made the fixture; a CPU with another instruction set rounds some sums differently
// (1 ulp, 6e-8, measured on an AVX2 AMD EPYC), so the scores are compared to 1e-6: another model
// or a changed computation moves them by far more.
TEST(CliMmgat, OldAliasModelFileLoadsAndPredictsTheSame) {
  TempDir dir;
  const auto old_model = fixture("mmgat/old_mmgat_single.tutti").string();
  const auto want =
      tutti::data::read_npz(fixture("mmgat/old_mmgat_single_pred.npz")).at("scores").as_f32("old");
  const auto pred = (dir / "pred.npz").string();
  auto r = run_cli({"predict", old_model, fx("test_small.npz"), "--threads", "1", "-o", pred});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(max_abs_diff(tutti::data::read_npz(pred).at("scores").as_f32("new"), want), 1e-6f);

  const auto model = (dir / "single.tutti").string();
  r = run_cli({"train",        fx("train_small.npz"),
               "--model",      "mmgat-single",
               "--epochs",     "2",
               "--seed",       "2",
               "--threads",    "1",
               "--batch-size", "32",
               "--option",     "hidden=8",
               "--option",     "label_dim=2",
               "--option",     "ae_hidden=4",
               "--option",     "ae_latent=2",
               "-o",           model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pred2 = (dir / "pred2.npz").string();
  r = run_cli({"predict", model, fx("test_small.npz"), "--threads", "1", "-o", pred2});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(max_abs_diff(tutti::data::read_npz(pred2).at("scores").as_f32("retrained"), want),
            1e-6f);
  // The new file records the resolved spec: mmgat with the alias's option.
  tutti::core::ZipReader z(model);
  const auto bytes = z.read("meta.json");
  const auto meta = tutti::core::Json::parse(std::string(bytes.begin(), bytes.end()));
  EXPECT_EQ(meta["model"]["name"], "mmgat");
  EXPECT_EQ(meta["model"]["options"]["scales"], 1);
  EXPECT_EQ(meta["train_config"]["model"], "mmgat-single");
}
