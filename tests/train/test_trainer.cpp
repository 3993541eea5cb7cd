// The neural training loop: the loss against PyTorch, bit-identical reruns, best-epoch selection,
// patience, and every bad-input path.
#include <gtest/gtest.h>

#include <cmath>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/train/train.h"
#include "tutti/train/trainer.h"
#include "tutti/train/validation.h"

using namespace tutti;
using tutti::testing::train_fixture;
using tutti::testing::train_reference;

namespace {

train::TrainConfig small_config(const std::string& model, int epochs) {
  auto cfg = train::TrainConfig::for_model(model);
  cfg.epochs = epochs;
  cfg.batch_size = 32;
  cfg.threads = 2;
  cfg.seed = 7;
  return cfg;
}

data::BagDataset rows(const data::BagDataset& ds, std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> idx;
  for (std::int64_t i = from; i < to; ++i) idx.push_back(i);
  return ds.subset(idx);
}

}  // namespace

TEST(MaskedBce, MatchesPyTorchOverKnownEntries) {
  const auto ref = train_reference().at("masked_bce");
  std::vector<float> p, y, m;
  for (const auto& r : ref["p"])
    for (const auto& v : r) p.push_back(v.get<float>());
  for (const auto& r : ref["y"])
    for (const auto& v : r) y.push_back(v.get<float>());
  for (const auto& r : ref["mask"])
    for (const auto& v : r) m.push_back(v.get<float>());
  const std::int64_t b = static_cast<std::int64_t>(ref["p"].size()), c = 3;
  auto tp = torch::from_blob(p.data(), {b, c}), ty = torch::from_blob(y.data(), {b, c}),
       tm = torch::from_blob(m.data(), {b, c});
  const double loss = models::masked_bce_sum(tp, ty, tm).item<double>() / tm.sum().item<double>();
  EXPECT_NEAR(loss, ref["loss"].get<double>(), 1e-5);
}

TEST(ToTensors, ScalesUint8AndBuildsMasks) {
  auto ds = data::BagDataset::zeros(2, 3, 2, {"a", "b"}, data::FeatureType::kUint8);
  ds.n_instances = {1, 3};
  ds.x_u8 = {255, 51, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6};
  ds.y_true = {0.5f, 1.0f, 0.25f, 0.75f};
  ds.y_mask = {0, 1, 1, 1};
  const auto t = models::to_tensors(ds);
  EXPECT_FLOAT_EQ(t.x[0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t.x[0][0][1].item<float>(), 0.2f);
  EXPECT_TRUE(torch::equal(t.mask, torch::tensor({{1, 0, 0}, {1, 1, 1}}).to(torch::kBool)));
  EXPECT_TRUE(torch::equal(t.y, torch::tensor({{1.f, 1.f}, {0.f, 1.f}})));
  EXPECT_TRUE(torch::equal(t.y_mask, torch::tensor({{0.f, 1.f}, {1.f, 1.f}})));
}

TEST(Trainer, SameSeedAndThreadsGiveBitIdenticalWeights) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  const auto cfg = small_config("att", 2);
  auto a = train::train_neural(tr, val, cfg);
  auto b = train::train_neural(tr, val, cfg);
  const auto pa = a.model->named_parameters(true), pb = b.model->named_parameters(true);
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& item : pa) EXPECT_TRUE(torch::equal(item.value(), pb[item.key()])) << item.key();
  const auto ba = a.model->named_buffers(true), bb = b.model->named_buffers(true);
  for (const auto& item : ba) EXPECT_TRUE(torch::equal(item.value(), bb[item.key()])) << item.key();
  EXPECT_EQ(a.summary.history.size(), 2u);
  EXPECT_EQ(a.summary.history[1].val_loss, b.summary.history[1].val_loss);

  auto other = cfg;
  other.seed = 8;
  auto c = train::train_neural(tr, val, other);
  EXPECT_FALSE(
      torch::equal(c.model->named_parameters(true)["classifier.weight"], pa["classifier.weight"]));
}

