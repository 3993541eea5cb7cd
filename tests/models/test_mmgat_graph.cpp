// The loop implementation of the instance graph (build_instance_graph_cpu, float32) against the
// tensor-op path (build_instance_graph on float64 input): every similarity, sparsification and
// number of scales, bags of 0 to K real instances, K = 1; and its speed-relevant property that
// it does not depend on the thread count.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "threads_guard.h"
#include "tutti/models/mmgat.h"

namespace tutti::models {
namespace {

torch::Tensor lengths_mask(const std::vector<std::int64_t>& lens, std::int64_t k) {
  auto m = torch::zeros({static_cast<std::int64_t>(lens.size()), k}, torch::kBool);
  for (std::size_t i = 0; i < lens.size(); ++i)
    m[static_cast<std::int64_t>(i)].narrow(0, 0, lens[i]).fill_(true);
  return m;
}

TEST(MmgatGraph, LoopsMatchTheTensorOps) {
  torch::manual_seed(8);
  for (std::int64_t k : {1, 2, 9}) {
    std::vector<std::int64_t> lens;
    for (std::int64_t n = 0; n <= k; ++n) lens.push_back(n);
    lens.push_back(k);
    const auto mask = lengths_mask(lens, k);
    const auto x = torch::rand({static_cast<std::int64_t>(lens.size()), k, 24});
    for (const std::string sim : {"cosine", "emd"})
      for (const std::string sp : {"topk", "threshold"})
        for (std::int64_t scales : {1, 3}) {
          SCOPED_TRACE(sim + " " + sp + " K=" + std::to_string(k) + " S=" + std::to_string(scales));
          GraphOptions o;
          o.similarity = sim;
          o.sparsify = sp;
          o.scales = scales;
          o.threshold = sim == "cosine" ? 0.55 : 0.4;
          o.emd_sigma = 0.5;
          const auto got = build_instance_graph_cpu(x, mask, o);
          const auto want = build_instance_graph(x.to(torch::kFloat64), mask, o);
          ASSERT_EQ(got.adjacency.sizes(), want.adjacency.sizes());
          EXPECT_TRUE(torch::equal(got.adjacency, want.adjacency))
              << (got.adjacency != want.adjacency).sum().item<std::int64_t>() << " entries differ";
          EXPECT_LT((got.weight.to(torch::kFloat64) - want.weight).abs().max().item<double>(), 1e-5);
          // The sparsification did something: fewer edges than all pairs at K = 9.
          if (k == 9 && scales == 1) {
            EXPECT_LT(got.adjacency.sum().item<std::int64_t>(), got.adjacency.numel());
          }
        }
  }
}

TEST(MmgatGraph, SameOnOneAndTwoThreads) {
  torch::manual_seed(9);
  const auto x = torch::rand({200, 10, 32});
  const auto mask = torch::rand({200, 10}) > 0.2;
  GraphOptions o;
  const auto with_threads = [&](int n) {
    testing::ThreadsGuard tg(n);
    return build_instance_graph_cpu(x, mask, o);
  };
  const auto a = with_threads(1), b = with_threads(2);
  EXPECT_TRUE(torch::equal(a.weight, b.weight));
  EXPECT_TRUE(torch::equal(a.adjacency, b.adjacency));
}

}  // namespace
}  // namespace tutti::models
