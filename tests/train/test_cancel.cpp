// train::CancelCheck: asked before every step; true stops the run with train::Cancelled (every
// engine, and RF before fitting) and no model file is written. A check that never fires changes
// nothing.
#include <gtest/gtest.h>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/train/train.h"

using namespace tutti;
using tutti::testing::TempDir;
using tutti::testing::train_fixture;

namespace {

train::TrainConfig small(const std::string& model, const std::string& engine = "auto") {
  auto cfg = train::TrainConfig::for_model(model);
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.threads = 1;
  cfg.seed = 4;
  cfg.rf_trees = 3;
  if (!cfg.is_forest()) cfg.engine = engine;
  return cfg;
}

}  // namespace

TEST(Cancel, StopsAtTheStepAskedAndWritesNothing) {
  const auto ds = train_fixture("train_small.npz");
  for (const std::string engine : {"auto", "autograd"}) {
    TempDir dir;
    const auto out = dir / "att.tutti";
    int calls = 0;
    try {
      train::train_model_file(ds, small("att", engine), out, "train_small.npz", {},
                              [&] { return ++calls == 5; });
      FAIL() << engine << ": not cancelled";
    } catch (const train::Cancelled& e) {
      EXPECT_STREQ(e.what(), "train: att: cancelled at epoch 1 step 5") << engine;
    }
    EXPECT_EQ(calls, 5) << engine;
    EXPECT_TRUE(std::filesystem::is_empty(dir.path())) << engine << ": no model or staging file";
  }
}

TEST(Cancel, ForestChecksBeforeFitting) {
  TempDir dir;
  EXPECT_THROW(train::train_model_file(train_fixture("train_small.npz"), small("rf"), dir / "rf",
                                       "train_small.npz", {}, [] { return true; }),
               train::Cancelled);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Cancel, ACheckThatNeverFiresChangesNothing) {
  const auto ds = train_fixture("train_small.npz");
  TempDir dir;
  int calls = 0;
  const auto a = train::train_model_file(ds, small("att"), dir / "a.tutti", "d");
  const auto b = train::train_model_file(ds, small("att"), dir / "b.tutti", "d", {}, [&] {
    ++calls;
    return false;
  });
  EXPECT_GT(calls, 3);  // every step of the 3 epochs
  ASSERT_EQ(a.training.history.size(), b.training.history.size());
  for (std::size_t i = 0; i < a.training.history.size(); ++i) {
    EXPECT_EQ(a.training.history[i].train_loss, b.training.history[i].train_loss);
    EXPECT_EQ(a.training.history[i].val_loss, b.training.history[i].val_loss);
  }
  EXPECT_EQ(a.thresholds, b.thresholds);
}
