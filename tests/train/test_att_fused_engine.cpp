// The fused ATT engine's data paths and optimizer: batches read straight from a (uint8) dataset,
// the parallel parts, the fused Adam against torch::optim::Adam, and the eval forward on a
// dataset (validation, `tutti predict`) against the model's own forward.
#include <gtest/gtest.h>

#include <random>

#include "threads_guard.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/models/kernels/att_fused.h"
#include "tutti/train/fused_adam.h"
#include "tutti/train/trainer.h"

using namespace tutti;

namespace {

models::BagModel make_att(std::int64_t d, std::int64_t c, double dropout, std::uint64_t seed = 5) {
  models::ModelSpec spec;
  spec.name = "att";
  spec.input_dim = d;
  spec.num_classes = c;
  spec.max_instances = 10;
  spec.options = {{"dropout", dropout}};
  torch::manual_seed(seed);
  auto m = models::make_model(spec);
  torch::NoGradGuard ng;
  for (auto& item : m->named_parameters(true))
    if (item.key().find("bn") != std::string::npos) item.value().uniform_(0.5, 1.5);
  for (auto& item : m->named_buffers(true)) {
    if (item.key().find("running_mean") != std::string::npos) item.value().uniform_(-0.2, 0.2);
    if (item.key().find("running_var") != std::string::npos) item.value().uniform_(0.5, 2.0);
  }
  return m;
}

// n clips x 10 x d uint8, ragged lengths (some clips empty), 20% of the labels unknown.
data::BagDataset make_data(std::int64_t n, std::int64_t d, std::int64_t c, bool with_empty) {
  std::vector<std::string> classes;
  for (std::int64_t j = 0; j < c; ++j) classes.push_back("c" + std::to_string(j));
  auto ds = data::BagDataset::zeros(n, 10, d, classes, data::FeatureType::kUint8);
  std::mt19937_64 rng(3);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.n_instances[i] = static_cast<std::int32_t>(1 + rng() % 10);
    if (with_empty && i % 7 == 3) ds.n_instances[i] = 0;
    for (std::int64_t t = 0; t < ds.n_instances[i]; ++t)
      for (std::int64_t j = 0; j < d; ++j)
        ds.x_u8[(i * 10 + t) * d + j] = static_cast<std::uint8_t>(rng() & 0xFF);
    for (std::int64_t j = 0; j < c; ++j) {
      ds.y_mask[i * c + j] = (rng() % 5) != 0;
      ds.y_true[i * c + j] = static_cast<float>(rng() % 3) / 2.0f;
    }
    ds.keys[i] = "k" + std::to_string(i);
  }
  return ds;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, double tol, const std::string& what) {
  ASSERT_TRUE(a.defined() && b.defined()) << what;
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  const double diff = (a - b).abs().max().item<double>();
  const double scale = std::max(1.0, b.abs().max().item<double>());
  EXPECT_LE(diff, tol * scale) << what << " max abs diff " << diff;
}

using tutti::testing::ThreadsGuard;

}  // namespace

// A batch read from the uint8 dataset gives the gradients autograd gives on the float tensors of
// the same clips, with one part and with two parallel parts.
TEST(AttFusedEngine, DatasetBatchGradientsMatchAutogradForOneAndTwoParts) {
  const auto ds = make_data(40, 16, 5, false);  // (the trainer drops empty clips)
  const std::vector<std::int64_t> rows = {5, 0, 17, 3, 22, 9, 31, 12, 1, 38, 26, 14, 7, 19, 33};
  const auto sub = ds.subset(rows);
  const auto t = models::to_tensors(sub);
  auto ref = make_att(16, 5, 0.0);
  ref->train();
  auto out = ref->forward(t.x, t.mask);
  auto loss = models::masked_bce_sum(out.clip, t.y, t.y_mask) / t.y_mask.sum().clamp_min(1.0);
  ref->zero_grad();
  loss.backward();
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    ThreadsGuard tg(threads);
    auto fm = make_att(16, 5, 0.0);
    fm->train();
    models::AttFused engine(*fm, 1);
    const auto l = engine.train_step(models::BagSource::of(ds), rows);
    EXPECT_NEAR(l.bce_sum / l.known, loss.item<double>(), 1e-5);
    auto rp = ref->named_parameters(true), fp = fm->named_parameters(true);
    for (const auto& item : rp)
      expect_close(fp[item.key()].grad(), item.value().grad(), 2e-4, item.key() + ".grad");
    auto rb = ref->named_buffers(true), fb = fm->named_buffers(true);
    for (const auto& item : rb)
      expect_close(fb[item.key()].to(torch::kFloat64), item.value().to(torch::kFloat64), 1e-5,
                   item.key());
  }
}

