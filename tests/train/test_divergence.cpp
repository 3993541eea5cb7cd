// A run that diverges ends in one line naming the model, the epoch, the step and the learning rate
// (every engine), and float features far outside the uint8 / 255 scale are refused before training.
#include <gtest/gtest.h>

#include <regex>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/train/train.h"
#include "tutti/train/trainer.h"
#include "tutti/train/validation.h"

using namespace tutti;
using tutti::testing::error_of;
using tutti::testing::TempDir;
using tutti::testing::train_fixture;

namespace {

// A learning rate at which Adam's first update (about lr per weight) overflows float32.
constexpr double kDivergingLr = 1e30;

train::TrainConfig diverging(const std::string& model, const std::string& engine) {
  auto cfg = train::TrainConfig::for_model(model);
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.threads = 2;
  cfg.seed = 7;
  cfg.learning_rate = kDivergingLr;
  cfg.engine = engine;
  return cfg;
}

data::BagDataset rows(const data::BagDataset& ds, std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> idx;
  for (std::int64_t i = from; i < to; ++i) idx.push_back(i);
  return ds.subset(idx);
}

void expect_one_line_divergence(const std::string& msg, const std::string& model) {
  const std::regex want("train: " + model +
                        ": loss became (NaN|infinite) at epoch [0-9]+ step [0-9]+ \\(learning "
                        "rate 1e\\+30\\): lower --lr or check the features");
  EXPECT_TRUE(std::regex_match(msg, want)) << msg;
}

}  // namespace

TEST(Divergence, EveryModelAndEngineEndsInOneLine) {
  const auto small = train_fixture("train_small.npz");
  const auto fixed = train_fixture("train_fixed.npz");
  struct Case {
    std::string model, engine;
    const data::BagDataset* data;
  };
  // att auto: the fused whole-step kernel; mmgat auto: fused ops + FusedAdam; the others and
  // --engine autograd: LibTorch autograd + torch::optim::Adam.
  const std::vector<Case> cases = {{"att", "auto", &small},   {"att", "autograd", &small},
                                   {"fc_t", "auto", &small},  {"rnn", "auto", &small},
                                   {"mmgat", "auto", &small}, {"mmgat", "autograd", &small},
                                   {"fc", "auto", &fixed}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.model + " " + c.engine);
    const auto& ds = *c.data;
    const std::string msg = error_of([&] {
      train::train_neural(rows(ds, 0, 120), rows(ds, 120, ds.size()), diverging(c.model, c.engine));
    });
    expect_one_line_divergence(msg, c.model);
  }
}

TEST(Divergence, OtherLibTorchFailuresInAStepAreOneLineToo) {
  // At lr 1e38 torch::optim::Adam's step size (lr / (1 - beta1)) no longer fits a float: LibTorch
  // throws from inside the step, before any loss is NaN.
  auto cfg = diverging("att", "autograd");
  cfg.learning_rate = 1e38;
  const auto ds = train_fixture("train_small.npz");
  const std::string msg =
      error_of([&] { train::train_neural(rows(ds, 0, 120), rows(ds, 120, ds.size()), cfg); });
  EXPECT_EQ(msg.find("train: att: LibTorch failed at epoch 1 step 1 (learning rate 1e+38): "), 0u)
      << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(Divergence, WritesNoModelFile) {
  TempDir dir;
  const auto out = dir / "att.tutti";
  const std::string msg = error_of([&] {
    // 120 clips: on all 160, ATT at this rate saturates at finite values (every probability 0 or
    // 1, validation loss 27.8) instead of reaching NaN, which is no divergence to report.
    train::train_model_file(rows(train_fixture("train_small.npz"), 0, 120),
                            diverging("att", "auto"), out, "train_small.npz");
  });
  expect_one_line_divergence(msg, "att");
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << "no staging file left";
}

TEST(Divergence, ANormalRunIsUntouched) {
  auto cfg = diverging("att", "auto");
  cfg.learning_rate = 1e-3;
  const auto ds = train_fixture("train_small.npz");
  const auto r = train::train_neural(rows(ds, 0, 120), rows(ds, 120, ds.size()), cfg);
  EXPECT_EQ(r.summary.epochs_run, 3);
  EXPECT_TRUE(std::isfinite(r.summary.val_loss));
}

namespace {

data::BagDataset float_copy(const data::BagDataset& u8, float scale) {
  auto f = data::BagDataset::zeros(u8.size(), u8.max_instances, u8.dim, u8.classes,
                                   data::FeatureType::kFloat32);
  f.n_instances = u8.n_instances;
  f.y_true = u8.y_true;
  f.y_mask = u8.y_mask;
  f.keys = u8.keys;
  for (std::size_t i = 0; i < u8.x_u8.size(); ++i) f.x_f32[i] = u8.x_u8[i] * scale;
  return f;
}

}  // namespace

TEST(FeatureScale, FloatHolding0To255IsRefusedNamingTheFile) {
  const auto u8 = train_fixture("train_small.npz");
  std::uint8_t max_u8 = 0;
  for (auto v : u8.x_u8) max_u8 = std::max(max_u8, v);
  const auto raw = float_copy(u8, 1.0f);
  const std::string msg = error_of([&] { train::check_trainable(raw, "att", "D.npz"); });
  EXPECT_EQ(msg, fmt::format("D.npz: X is float32 with values up to {}: features are expected in "
                             "[0, 1] (magnitudes up to 16 accepted); store uint8 features as "
                             "uint8 or divide them by 255",
                             int(max_u8)));
  // Training (neural and rf) stops there too, before any work.
  TempDir dir;
  for (const char* model : {"att", "rf"}) {
    auto cfg = train::TrainConfig::for_model(model);
    cfg.epochs = 1;
    EXPECT_NE(error_of([&] {
                train::train_model_file(raw, cfg, dir / "m.tutti", "D.npz");
              }).find("D.npz: X is float32 with values up to"),
              std::string::npos)
        << model;
  }
  EXPECT_FALSE(std::filesystem::exists(dir / "m.tutti"));
}

TEST(FeatureScale, BoundIsOnTheMagnitude) {
  const auto u8 = train_fixture("train_small.npz");
  EXPECT_NO_THROW(train::check_trainable(u8, "att", "uint8"));  // uint8 always passes
  EXPECT_NO_THROW(train::check_trainable(float_copy(u8, 1.0f / 255), "att", "scaled"));
  auto at_bound = float_copy(u8, 1.0f / 255);
  at_bound.x_f32[0] = -train::kMaxFloatFeature;
  at_bound.x_f32[1] = train::kMaxFloatFeature;
  EXPECT_NO_THROW(train::check_trainable(at_bound, "att", "bound"));
  auto below = at_bound;
  below.x_f32[0] = -17.0f;
  EXPECT_NE(error_of([&] {
              train::check_trainable(below, "att", "neg");
            }).find("neg: X is float32 with values up to 17:"),
            std::string::npos);
}
