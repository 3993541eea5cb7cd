// Mixup of bags (--mixup): the mixing against numpy (tools/fixtures/make_mixup_fixtures.py), the
// Beta sampler against scipy, deterministic draws, training with it on both engines, 0 = off, and
// the refused combinations.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/random.h"
#include "tutti/train/mixup.h"
#include "tutti/train/trainer.h"

using namespace tutti;
using tutti::testing::fixture;
using tutti::testing::row_range;
using tutti::testing::small_att_config;
using tutti::testing::train_fixture;

namespace {

core::Json mixup_reference() { return core::read_json_file(fixture("train/mixup_reference.json")); }

// The fixture's batch as a uint8 dataset.
data::BagDataset reference_batch(const core::Json& b) {
  const auto k = b["k"].get<std::int64_t>(), d = b["d"].get<std::int64_t>();
  const auto n = static_cast<std::int64_t>(b["n_instances"].size());
  auto ds = data::BagDataset::zeros(n, k, d, {"a", "b", "c"}, data::FeatureType::kUint8);
  std::size_t at = 0;
  for (const auto& clip : b["x"])
    for (const auto& inst : clip)
      for (const auto& v : inst) ds.x_u8[at++] = v.get<std::uint8_t>();
  ds.n_instances = b["n_instances"].get<std::vector<std::int32_t>>();
  at = 0;
  for (const auto& r : b["y_true"])
    for (const auto& v : r) ds.y_true[at++] = v.get<float>();
  at = 0;
  for (const auto& r : b["y_mask"])
    for (const auto& v : r) ds.y_mask[at++] = v.get<std::uint8_t>();
  ds.validate("mixup fixture");
  return ds;
}

torch::Tensor classifier(const train::NeuralTrainResult& r) {
  return r.model->named_parameters(true)["classifier.weight"];
}

}  // namespace

TEST(Mixup, MixBagsMatchesNumpy) {
  const auto ref = mixup_reference();
  const auto& b = ref["batch"];
  const auto ds = reference_batch(b);
  const auto batch_rows = b["rows"].get<std::vector<std::int64_t>>();
  train::MixupDraw draw{b["lambda"].get<double>(), b["partner"].get<std::vector<std::int64_t>>()};
  for (const bool soft : {false, true}) {
    const auto& want = ref[soft ? "mixed_soft" : "mixed_hard"];
    const auto got = train::mix_bags(ds, batch_rows, draw, soft);
    ASSERT_EQ(got.size(), 4);
    EXPECT_EQ(got.feature_type, data::FeatureType::kFloat32);
    EXPECT_EQ(got.n_instances, want["n_instances"].get<std::vector<std::int32_t>>());
    std::size_t at = 0;
    for (const auto& clip : want["x"])
      for (const auto& inst : clip)
        for (const auto& v : inst) EXPECT_NEAR(got.x_f32[at++], v.get<double>(), 1e-6) << at;
    at = 0;
    for (const auto& r : want["y_true"])
      for (const auto& v : r) EXPECT_NEAR(got.y_true[at++], v.get<double>(), 1e-6) << soft;
    at = 0;
    for (const auto& r : want["y_mask"])
      for (const auto& v : r) EXPECT_EQ(got.y_mask[at++], v.get<int>()) << soft;
  }
}

TEST(Mixup, MixBagsRefusesBadDraws) {
  const auto ref = mixup_reference();
  const auto ds = reference_batch(ref["batch"]);
  const std::vector<std::int64_t> batch_rows = {0, 1, 2};
  EXPECT_THROW(train::mix_bags(ds, batch_rows, {0.5, {0, 1}}, false), Error);
  EXPECT_THROW(train::mix_bags(ds, batch_rows, {0.5, {0, 1, 3}}, false), Error);
  const std::vector<std::int64_t> outside = {0, 9};
  EXPECT_THROW(train::mix_bags(ds, outside, {0.5, {1, 0}}, false), Error);
  EXPECT_THROW(train::draw_mixup(0.0, 1, 1, 1, 4), Error);
}

