// The fused ATT engine against the model's own forward + LibTorch autograd: same loss, same
// gradients, same batch-norm running statistics, same eval outputs (float tolerance).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/models/kernels/att_fused.h"

using namespace tutti;

namespace {

struct Batch {
  torch::Tensor x, mask, y, ym;
};

Batch make_batch(std::int64_t b, std::int64_t k, std::int64_t d, std::int64_t c, bool ragged) {
  torch::manual_seed(11);
  Batch r;
  r.x = torch::rand({b, k, d});
  auto lengths =
      ragged ? torch::randint(1, k + 1, {b}, torch::kInt64) : torch::full({b}, k, torch::kInt64);
  r.mask = torch::arange(k).unsqueeze(0).lt(lengths.unsqueeze(1));
  r.x.mul_(r.mask.unsqueeze(-1).to(torch::kFloat32));
  r.y = torch::rand({b, c}).gt(0.6).to(torch::kFloat32);
  r.ym = torch::rand({b, c}).gt(0.3).to(torch::kFloat32);
  return r;
}

models::BagModel make_att(std::int64_t d, std::int64_t c, double dropout) {
  models::ModelSpec spec;
  spec.name = "att";
  spec.input_dim = d;
  spec.num_classes = c;
  spec.max_instances = 10;
  spec.options = {{"dropout", dropout}};
  torch::manual_seed(5);
  auto m = models::make_model(spec);
  // Non-trivial batch-norm parameters and running statistics.
  torch::NoGradGuard ng;
  for (auto& item : m->named_parameters(true))
    if (item.key().find("bn") != std::string::npos) item.value().uniform_(0.5, 1.5);
  for (auto& item : m->named_buffers(true)) {
    if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.2, 0.2);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
  }
  return m;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol,
                  const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LE(diff, tol * scale) << what << " max abs diff " << diff;
}

}  // namespace

class AttFusedGrad : public ::testing::TestWithParam<bool> {};

TEST_P(AttFusedGrad, MatchesAutogradLossGradientsAndRunningStats) {
  const bool ragged = GetParam();
  const auto batch = make_batch(24, 10, 16, 5, ragged);
  auto ref = make_att(16, 5, 0.0);
  auto fused_model = make_att(16, 5, 0.0);

  ref->train();
  auto out = ref->forward(batch.x, batch.mask);
  auto bce = models::masked_bce_sum(out.clip, batch.y, batch.ym);
  auto loss = bce / batch.ym.sum().clamp_min(1.0);
  ref->zero_grad();
  loss.backward();

  fused_model->train();
  models::AttFused engine(*fused_model, 1);
  const auto l = engine.train_step(batch.x, batch.mask, batch.y, batch.ym);
  EXPECT_NEAR(l.bce_sum, bce.item<double>(), 1e-4 * std::max(1.0, bce.item<double>()));
  EXPECT_EQ(l.known, batch.ym.sum().item<double>());

  auto rp = ref->named_parameters(true), fp = fused_model->named_parameters(true);
  for (const auto& item : rp) {
    SCOPED_TRACE(item.key());
    expect_close(fp[item.key()].grad(), item.value().grad(), 2e-4, item.key() + ".grad");
  }
  auto rb = ref->named_buffers(true), fb = fused_model->named_buffers(true);
  for (const auto& item : rb)
    expect_close(fb[item.key()].to(torch::kFloat64), item.value().to(torch::kFloat64), 1e-5,
                 item.key());
}

INSTANTIATE_TEST_SUITE_P(Masks, AttFusedGrad, ::testing::Values(false, true));

