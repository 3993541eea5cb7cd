// The fused multi-scale GAT layer (gat_fused.h) against the same layer as LibTorch ops with
// autograd (MultiScaleGatLayer with fused = false): outputs and every gradient, in training mode
// with dropout (same masks) and in eval mode, on bags of 1 to K instances; bit-identical results
// on 1 and 2 threads; the class pooling and center distance ops against LibTorch ops; and the
// whole MMGAT model's gradients on both paths. The forward pass is
// also checked against the PyTorch reference in test_mmgat_reference.cpp (fused by default).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <map>
#include <string>

#include "threads_guard.h"
#include "tutti/models/kernels/gat_fused.h"
#include "tutti/models/kernels/hashed_dropout.h"
#include "tutti/models/mmgat.h"

namespace tutti::models {
namespace {

struct Case {
  torch::Tensor x, mask, h, adjacency, log_w, weight;
};

Case make_case(std::int64_t b, std::int64_t k, std::int64_t hd, std::int64_t scales) {
  torch::manual_seed(21);
  Case c;
  c.x = torch::rand({b, k, 12});
  std::vector<std::int64_t> lens;
  for (std::int64_t i = 0; i < b; ++i) lens.push_back(1 + (i * 5) % k);  // 1 .. k instances
  lens.back() = k;
  c.mask = torch::zeros({b, k}, torch::kBool);
  for (std::int64_t i = 0; i < b; ++i) c.mask[i].narrow(0, 0, lens[static_cast<std::size_t>(i)]).fill_(true);
  GraphOptions o;
  o.scales = scales;
  const auto g = build_instance_graph(c.x, c.mask, o);
  c.adjacency = g.adjacency;
  c.log_w = g.weight.clamp_min(1e-6).log();
  c.h = torch::randn({b, k, hd});
  return c;
}

MultiScaleGatLayer make_layer(std::int64_t hd, std::int64_t scales, double dropout) {
  torch::manual_seed(5);
  MultiScaleGatLayer layer(hd, scales, dropout, "linear");
  torch::NoGradGuard ng;
  // Non-default LayerNorm and fusion parameters, so that every gradient term matters.
  layer->norm->weight.uniform_(0.5, 1.5);
  layer->norm->bias.uniform_(-0.5, 0.5);
  layer->fuse_b.uniform_(-1, 1);
  return layer;
}

struct Result {
  torch::Tensor out, dh;
  std::map<std::string, torch::Tensor> grads;
};

Result run(MultiScaleGatLayer& layer, const Case& c, bool fused, bool training) {
  layer->fused = fused;
  layer->train(training);
  for (auto& p : layer->parameters()) p.mutable_grad() = torch::Tensor();
  const auto h = c.h.clone().requires_grad_(true);
  torch::manual_seed(99);  // the dropout base
  const auto out = layer(h, c.adjacency, c.log_w);
  torch::manual_seed(7);
  const auto r = torch::randn(out.sizes());
  (out * r).sum().backward();
  Result res{out.detach(), h.grad(), {}};
  for (const auto& p : layer->named_parameters()) res.grads[p.key()] = p.value().grad().clone();
  return res;
}

double max_rel(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max().clamp_min(1e-12)).item<double>();
}

// With one scale the scale softmax is constant: fuse_u and fuse_b get no gradient.
void expect_close(const Result& f, const Result& a, bool one_scale = false) {
  EXPECT_LT(max_rel(f.out, a.out), 1e-5);
  EXPECT_LT(max_rel(f.dh, a.dh), 1e-4);
  ASSERT_EQ(f.grads.size(), 7u);
  for (const auto& [name, g] : a.grads) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(f.grads.at(name).defined());
    if (one_scale && name.rfind("fuse_", 0) == 0) {
      EXPECT_LT(f.grads.at(name).abs().max().item<double>(), 1e-6);
      continue;
    }
    EXPECT_GT(g.abs().max().item<double>(), 0.0);
    EXPECT_LT(max_rel(f.grads.at(name), g), 1e-4);
  }
}

TEST(GatFused, MatchesAutogradInTrainingWithDropout) {
  const auto c = make_case(9, 7, 16, 3);
  auto layer = make_layer(16, 3, 0.3);
  const auto f = run(layer, c, true, true);
  const auto a = run(layer, c, false, true);
  expect_close(f, a);
  // Dropout acted: eval mode gives a different output.
  const auto e = run(layer, c, true, false);
  EXPECT_GT(max_rel(e.out, f.out), 1e-2);
}

TEST(GatFused, MatchesAutogradInEvalAndWithOneScale) {
  for (std::int64_t scales : {1, 3}) {
    SCOPED_TRACE(scales);
    const auto c = make_case(6, 10, 24, scales);
    auto layer = make_layer(24, scales, 0.2);
    expect_close(run(layer, c, true, false), run(layer, c, false, false), scales == 1);
  }
}