// 100,000 draws per alpha: the largest distance of the empirical CDF from scipy's at the points
// is below 0.006 (the Kolmogorov-Smirnov 0.1 % critical value for this many draws).
TEST(Mixup, BetaVariateFollowsScipysBeta) {
  const auto cases = mixup_reference()["beta_cdf"];
  ASSERT_EQ(cases.size(), 3u);
  for (const auto& c : cases) {
    const double a = c["alpha"].get<double>();
    std::mt19937_64 g(11);
    std::vector<double> v(100000);
    for (auto& x : v) {
      x = core::beta_variate(g, a, a);
      ASSERT_TRUE(x >= 0 && x <= 1) << a;
    }
    std::sort(v.begin(), v.end());
    for (std::size_t i = 0; i < c["points"].size(); ++i) {
      const double p = c["points"][i].get<double>();
      const double ecdf =
          static_cast<double>(std::lower_bound(v.begin(), v.end(), p) - v.begin()) / v.size();
      EXPECT_NEAR(ecdf, c["cdf"][i].get<double>(), 0.006) << "alpha " << a << " at " << p;
    }
  }
}

TEST(Mixup, DrawsDependOnlyOnSeedEpochAndStep) {
  const auto a = train::draw_mixup(0.2, 5, 3, 2, 64), b = train::draw_mixup(0.2, 5, 3, 2, 64);
  EXPECT_EQ(a.lambda, b.lambda);
  EXPECT_EQ(a.partner, b.partner);
  auto sorted = a.partner;
  std::sort(sorted.begin(), sorted.end());
  for (std::int64_t i = 0; i < 64; ++i) EXPECT_EQ(sorted[static_cast<std::size_t>(i)], i);
  EXPECT_GT(a.lambda, 0.0);
  EXPECT_LT(a.lambda, 1.0);
  for (const auto& other :
       {train::draw_mixup(0.2, 6, 3, 2, 64), train::draw_mixup(0.2, 5, 4, 2, 64),
        train::draw_mixup(0.2, 5, 3, 3, 64)})
    EXPECT_NE(other.lambda, a.lambda);
}

// On either engine: --mixup reruns bit-identically and trains other weights than without it;
// a config that never mentions it has mixup 0, off (that off leaves training bit-identical to a
// tutti without mixup is what tools/check_identical.sh checks against its recorded baseline).
TEST(Mixup, TrainingIsDeterministicAndZeroIsOff) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = row_range(ds, 0, 120), val = row_range(ds, 120, 160);
  for (const char* engine : {"auto", "autograd"}) {
    auto plain = small_att_config(2);
    plain.engine = engine;
    EXPECT_EQ(plain.mixup, 0.0);
    auto mixed = plain;
    mixed.mixup = 0.4;
    const auto p = train::train_neural(tr, val, plain);
    const auto m1 = train::train_neural(tr, val, mixed), m2 = train::train_neural(tr, val, mixed);
    EXPECT_TRUE(torch::equal(classifier(m1), classifier(m2))) << engine;
    EXPECT_EQ(m1.summary.history[1].val_loss, m2.summary.history[1].val_loss) << engine;
    EXPECT_FALSE(torch::equal(classifier(m1), classifier(p))) << engine;
    EXPECT_TRUE(std::isfinite(m1.summary.val_loss)) << engine;
  }
}

// Both engines see the same mixed batches and targets: after one epoch from the same seed their
// training losses agree closely (the engines sum in different orders).
TEST(Mixup, EnginesTrainOnTheSameMixedTargets) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = row_range(ds, 0, 120), val = row_range(ds, 120, 160);
  auto cfg = small_att_config(1);
  cfg.mixup = 1.0;
  cfg.model_options = {{"dropout", 0.0}};
  auto autograd = cfg;
  autograd.engine = "autograd";
  const auto f = train::train_neural(tr, val, cfg), a = train::train_neural(tr, val, autograd);
  EXPECT_NEAR(f.summary.history[0].train_loss, a.summary.history[0].train_loss, 1e-4);
}

TEST(Mixup, RefusedWhereItIsNotDefined) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = row_range(ds, 0, 120), val = row_range(ds, 120, 160);
  auto cfg = train::TrainConfig::for_model("mmgat");
  cfg.epochs = 1;
  cfg.mixup = 0.2;
  try {
    train::train_neural(tr, val, cfg);
    FAIL() << "mmgat with --mixup was accepted";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("--mixup 0.2: not supported for mmgat"), std::string::npos)
        << e.what();
  }
  auto bad = small_att_config(1);
  bad.mixup = -1;
  EXPECT_THROW(bad.validate(), UsageError);
}