// Distillation and auxiliary tasks: soft targets and per-class weights of the known labels, fed
// as tensors and read from a dataset (set_soft_targets, set_class_weights), match autograd on the
// weighted mean BCE sum w BCE(p, y) / sum w.
TEST(AttFused, SoftTargetsAndClassWeightsMatchAutograd) {
  const auto batch = make_batch(24, 10, 16, 5, true);
  torch::manual_seed(12);
  const auto soft = torch::rand({24, 5});
  const std::vector<float> w = {1.0f, 0.5f, 0.25f, 2.0f, 1.0f};
  const auto weighted = batch.ym * torch::tensor(w).unsqueeze(0);
  auto ref = make_att(16, 5, 0.0);
  ref->train();
  auto out = ref->forward(batch.x, batch.mask);
  auto bce = models::masked_bce_sum(out.clip, soft, weighted);
  auto loss = bce / weighted.sum().clamp_min(1.0);
  ref->zero_grad();
  loss.backward();

  // The same batch as a float32 dataset, read through a BagSource.
  auto ds =
      data::BagDataset::zeros(24, 10, 16, {"a", "b", "c", "d", "e"}, data::FeatureType::kFloat32);
  const auto xc = batch.x.contiguous();
  std::copy_n(xc.data_ptr<float>(), xc.numel(), ds.x_f32.begin());
  const auto lengths = batch.mask.sum(1);
  for (std::int64_t i = 0; i < 24; ++i) {
    ds.n_instances[i] = static_cast<std::int32_t>(lengths[i].item<std::int64_t>());
    ds.keys[i] = std::to_string(i);
    for (std::int64_t j = 0; j < 5; ++j) {
      ds.y_true[i * 5 + j] = soft[i][j].item<float>();
      ds.y_mask[i * 5 + j] = batch.ym[i][j].item<float>() != 0 ? 1 : 0;
    }
  }
  std::vector<std::int64_t> order(24);
  for (std::int64_t i = 0; i < 24; ++i) order[i] = i;
  for (bool from_dataset : {false, true}) {
    SCOPED_TRACE(from_dataset ? "dataset" : "tensors");
    auto fused_model = make_att(16, 5, 0.0);
    fused_model->train();
    models::AttFused engine(*fused_model, 1);
    models::AttFused::StepLoss l;
    if (from_dataset) {
      engine.set_soft_targets(true);
      engine.set_class_weights(w);
      l = engine.train_step(models::BagSource::of(ds), order);
    } else {
      l = engine.train_step(batch.x, batch.mask, soft, weighted);
    }
    EXPECT_NEAR(l.bce_sum, bce.item<double>(), 1e-4 * std::max(1.0, bce.item<double>()));
    EXPECT_NEAR(l.known, weighted.sum().item<double>(), 1e-5);
    auto rp = ref->named_parameters(true), fp = fused_model->named_parameters(true);
    for (const auto& item : rp)
      expect_close(fp[item.key()].grad(), item.value().grad(), 2e-4, item.key() + ".grad");
  }
  auto m = make_att(16, 5, 0.0);
  models::AttFused engine(*m, 1);
  engine.set_class_weights({1.0f, 2.0f});
  EXPECT_THROW(engine.train_step(models::BagSource::of(ds), order), Error);
}

TEST(AttFused, EvalForwardMatchesTheModel) {
  for (bool ragged : {false, true}) {
    const auto batch = make_batch(17, 10, 16, 5, ragged);
    auto m = make_att(16, 5, 0.6);
    m->eval();
    torch::NoGradGuard ng;
    const auto ref = m->forward(batch.x, batch.mask);
    models::AttFused engine(*m, 1);
    const auto got = engine.forward_eval(batch.x, batch.mask, true);
    expect_close(got.clip, ref.clip, 1e-5, "clip");
    expect_close(got.instance, ref.instance, 1e-5, "instance");
    expect_close(got.attention, ref.attention, 1e-5, "attention");
    expect_close(got.embedding, ref.embedding, 1e-4, "embedding");
    const auto clip_only = engine.forward_eval(batch.x, batch.mask, false);
    EXPECT_TRUE(torch::equal(clip_only.clip, got.clip));
    EXPECT_FALSE(clip_only.instance.defined());
  }
}

// A confident model: every instance probability is 1.0f, so a clip probability is a sum of
// attention weights that are each rounded, which can land one float step above 1; torch's BCE
// throws on such a "probability" (a validation pass reported it as a NaN loss). Both engines
// keep the clip probabilities in [0, 1] and exactly 1 here.
TEST(AttFused, ConfidentClipsStayProbabilities) {
  const auto batch = make_batch(512, 10, 16, 5, true);
  auto m = make_att(16, 5, 0.0);
  {
    torch::NoGradGuard ng;
    m->named_parameters()["classifier.bias"].fill_(50.0f);  // sigmoid(>= ~17) is 1.0f
    m->named_parameters()["attention.weight"].mul_(8.0f);   // weights far from uniform
  }
  m->eval();
  torch::NoGradGuard ng;
  const auto ref = m->forward(batch.x, batch.mask).clip;
  models::AttFused engine(*m, 1);
  const auto got = engine.forward_eval(batch.x, batch.mask, false).clip;
  for (const auto& [p, what] : {std::pair{ref, "model"}, std::pair{got, "fused engine"}}) {
    EXPECT_LE(p.max().item<float>(), 1.0f) << what;
    EXPECT_GE(p.min().item<float>(), 1.0f - 1e-6f) << what;
    EXPECT_NO_THROW(models::masked_bce_sum(p, batch.y, batch.ym)) << what;
  }
}

