// The weight average of --ema (train/weight_average.h): its updates against PyTorch's
// torch.optim.swa_utils.AveragedModel (tools/fixtures/make_ema_fixtures.py), swapping, errors,
// and training with it (deterministic, the written model is the average: it differs from the
// last weights, and both engines average alike). Resuming it: tests/dist/test_dist_resume.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/train/trainer.h"
#include "tutti/train/weight_average.h"

using namespace tutti;
using namespace tutti::testing;

namespace {

std::vector<torch::Tensor> tensors_of(const core::Json& values, const core::Json& shapes) {
  std::vector<torch::Tensor> v;
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto flat = values[i].get<std::vector<float>>();
    const auto shape = shapes[i].get<std::vector<std::int64_t>>();
    v.push_back(torch::tensor(flat).reshape(shape));
  }
  return v;
}

torch::Tensor classifier(const train::NeuralTrainResult& r) {
  return r.model->named_parameters(true)["classifier.weight"];
}

}  // namespace

TEST(WeightAverage, UpdatesMatchPyTorchsAveragedModel) {
  const auto ref = core::read_json_file(fixture("train/ema_reference.json"));
  train::WeightAverage avg(ref["decay"].get<double>());
  // The live tensors keep their storage across updates, as a model's parameters do; an integer
  // buffer (batch-norm's step counter) rides along and is copied, not averaged.
  std::vector<torch::Tensor> live;
  for (const auto& s : ref["shapes"])
    live.push_back(torch::zeros(s.get<std::vector<std::int64_t>>()));
  live.push_back(torch::tensor(std::int64_t{0}));
  std::int64_t counter = 0;
  for (const auto& step : ref["steps"]) {
    const auto values = tensors_of(step["live"], ref["shapes"]);
    for (std::size_t i = 0; i < values.size(); ++i) live[i].copy_(values[i]);
    live.back().fill_(++counter);
    avg.update(live);
    const auto want = tensors_of(step["average"], ref["shapes"]);
    ASSERT_EQ(avg.tensors().size(), want.size() + 1);
    for (std::size_t i = 0; i < want.size(); ++i)
      EXPECT_TRUE(torch::allclose(avg.tensors()[i], want[i], 1e-5, 1e-6))
          << "update " << avg.updates() << ", tensor " << i << ": " << avg.tensors()[i] << " vs "
          << want[i];
    EXPECT_EQ(avg.tensors().back().item<std::int64_t>(), counter);
  }
  EXPECT_EQ(avg.updates(), 6);
  EXPECT_DOUBLE_EQ(avg.decay_at(1), 2.0 / 11.0);
  EXPECT_DOUBLE_EQ(avg.decay_at(1000), 0.9);
}

TEST(WeightAverage, SwapExchangesAndTwiceRestores) {
  train::WeightAverage avg(0.5);
  std::vector<torch::Tensor> live = {torch::tensor({1.0f, 2.0f})};
  avg.update(live);  // copy: average (1, 2)
  live[0].copy_(torch::tensor({3.0f, 6.0f}));
  avg.update(live);  // d_1 = 2/11: (1, 2) * 2/11 + (3, 6) * 9/11
  const auto want = torch::tensor({(2.0f + 27.0f) / 11.0f, (4.0f + 54.0f) / 11.0f});
  avg.swap(live);
  EXPECT_TRUE(torch::allclose(live[0], want));
  EXPECT_TRUE(torch::equal(avg.tensors()[0], torch::tensor({3.0f, 6.0f})));
  avg.swap(live);
  EXPECT_TRUE(torch::equal(live[0], torch::tensor({3.0f, 6.0f})));
  EXPECT_TRUE(torch::allclose(avg.tensors()[0], want));
}

TEST(WeightAverage, BadDecayOrEarlySwapIsAnError) {
  EXPECT_THROW(train::WeightAverage(1.0), Error);
  EXPECT_THROW(train::WeightAverage(-0.1), Error);
  train::WeightAverage avg(0.9);
  std::vector<torch::Tensor> live = {torch::zeros({2})};
  EXPECT_THROW(avg.swap(live), Error);
  avg.update(live);
  std::vector<torch::Tensor> more = {torch::zeros({2}), torch::zeros({2})};
  EXPECT_THROW(avg.update(more), Error);
}

// --ema reruns bit-identically and validates and writes other weights than the same steps without
// it; both engines average alike.
TEST(WeightAverage, TrainingWritesTheAverage) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = row_range(ds, 0, 120), val = row_range(ds, 120, 160);
  for (const char* engine : {"auto", "autograd"}) {
    SCOPED_TRACE(engine);
    auto plain = small_att_config(3);
    plain.engine = engine;
    EXPECT_EQ(plain.ema, 0.0);
    auto ema = plain;
    ema.ema = 0.99;
    const auto p = train::train_neural(tr, val, plain);
    const auto a1 = train::train_neural(tr, val, ema), a2 = train::train_neural(tr, val, ema);
    EXPECT_TRUE(torch::equal(classifier(a1), classifier(a2)));
    EXPECT_EQ(a1.summary.history[2].val_loss, a2.summary.history[2].val_loss);
    EXPECT_FALSE(torch::equal(classifier(a1), classifier(p)));
    // The same batches and steps: the validation loss of the average differs from the plain
    // run's from the first epoch on.
    EXPECT_NE(a1.summary.history[0].val_loss, p.summary.history[0].val_loss);
  }
  auto f = small_att_config(3);
  f.ema = 0.99;
  f.model_options = {{"dropout", 0.0}};
  auto g = f;
  g.engine = "autograd";
  const auto rf = train::train_neural(tr, val, f), rg = train::train_neural(tr, val, g);
  EXPECT_TRUE(torch::allclose(classifier(rf), classifier(rg), 1e-3, 1e-4))
      << (classifier(rf) - classifier(rg)).abs().max();
}