TEST(GatFused, SameBitsOnOneAndTwoThreads) {
  const auto c = make_case(300, 10, 32, 3);  // enough rows and clips to be split
  auto layer = make_layer(32, 3, 0.2);
  const auto with_threads = [&](int n) {
    testing::ThreadsGuard tg(n);
    return run(layer, c, true, true);
  };
  const auto one = with_threads(1), two = with_threads(2);
  EXPECT_TRUE(torch::equal(one.out, two.out));
  EXPECT_TRUE(torch::equal(one.dh, two.dh));
  for (const auto& [name, g] : one.grads) EXPECT_TRUE(torch::equal(g, two.grads.at(name))) << name;
}

// Under InferenceMode (validation, predict) on two threads: the row blocks run in worker
// threads, which must write the inference tensors of the calling thread.
TEST(GatFused, RunsUnderInferenceModeOnTwoThreads) {
  const auto c = make_case(300, 10, 32, 3);
  auto layer = make_layer(32, 3, 0.2);
  layer->eval();
  const auto want = layer(c.h, c.adjacency, c.log_w).detach();
  torch::Tensor got;
  {
    testing::ThreadsGuard tg(2);
    c10::InferenceMode im;
    got = layer(c.h, c.adjacency, c.log_w);
  }
  EXPECT_TRUE(torch::equal(got, want));
}

// The input stage against Linear + LayerNorm + hashed_dropout under autograd, gradients of the
// input included, over several row blocks; 1 and 2 threads give the same bits.
TEST(GatFused, InputLayerMatchesAutograd) {
  torch::manual_seed(4);
  torch::nn::Linear lin(12, 16);
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({16}));
  {
    torch::NoGradGuard ng;
    ln->weight.uniform_(0.5, 1.5);
    ln->bias.uniform_(-0.5, 0.5);
  }
  const auto x0 = torch::randn({70, 9, 12});  // 630 rows: three blocks
  const auto r = torch::randn({70, 9, 16});
  auto run = [&](bool fused, int threads) {
    testing::ThreadsGuard tg(threads);
    for (auto& p : lin->parameters()) p.mutable_grad() = torch::Tensor();
    for (auto& p : ln->parameters()) p.mutable_grad() = torch::Tensor();
    const auto x = x0.clone().requires_grad_(true);
    torch::manual_seed(17);
    const auto out = fused ? fused_input_layer(x, {lin->weight, lin->bias, ln->weight, ln->bias,
                                                   1e-5},
                                               0.25, true)
                           : hashed_dropout(ln(lin(x)), 0.25, true);
    (out * r).sum().backward();
    return std::vector<torch::Tensor>{out.detach(), x.grad(), lin->weight.grad(),
                                      lin->bias.grad(), ln->weight.grad(), ln->bias.grad()};
  };
  const auto f1 = run(true, 1), f2 = run(true, 2), a = run(false, 1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_LT(max_rel(f1[i], a[i]), 1e-4);
    EXPECT_TRUE(torch::equal(f1[i], f2[i]));
  }
}

// Class-specific attention pooling against LibTorch ops under autograd: outputs and the
// gradients of h, queries, cls_w and cls_b, from all three outputs or from the logits alone (the
// other output gradients undefined), over several row blocks; same bits on 1 and 2 threads.
TEST(GatFused, ClassPoolingMatchesAutograd) {
  const auto c = make_case(300, 10, 16, 1);  // 3,000 rows, bags of 1 to 10
  torch::manual_seed(8);
  const auto q0 = torch::randn({5, 16}), w0 = torch::randn({5, 16}), b0 = torch::randn({5});
  const auto r1 = torch::randn({300, 5}), r2 = torch::randn({300, 10, 5}),
             r3 = torch::randn({300, 10, 5});
  auto run = [&](bool fused, bool all_outputs, int threads) {
    testing::ThreadsGuard tg(threads);
    const auto h = c.h.clone().requires_grad_(true), q = q0.clone().requires_grad_(true),
               w = w0.clone().requires_grad_(true), b = b0.clone().requires_grad_(true);
    torch::Tensor logits, alpha, node;
    if (fused) {
      const auto p = fused_class_pooling(h, c.mask, q, w, b);
      logits = p.logits, alpha = p.alpha, node = p.node_logits;
    } else {
      alpha = torch::softmax(torch::matmul(h, q.t()).masked_fill(~c.mask.unsqueeze(-1),
                                                                 -std::numeric_limits<float>::infinity()),
                             1);
      node = torch::matmul(h, w.t()) + b;
      logits = (alpha * node).sum(1);
    }
    auto loss = (logits * r1).sum();
    if (all_outputs) loss = loss + (alpha * r2).sum() + (node * r3).sum();
    loss.backward();
    return std::vector<torch::Tensor>{logits.detach(), alpha.detach(), node.detach(), h.grad(),
                                      q.grad(), w.grad(), b.grad()};
  };
  for (bool all : {true, false}) {
    SCOPED_TRACE(all);
    const auto f1 = run(true, all, 1), f2 = run(true, all, 2), a = run(false, all, 1);
    for (std::size_t i = 0; i < a.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_GT(a[i].abs().max().item<double>(), 0.0);
      EXPECT_LT(max_rel(f1[i], a[i]), 1e-4);
      EXPECT_TRUE(torch::equal(f1[i], f2[i]));
    }
    // Padding nodes get exactly zero attention.
    EXPECT_EQ(f1[1].masked_select(~c.mask.unsqueeze(-1).expand_as(f1[1])).abs().max().item<float>(),
              0.0f);
  }
}

