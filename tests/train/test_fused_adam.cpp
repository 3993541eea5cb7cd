// FusedAdam against torch::optim::Adam: three steps with weight decay on random gradients, a
// parameter without a gradient left alone (as torch does), zero_grad, and the refusal of
// tensors it cannot update.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "tutti/core/error.h"
#include "tutti/train/fused_adam.h"

namespace {

TEST(FusedAdam, MatchesTorchAdamAndSkipsParametersWithoutGradients) {
  torch::manual_seed(2);
  std::vector<torch::Tensor> a, b;
  for (auto shape : std::vector<std::vector<std::int64_t>>{{7, 5}, {5}, {3, 2, 4}}) {
    a.push_back(torch::randn(shape).requires_grad_(true));
    b.push_back(a.back().detach().clone().requires_grad_(true));
  }
  tutti::train::FusedAdam fa(a);
  torch::optim::Adam ta(b, torch::optim::AdamOptions(3e-3).weight_decay(1e-2));
  tutti::train::FusedAdam::Options o;
  o.lr = 3e-3;
  o.weight_decay = 1e-2;
  const auto untouched = a[1].detach().clone();
  const auto first = a[0].detach().clone();
  for (int step = 0; step < 3; ++step) {
    fa.zero_grad();
    ta.zero_grad();
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (i == 1) continue;  // no gradient for this one
      const auto g = torch::randn(a[i].sizes());
      a[i].mutable_grad() = g.clone();
      b[i].mutable_grad() = g.clone();
    }
    fa.step(o);
    ta.step();
  }
  for (std::size_t i = 0; i < a.size(); ++i)
    EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-6, 1e-7)) << i;
  EXPECT_TRUE(torch::equal(a[1].detach(), untouched));
  EXPECT_GT((a[0].detach() - first).abs().max().item<double>(), 1e-3);  // it did move
  fa.zero_grad();
  for (const auto& p : a) EXPECT_FALSE(p.grad().defined());
}

TEST(FusedAdam, RefusesOtherTensors) {
  EXPECT_FALSE(tutti::train::FusedAdam::supports({torch::zeros({3}, torch::kFloat64)}));
  EXPECT_FALSE(tutti::train::FusedAdam::supports({torch::zeros({4, 3}).t()}));
  EXPECT_THROW(tutti::train::FusedAdam({torch::zeros({3}, torch::kFloat64)}), tutti::Error);
}

}  // namespace
