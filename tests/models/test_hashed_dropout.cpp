// hashed_dropout / dropout_mask against their definition (an independent SplitMix64), the kept
// fraction, reproducibility under torch::manual_seed, thread-count independence and the gradient.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "test_util.h"
#include "threads_guard.h"
#include "tutti/models/kernels/hashed_dropout.h"

namespace {

using tutti::testing::reference_splitmix64;

TEST(HashedDropout, MaskFollowsItsDefinition) {
  ASSERT_EQ(reference_splitmix64(0), 0xE220A8397B1DCDAFull);  // published first outputs
  ASSERT_EQ(reference_splitmix64(0x9E3779B97F4A7C15ull), 0x6E789E6AA1B965F4ull);
  ASSERT_EQ(tutti::models::splitmix64(12345), reference_splitmix64(12345));
  const std::int64_t n = 10007;
  const std::uint64_t base = 123456789;
  const std::uint32_t keep_below = 52429;  // keep 0.8
  for (auto [q0, q1] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {0, n}, {3, n - 2}, {5, 6}, {6, 9}, {1, 4}, {8, 8}}) {
    std::vector<float> mask(static_cast<std::size_t>(n), -7.0f);
    tutti::models::dropout_mask(mask.data() + q0, base, q0, q1, keep_below, 1.25f);
    for (std::int64_t q = 0; q < n; ++q) {
      const std::uint64_t bits = reference_splitmix64(base + static_cast<std::uint64_t>(q / 4 * 4));
      const bool kept = ((bits >> (16 * (q % 4))) & 0xFFFF) < keep_below;
      const float want = q >= q0 && q < q1 ? (kept ? 1.25f : 0.0f) : -7.0f;
      ASSERT_EQ(mask[static_cast<std::size_t>(q)], want) << "[" << q0 << "," << q1 << ") " << q;
    }
  }
}

TEST(HashedDropout, KeepsTheFractionScalesAndDifferentiates) {
  torch::manual_seed(3);
  const auto x = torch::rand({64, 10, 129}).add_(0.5).requires_grad_(true);
  const auto y = tutti::models::hashed_dropout(x, 0.3, true);
  const auto kept = (y != 0).to(torch::kFloat64).mean().item<double>();
  EXPECT_NEAR(kept, 0.7, 0.01);
  const auto nz = y != 0;
  EXPECT_TRUE(torch::allclose(y.masked_select(nz), x.masked_select(nz) / 0.7, 1e-6, 1e-6));
  y.sum().backward();
  // d sum(x * mask) / dx = mask: 1 / 0.7 where kept, 0 where dropped.
  EXPECT_TRUE(torch::equal(x.grad() != 0, nz));
  EXPECT_TRUE(torch::allclose(x.grad().masked_select(nz),
                              torch::full({nz.sum().item<std::int64_t>()}, 1.0f / 0.7f)));
}

TEST(HashedDropout, SeededThreadIndependentAndOffInEval) {
  const auto x = torch::ones({300, 128});
  torch::Tensor a, a2, b;
  {
    tutti::testing::ThreadsGuard tg(1);
    torch::manual_seed(11);
    a = tutti::models::hashed_dropout(x, 0.5, true);
    a2 = tutti::models::hashed_dropout(x, 0.5, true);  // the next call: a new mask
  }
  {
    tutti::testing::ThreadsGuard tg(2);
    torch::manual_seed(11);
    b = tutti::models::hashed_dropout(x, 0.5, true);
  }
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_FALSE(torch::equal(a, a2));
  EXPECT_TRUE(tutti::models::hashed_dropout(x, 0.5, false).is_same(x));
  EXPECT_TRUE(tutti::models::hashed_dropout(x, 0.0, true).is_same(x));
}

}  // namespace