// Center distances over the positive pairs against the per-class features of every pair formed
// with LibTorch ops: d2 (zero off the positives), the per-class sums for the center update, and
// the gradients of alpha and h; same bits on 1 and 2 threads.
TEST(GatFused, CenterDistancesMatchAutograd) {
  const auto c = make_case(300, 10, 16, 1);
  torch::manual_seed(9);
  const auto alpha0 = torch::softmax(torch::randn({300, 10, 5}).masked_fill(
                                         ~c.mask.unsqueeze(-1), -std::numeric_limits<float>::infinity()),
                                     1);
  const auto pos = (torch::rand({300, 5}) > 0.7).to(torch::kFloat32);
  const auto centers = torch::randn({5, 16});
  const auto r = torch::randn({300, 5});
  auto run = [&](bool fused, int threads) {
    testing::ThreadsGuard tg(threads);
    const auto alpha = alpha0.clone().requires_grad_(true), h = c.h.clone().requires_grad_(true);
    torch::Tensor d2, sums;
    if (fused) {
      const auto cd = fused_center_distances(alpha, h, pos, centers);
      d2 = cd.d2, sums = cd.sums;
    } else {
      const auto diff = torch::matmul(alpha.transpose(1, 2), h) - centers;  // every pair
      d2 = 0.5 * diff.pow(2).sum(-1) * pos;
      sums = (diff * pos.unsqueeze(-1)).sum(0).detach();
    }
    (d2 * r).sum().backward();
    return std::vector<torch::Tensor>{d2.detach(), sums, alpha.grad(), h.grad()};
  };
  const auto f1 = run(true, 1), f2 = run(true, 2), a = run(false, 1);
  for (std::size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_GT(a[i].abs().max().item<double>(), 0.0);
    EXPECT_LT(max_rel(f1[i], a[i]), 1e-4);
    EXPECT_TRUE(torch::equal(f1[i], f2[i]));
  }
  EXPECT_EQ(f1[0].masked_select(pos == 0).abs().max().item<float>(), 0.0f);
  EXPECT_EQ(f1[2].masked_select((pos == 0).unsqueeze(1).expand({300, 10, 5})).abs().max().item<float>(),
            0.0f);
}

TEST(GatFused, WholeModelGradientsMatchTheAutogradLayers) {
  ModelSpec spec;
  spec.name = "mmgat";
  spec.input_dim = 12;
  spec.num_classes = 5;
  spec.max_instances = 7;
  spec.options = {{"hidden", 16}, {"onset_groups", std::vector<int>{0, 1, 0, 2, -1}}};
  const auto c = make_case(9, 7, 16, 3);
  const auto y = (torch::rand({9, 5}) > 0.6).to(torch::kFloat32);
  const auto ym = (torch::rand({9, 5}) > 0.3).to(torch::kFloat32);
  std::map<std::string, torch::Tensor> grads[2];
  for (int fused = 0; fused < 2; ++fused) {
    torch::manual_seed(3);
    Mmgat m(spec);
    m->set_fused_layers(fused == 1);
    m->train();
    torch::manual_seed(4);  // dropout bases and the autoencoder's mask
    const auto out = m->forward(c.x, c.mask);
    const auto loss = torch::binary_cross_entropy(out.clip, y, ym) + m->extra_loss(out, y, ym);
    loss.backward();
    for (const auto& p : m->named_parameters())
      if (p.value().grad().defined()) grads[fused][p.key()] = p.value().grad();
  }
  ASSERT_EQ(grads[0].size(), grads[1].size());
  for (const auto& [name, g] : grads[0]) {
    SCOPED_TRACE(name);
    EXPECT_LT(max_rel(grads[1].at(name), g), 1e-4);
  }
}

}  // namespace
}  // namespace tutti::models