// Label smoothing E trains on targets E/2 and 1 - E/2, so no prediction brings the training loss
// below their entropy H(E/2) (cross-entropy >= entropy), on either engine; without it the same
// training goes below. The validation loss (0/1 labels) has no such floor.
TEST(Trainer, LabelSmoothingFloorsTheTrainingLoss) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  const double e = 0.5, floor = -(e / 2 * std::log(e / 2) + (1 - e / 2) * std::log(1 - e / 2));
  auto plain = small_config("att", 30);
  plain.learning_rate = 1e-2;
  plain.model_options = {{"dropout", 0.0}};  // fits the training clips within 30 epochs
  const auto base = train::train_neural(tr, val, plain);
  EXPECT_LT(base.summary.history.back().train_loss, floor - 0.2);
  for (const char* engine : {"auto", "autograd"}) {
    auto cfg = plain;
    cfg.label_smoothing = e;
    cfg.engine = engine;
    const auto r = train::train_neural(tr, val, cfg);
    for (const auto& h : r.summary.history) EXPECT_GE(h.train_loss, floor - 1e-6) << engine;
    EXPECT_LT(r.summary.history.back().train_loss, floor + 0.1) << engine;  // it still learns
  }
}

// The cosine schedule runs its first epoch at the full learning rate (the same weights as the
// constant schedule after one epoch) and lowers it afterwards (other weights after three).
TEST(Trainer, CosineScheduleStartsAtTheLearningRate) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  for (int epochs : {1, 3}) {
    auto constant = small_config("att", epochs), cosine = constant;
    cosine.lr_schedule = "cosine";
    const auto a = train::train_neural(tr, val, constant), b = train::train_neural(tr, val, cosine);
    const bool same = torch::equal(a.model->named_parameters(true)["classifier.weight"],
                                   b.model->named_parameters(true)["classifier.weight"]);
    EXPECT_EQ(same, epochs == 1) << epochs << " epochs";
  }
}

// MMGAT on its default engine (fused ops, FusedAdam) and on --engine autograd (LibTorch only):
// the same model from the same seed, so the first epoch's training loss agrees closely; the runs
// are not bit-identical (different summation orders), and each is reproducible.
TEST(Trainer, MmgatEnginesAgree) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  auto cfg = small_config("mmgat", 1);
  const auto fused = train::train_neural(tr, val, cfg);
  const auto again = train::train_neural(tr, val, cfg);
  cfg.engine = "autograd";
  const auto plain = train::train_neural(tr, val, cfg);
  const double lf = fused.summary.history[0].train_loss, lp = plain.summary.history[0].train_loss;
  EXPECT_NEAR(lf, lp, 1e-4 * std::abs(lp));
  EXPECT_EQ(lf, again.summary.history[0].train_loss);
  EXPECT_TRUE(torch::equal(fused.model->named_parameters()["cls_w"],
                           again.model->named_parameters()["cls_w"]));
  EXPECT_FALSE(torch::equal(fused.model->named_parameters()["cls_w"],
                            plain.model->named_parameters()["cls_w"]));
}

TEST(Trainer, KeepsTheBestEpochAndLearns) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  auto cfg = small_config("att", 12);
  cfg.learning_rate = 3e-3;
  auto r = train::train_neural(tr, val, cfg);
  const auto& s = r.summary;
  ASSERT_EQ(s.epochs_run, 12);
  ASSERT_GE(s.best_epoch, 1);
  double lowest = INFINITY;
  for (const auto& e : s.history) lowest = std::min(lowest, e.val_loss);
  EXPECT_EQ(s.val_loss, lowest);
  EXPECT_EQ(s.history[static_cast<std::size_t>(s.best_epoch - 1)].val_loss, lowest);
  EXPECT_LT(s.history.back().train_loss, s.history.front().train_loss);
  // The returned weights are the best epoch's: recomputing the validation loss gives it back.
  const auto out = infer::run_model(*r.model, val, false);
  const auto t = models::to_tensors(val);
  const double loss = models::masked_bce_sum(out.clip, t.y, t.y_mask).item<double>() /
                      t.y_mask.sum().item<double>();
  EXPECT_NEAR(loss, s.val_loss, 1e-6);
  EXPECT_NEAR(train::macro_average_precision(
                  val, std::span<const float>(out.clip.data_ptr<float>(), out.clip.numel())),
              s.val_map, 1e-9);
  EXPECT_GT(s.params, 0);
}

