// clip_bmm against ATen's bmm and autograd (forward and both gradients), with zeros in the left
// factor (masked attention), non-contiguous inputs, and independence of the thread count.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "threads_guard.h"
#include "tutti/models/kernels/clip_bmm.h"

using tutti::models::clip_bmm;

namespace {

struct Grads {
  torch::Tensor out, ga, gb;
};

Grads run(bool ours, const torch::Tensor& a0, const torch::Tensor& b0, const torch::Tensor& w) {
  auto a = a0.clone().requires_grad_(true);
  auto b = b0.clone().requires_grad_(true);
  auto out = ours ? clip_bmm(a, b) : torch::bmm(a, b);
  (out * w).sum().backward();
  return {out.detach(), a.grad(), b.grad()};
}

}  // namespace

TEST(ClipBmm, MatchesAtenBmmAndItsGradients) {
  torch::manual_seed(3);
  for (auto [bs, m, k, n] : {std::array<std::int64_t, 4>{1, 1, 1, 1}, {7, 30, 10, 128},
                             {5, 20, 40, 16}, {3, 10, 128, 10}}) {
    auto a = torch::randn({bs, m, k});
    a = a.masked_fill(torch::rand({bs, m, k}) < 0.4, 0.0);  // exact zeros are skipped
    const auto b = torch::randn({bs, k, n});
    const auto w = torch::randn({bs, m, n});
    const auto ref = run(false, a, b, w);
    const auto got = run(true, a, b, w);
    EXPECT_TRUE(torch::allclose(got.out, ref.out, 1e-5, 1e-5)) << bs << "x" << m << "x" << k << "x" << n;
    EXPECT_TRUE(torch::allclose(got.ga, ref.ga, 1e-5, 1e-5));
    EXPECT_TRUE(torch::allclose(got.gb, ref.gb, 1e-5, 1e-5));
  }
}

TEST(ClipBmm, NonContiguousInputsAndNoGrad) {
  torch::manual_seed(4);
  const auto x = torch::randn({6, 10, 32});
  const auto ref = torch::bmm(x, x.transpose(1, 2));
  torch::NoGradGuard ng;
  EXPECT_TRUE(torch::allclose(clip_bmm(x, x.transpose(1, 2)), ref, 1e-5, 1e-5));
  // Other dtypes go to ATen.
  const auto xd = x.to(torch::kFloat64);
  EXPECT_TRUE(torch::equal(clip_bmm(xd, xd.transpose(1, 2)), torch::bmm(xd, xd.transpose(1, 2))));
}

TEST(ClipBmm, SameBitsForAnyThreadCount) {
  torch::manual_seed(5);
  const auto a = torch::randn({64, 30, 10});
  const auto b = torch::randn({64, 10, 128});
  const auto w = torch::randn({64, 30, 128});
  const auto with_threads = [&](int n) {
    tutti::testing::ThreadsGuard tg(n);
    return run(true, a, b, w);
  };
  const auto one = with_threads(1), two = with_threads(2);
  EXPECT_TRUE(torch::equal(one.out, two.out));
  EXPECT_TRUE(torch::equal(one.ga, two.ga));
  EXPECT_TRUE(torch::equal(one.gb, two.gb));
}

TEST(ClipBmm, ShapeMismatchIsAnError) {
  EXPECT_THROW(clip_bmm(torch::zeros({2, 3, 4}), torch::zeros({2, 5, 6})), c10::Error);
  EXPECT_THROW(clip_bmm(torch::zeros({2, 3, 4}), torch::zeros({3, 4, 6})), c10::Error);
}