TEST(AttFused, DropoutIsSeeded) {
  const auto batch = make_batch(64, 10, 16, 5, false);
  auto a = make_att(16, 5, 0.6), b = make_att(16, 5, 0.6), c = make_att(16, 5, 0.6);
  models::AttFused ea(*a, 3), eb(*b, 3), ec(*c, 4);
  ea.train_step(batch.x, batch.mask, batch.y, batch.ym);
  eb.train_step(batch.x, batch.mask, batch.y, batch.ym);
  ec.train_step(batch.x, batch.mask, batch.y, batch.ym);
  const auto ga = a->named_parameters()["linear1.weight"].grad();
  EXPECT_TRUE(torch::equal(ga, b->named_parameters()["linear1.weight"].grad()));
  EXPECT_FALSE(torch::equal(ga, c->named_parameters()["linear1.weight"].grad()));
}

using tutti::testing::reference_splitmix64;

// relu_dropout against its definition, element by element: the vectorized middle, unaligned
// heads and tails, one-element ranges, NaN and zeros; the kept fraction; no dropout = ReLU.
TEST(AttFused, ReluDropoutFollowsItsDefinition) {
  // The generator's first two outputs from state 0, as published with it.
  ASSERT_EQ(reference_splitmix64(0), 0xE220A8397B1DCDAFull);
  ASSERT_EQ(reference_splitmix64(0x9E3779B97F4A7C15ull), 0x6E789E6AA1B965F4ull);
  const std::int64_t n = 40003;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> in(static_cast<std::size_t>(n));
  for (auto& v : in) v = u(rng);
  in[10] = 0.0f;
  in[11] = -0.0f;
  in[12] = std::numeric_limits<float>::quiet_NaN();
  const std::uint64_t base = 987654321;
  const std::uint32_t keep_below = 26214;  // keep 0.4
  const float scale = 2.5f;
  auto expected = [&](std::int64_t q) {
    const std::uint64_t bits = reference_splitmix64(base + static_cast<std::uint64_t>(q / 4 * 4));
    const bool kept = ((bits >> (16 * (q % 4))) & 0xFFFF) < keep_below;
    return in[static_cast<std::size_t>(q)] > 0.0f && kept ? in[static_cast<std::size_t>(q)] * scale
                                                          : 0.0f;
  };
  for (auto [q0, q1] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {0, n}, {3, n - 2}, {5, 6}, {6, 9}, {1, 4}, {8, 8}}) {
    std::vector<float> out = in;
    models::relu_dropout(out.data(), base, q0, q1, keep_below, scale);
    for (std::int64_t q = 0; q < n; ++q) {
      const float want = q >= q0 && q < q1 ? expected(q) : in[static_cast<std::size_t>(q)];
      const float got = out[static_cast<std::size_t>(q)];
      if (std::isnan(want)) {
        ASSERT_TRUE(std::isnan(got)) << q;  // outside the range: untouched
      } else {
        ASSERT_EQ(got, want) << "range [" << q0 << "," << q1 << ") element " << q;
        ASSERT_FALSE(std::signbit(got) && q >= q0 && q < q1) << q;
      }
    }
  }
  std::vector<float> out = in;
  models::relu_dropout(out.data(), base, 0, n, keep_below, scale);
  std::int64_t positive = 0, kept = 0;
  for (std::int64_t q = 0; q < n; ++q)
    if (in[static_cast<std::size_t>(q)] > 0.0f) {
      ++positive;
      kept += out[static_cast<std::size_t>(q)] != 0.0f;
    }
  EXPECT_NEAR(static_cast<double>(kept) / static_cast<double>(positive), 0.4, 0.015);
  // keep_below 65536 (no dropout) with scale 1: exactly ReLU.
  out = in;
  models::relu_dropout(out.data(), base, 0, n, 65536, 1.0f);
  for (std::int64_t q = 0; q < n; ++q) {
    const float v = in[static_cast<std::size_t>(q)];
    ASSERT_EQ(out[static_cast<std::size_t>(q)], v > 0.0f ? v : 0.0f) << q;
  }
}

TEST(AttFused, RejectsOtherModels) {
  models::ModelSpec spec;
  spec.name = "fc_t";
  spec.input_dim = 16;
  spec.num_classes = 5;
  auto m = models::make_model(spec);
  EXPECT_FALSE(models::AttFused::supports(*m));
  EXPECT_THROW(models::AttFused engine(*m, 1), tutti::Error);
}