TEST(Trainer, PatienceStopsAfterEpochsWithoutImprovement) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  auto cfg = small_config("att", 40);
  cfg.learning_rate = 0.05;  // large steps: the validation loss soon stops improving
  cfg.patience = 2;
  auto r = train::train_neural(tr, val, cfg);
  const auto& s = r.summary;
  // Either every epoch ran or training stopped exactly `patience` epochs after the best one.
  EXPECT_TRUE(s.epochs_run == 40 || s.epochs_run == s.best_epoch + 2)
      << "epochs_run " << s.epochs_run << " best " << s.best_epoch;
  EXPECT_LT(s.epochs_run, 40);
}

TEST(Trainer, VariableLengthBagsAndEmptyClipsAreHandled) {
  auto ds = train_fixture("train_small.npz");
  ds.n_instances[3] = 0;  // a clip without instances is skipped in training, scored 0
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  auto r = train::train_neural(tr, val, small_config("att", 1));
  const auto out = infer::run_model(*r.model, tr, true);
  EXPECT_EQ(out.clip[3].sum().item<float>(), 0.0f);
  ASSERT_TRUE(out.attention.defined());
  // Normalized attention: sums to 1 over the real instances, 0 at padding.
  const auto k = tr.n_instances[0];
  EXPECT_NEAR(out.attention[0].sum(0)[0].item<float>(), 1.0f, 1e-5);
  if (k < tr.max_instances) {
    EXPECT_EQ(out.attention[0][k].abs().sum().item<float>(), 0.0f);
  }
}