// Three steps of the fused Adam equal torch::optim::Adam (weight decay on) given the same grads.
TEST(AttFusedEngine, FusedAdamMatchesTorchAdam) {
  const auto ds = make_data(30, 16, 5, false);
  std::vector<std::int64_t> rows(30);
  for (std::int64_t i = 0; i < 30; ++i) rows[static_cast<std::size_t>(i)] = i;
  auto a = make_att(16, 5, 0.5), b = make_att(16, 5, 0.5);
  a->train();
  b->train();
  models::AttFused ea(*a, 9), eb(*b, 9);
  train::FusedAdam adam(a->parameters());
  torch::optim::Adam opt(b->parameters(), torch::optim::AdamOptions(3e-3).weight_decay(1e-3));
  train::FusedAdam::Options ao;
  ao.lr = 3e-3;
  ao.weight_decay = 1e-3;
  for (int step = 0; step < 3; ++step) {
    ea.train_step(models::BagSource::of(ds), rows);
    eb.train_step(models::BagSource::of(ds), rows);
    adam.step(ao);
    opt.step();
  }
  auto pa = a->named_parameters(true), pb = b->named_parameters(true);
  for (const auto& item : pb) expect_close(pa[item.key()], item.value(), 1e-6, item.key());
  // And it moved the weights.
  auto fresh = make_att(16, 5, 0.5);
  EXPECT_FALSE(torch::allclose(pa["linear1.weight"], fresh->named_parameters()["linear1.weight"]));
}

// Eval from the dataset (validation, predict) equals the model's forward on the float tensors:
// clip, instance, attention and embedding, empty clips scoring 0; for one and two parts and for a
// dataset longer than the engine's eval chunk.
TEST(AttFusedEngine, DatasetEvalMatchesTheModelForward) {
  const auto ds = make_data(1100, 16, 5, true);
  auto m = make_att(16, 5, 0.6);
  m->eval();
  const auto t = models::to_tensors(ds);
  models::BagOutput ref;
  {
    torch::NoGradGuard ng;
    // The module needs at least one instance per clip: score the non-empty clips only.
    std::vector<std::int64_t> ne;
    for (std::int64_t i = 0; i < ds.size(); ++i)
      if (ds.n_instances[i] > 0) ne.push_back(i);
    auto idx = torch::tensor(ne, torch::kInt64);
    auto o = m->forward(t.x.index_select(0, idx), t.mask.index_select(0, idx));
    ref.clip = torch::zeros({ds.size(), 5}).index_copy_(0, idx, o.clip);
    ref.instance = torch::zeros({ds.size(), 10, 5}).index_copy_(0, idx, o.instance);
    ref.attention = torch::zeros({ds.size(), 10, 5}).index_copy_(0, idx, o.attention);
    ref.embedding = torch::zeros({ds.size(), 16}).index_copy_(0, idx, o.embedding);
  }
  for (int threads : {1, 2}) {
    SCOPED_TRACE(threads);
    ThreadsGuard tg(threads);
    const auto got = infer::run_model(*m, ds, true);
    expect_close(got.clip, ref.clip, 1e-5, "clip");
    expect_close(got.instance, ref.instance, 1e-5, "instance");
    expect_close(got.attention, ref.attention, 1e-5, "attention");
    expect_close(got.embedding, ref.embedding, 1e-4, "embedding");
    EXPECT_EQ(got.clip[3].abs().sum().item<float>(), 0.0f);  // clip 3 is empty
    const auto clip_only = infer::run_model(*m, ds, false);
    EXPECT_TRUE(torch::equal(clip_only.clip, got.clip));
    EXPECT_FALSE(clip_only.instance.defined());
    // A range of the dataset.
    models::AttFused engine(*m, 0);
    auto part = torch::full({100, 5}, -1.0f);
    models::AttFused::EvalOut eo;
    eo.clip = part.data_ptr<float>();
    engine.eval_rows(models::BagSource::of(ds), 500, 600, eo);
    expect_close(part, got.clip.slice(0, 500, 600), 1e-6, "rows 500..600");
  }
}

// Same seed and thread count: bit-identical training steps; the dropout masks do not depend on
// the number of parts (one and two threads give the same loss up to rounding).
TEST(AttFusedEngine, RerunsAreBitIdenticalAndPartsAgree) {
  const auto ds = make_data(64, 16, 5, false);
  std::vector<std::int64_t> rows(64);
  for (std::int64_t i = 0; i < 64; ++i) rows[static_cast<std::size_t>(i)] = 63 - i;
  auto run = [&](int threads) {
    ThreadsGuard tg(threads);
    auto m = make_att(16, 5, 0.6);
    m->train();
    models::AttFused e(*m, 3);
    train::FusedAdam adam(m->parameters());
    train::FusedAdam::Options ao;
    double loss = 0;
    for (int s = 0; s < 3; ++s) {
      loss = e.train_step(models::BagSource::of(ds), rows).bce_sum;
      adam.step(ao);
    }
    return std::pair{loss, m->named_parameters()["linear2.weight"].clone()};
  };
  const auto a = run(2), b = run(2), c = run(1);
  EXPECT_EQ(a.first, b.first);
  EXPECT_TRUE(torch::equal(a.second, b.second));
  EXPECT_NEAR(a.first, c.first, 1e-4 * std::abs(c.first));
  expect_close(a.second, c.second, 1e-4, "linear2.weight");
}