TEST(TrainerErrors, BadInputsGiveClearErrors) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, 160);
  const auto expect_error = [](auto&& fn, const std::string& needle) {
    try {
      fn();
      ADD_FAILURE() << "no error, expected one mentioning '" << needle << "'";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  // Empty dataset.
  auto empty = data::BagDataset::zeros(0, 10, 16, ds.classes, data::FeatureType::kUint8);
  expect_error([&] { train::train_neural(empty, val, small_config("att", 1)); }, "no clips");
  // A class without any known label.
  expect_error(
      [&] { train::train_neural(train_fixture("bad_noknown.npz"), val, small_config("att", 1)); },
      "'c2' has no known label");
  // NaN features.
  auto nan = data::BagDataset::zeros(4, 2, 16, ds.classes, data::FeatureType::kFloat32);
  nan.n_instances = {2, 2, 2, 2};
  nan.y_mask.assign(12, 1);
  nan.x_f32[5] = std::nanf("");
  expect_error([&] { train::train_neural(nan, val, small_config("att", 1)); }, "NaN");
  // Fixed-length model on variable-length bags.
  expect_error([&] { train::train_neural(tr, val, small_config("fc", 1)); }, "instances");
  // Validation set of another shape.
  auto val8 = train_fixture("test_d8.npz");
  expect_error([&] { train::train_neural(tr, val8, small_config("att", 1)); }, "validation");
  // Unknown model.
  expect_error([&] { train::train_neural(tr, val, small_config("svm", 1)); }, "svm");
  // A fused engine the model does not have.
  {
    auto cfg = small_config("fc_t", 1);
    cfg.engine = "fused";
    expect_error([&] { train::train_neural(tr, val, cfg); }, "no fused engine (att, mmgat on");
  }
  // CUDA on a CPU-only build.
  if (!torch::cuda::is_available()) {
    auto cfg = small_config("att", 1);
    cfg.device = "cuda";
    EXPECT_THROW(train::train_neural(tr, val, cfg), UsageError);
  }
}

TEST(ValidationSplit, ReadsAttentionMicIndexFilesAndChecksThem) {
  const auto ds = train_fixture("train_small.npz");
  auto cfg = small_config("att", 1);
  cfg.val_split = tutti::testing::fixture("train/val_split_small.npz").string();
  const auto s = train::make_validation_split(ds, cfg);
  EXPECT_EQ(s.train.size(), 130u);
  EXPECT_EQ(s.val.size(), 30u);
  // Indices beyond the data.
  const auto small = rows(ds, 0, 100);
  EXPECT_THROW(train::make_validation_split(small, cfg), Error);
  // A file without the arrays.
  cfg.val_split = tutti::testing::fixture("train/test_small.npz").string();
  EXPECT_THROW(train::make_validation_split(ds, cfg), Error);
  // Stratified fraction: seeded, disjoint, covering all rows.
  cfg.val_split.clear();
  const auto a = train::make_validation_split(ds, cfg), b = train::make_validation_split(ds, cfg);
  EXPECT_EQ(a.val, b.val);
  EXPECT_EQ(a.train.size() + a.val.size(), 160u);
  EXPECT_NEAR(static_cast<double>(a.val.size()), 0.15 * 160, 6);
  // --val-seed: another seed's split, whatever the training seed.
  auto by_val_seed = cfg, by_seed = cfg;
  by_val_seed.seed = 5;
  by_val_seed.val_seed = 3;
  by_seed.seed = 3;
  EXPECT_EQ(train::make_validation_split(ds, by_val_seed).val,
            train::make_validation_split(ds, by_seed).val);
  EXPECT_NE(train::make_validation_split(ds, by_val_seed).val, a.val);
}

TEST(Validation, EmbedderOverrideMustMatchTheDatasetRecord) {
  auto ds = data::BagDataset::zeros(1, 1, 2, {"a"}, data::FeatureType::kUint8);
  const core::Json vggish = {{"embedder", "vggish"}}, none = core::Json::object();
  EXPECT_NO_THROW(train::check_embedder_override(ds, vggish, "d.npz"));  // no record: any
  ds.embedder = "logmel-stats";
  EXPECT_NO_THROW(train::check_embedder_override(ds, none, "d.npz"));  // not given
  EXPECT_NO_THROW(train::check_embedder_override(ds, {{"embedder", "logmel-stats"}}, "d.npz"));
  try {
    train::check_embedder_override(ds, vggish, "d.npz");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--embedder vggish: d.npz was made by embedder 'logmel-stats'");
  }
}

// The spec a run builds its model from: sizes from the data, the options of the configuration,
// an alias resolved (what the model file records).
TEST(ModelSpecForRun, SizesOptionsAndResolvedAlias) {
  const auto ds = train_fixture("train_small.npz");
  auto cfg = small_config("mmgat-principal", 1);
  cfg.model_options = {{"hidden", 8}, {"use_aux", true}};
  const auto spec = train::model_spec(cfg, ds);
  EXPECT_EQ(spec.name, "mmgat");
  EXPECT_EQ(spec.input_dim, ds.dim);
  EXPECT_EQ(spec.num_classes, ds.num_classes());
  EXPECT_EQ(spec.max_instances, ds.max_instances);
  EXPECT_EQ(spec.options, core::Json({{"hidden", 8}, {"use_aux", false}}));
  cfg = small_config("rf", 1);
  EXPECT_EQ(train::model_spec(cfg, ds).name, "rf");
  EXPECT_EQ(train::model_spec(cfg, ds).options, core::Json::object());
}

// A model trained with an alias is the model with the alias's options (same weights, same spec).
TEST(TrainNeural, AliasTrainsAsItsModelWithTheOptions) {
  const auto ds = train_fixture("train_small.npz");
  const auto tr = rows(ds, 0, 120), val = rows(ds, 120, ds.size());
  auto a = small_config("mmgat-graph", 1);
  a.model_options = {{"hidden", 8}};
  auto b = small_config("mmgat", 1);
  b.model_options = {{"hidden", 8}, {"use_labels", false}};
  const auto ra = train::train_neural(tr, val, a), rb = train::train_neural(tr, val, b);
  EXPECT_EQ(ra.model->spec().to_json(), rb.model->spec().to_json());
  const auto pa = ra.model->named_parameters(), pb = rb.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(torch::equal(p.value(), pb[p.key()])) << p.key();
}
