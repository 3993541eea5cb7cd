// The auxiliary task (--aux-labels) and distillation (--teacher): how the training data is
// extended and relabeled, the model file that keeps only the task's classes, every error path.
#include <gtest/gtest.h>

#include <cmath>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/predictor.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/train/class_heads.h"
#include "tutti/train/extra_targets.h"
#include "tutti/train/train.h"

using namespace tutti;
using tutti::testing::row_range;
using tutti::testing::small_att_config;
using tutti::testing::TempDir;
using tutti::testing::train_fixture;

namespace {

// Auxiliary clips: training rows 0..9 and validation rows 100..101 of `all` (by key), then five
// clips of their own ("x0".."x4", features of rows 120..124); classes q, r with labels
// y = (i % 2, i % 3 == 0) and r unknown on every fourth clip.
data::BagDataset make_aux(const data::BagDataset& all) {
  std::vector<std::int64_t> src;
  for (std::int64_t i = 0; i < 10; ++i) src.push_back(i);
  src.push_back(100);
  src.push_back(101);
  for (std::int64_t i = 120; i < 125; ++i) src.push_back(i);
  data::BagDataset aux =
      data::BagDataset::zeros(static_cast<std::int64_t>(src.size()), all.max_instances, all.dim,
                              {"q", "r"}, all.feature_type);
  const auto xd = static_cast<std::size_t>(all.max_instances * all.dim);
  for (std::size_t a = 0; a < src.size(); ++a) {
    const auto i = static_cast<std::size_t>(src[a]);
    std::copy_n(all.x_u8.begin() + i * xd, xd, aux.x_u8.begin() + a * xd);
    aux.n_instances[a] = all.n_instances[i];
    aux.keys[a] = a < 12 ? all.keys[i] : "x" + std::to_string(a - 12);
    aux.y_true[2 * a] = static_cast<float>(a % 2);
    aux.y_true[2 * a + 1] = a % 3 == 0 ? 1.0f : 0.0f;
    aux.y_mask[2 * a] = 1;
    aux.y_mask[2 * a + 1] = a % 4 == 0 ? 0 : 1;
  }
  return aux;
}

}  // namespace

TEST(ExtraTargets, AuxJoinsByKeyAddsOtherClipsAndLeavesOutValidation) {
  const auto all = train_fixture("train_small.npz");
  const auto train = row_range(all, 0, 100), val = row_range(all, 100, 120);
  const auto aux = make_aux(all);
  TempDir dir;
  data::save_bags(dir / "aux.npz", aux);
  auto cfg = small_att_config(1);
  cfg.aux_labels = (dir / "aux.npz").string();

  const auto ext = train::extend_training_data(train, val, cfg, "train_small.npz");
  EXPECT_EQ(ext.task_classes, 3);
  EXPECT_EQ(ext.aux_joined, 10);
  EXPECT_EQ(ext.aux_added, 5);
  EXPECT_EQ(ext.aux_left_out, 2);
  const std::vector<std::string> classes = {"c0", "c1", "c2", "aux:q", "aux:r"};
  EXPECT_EQ(ext.train.classes, classes);
  EXPECT_EQ(ext.val.classes, classes);
  ASSERT_EQ(ext.train.size(), 105);
  const auto xd = static_cast<std::size_t>(all.max_instances * all.dim);
  for (std::int64_t i = 0; i < 100; ++i) {  // the training clips, in order, task labels kept
    EXPECT_EQ(ext.train.keys[i], train.keys[i]);
    for (std::int64_t j = 0; j < 3; ++j) {
      EXPECT_EQ(ext.train.known(i, j), train.known(i, j));
      EXPECT_EQ(ext.train.label(i, j), train.label(i, j));
    }
    for (std::int64_t j = 0; j < 2; ++j) {  // aux labels where the aux file has the clip
      EXPECT_EQ(ext.train.known(i, 3 + j), i < 10 && aux.known(i, j)) << i;
      if (i < 10) {
        EXPECT_EQ(ext.train.label(i, 3 + j), aux.label(i, j));
      }
    }
  }
  for (std::int64_t a = 0; a < 5; ++a) {  // the aux file's own clips: task labels unknown
    const std::int64_t i = 100 + a, ai = 12 + a;
    EXPECT_EQ(ext.train.keys[i], "x" + std::to_string(a));
    EXPECT_EQ(ext.train.n_instances[i], aux.n_instances[ai]);
    EXPECT_TRUE(std::equal(aux.x_u8.begin() + ai * xd, aux.x_u8.begin() + (ai + 1) * xd,
                           ext.train.x_u8.begin() + i * xd));
    for (std::int64_t j = 0; j < 3; ++j) EXPECT_FALSE(ext.train.known(i, j));
    for (std::int64_t j = 0; j < 2; ++j) EXPECT_EQ(ext.train.known(i, 3 + j), aux.known(ai, j));
  }
  for (std::int64_t i = 0; i < val.size(); ++i) {  // validation: task labels only
    EXPECT_EQ(ext.val.keys[i], val.keys[i]);
    for (std::int64_t j = 0; j < 3; ++j) EXPECT_EQ(ext.val.known(i, j), val.known(i, j));
    for (std::int64_t j = 3; j < 5; ++j) EXPECT_FALSE(ext.val.known(i, j));
  }
}

TEST(ExtraTargets, ClassWeightsAndTeacherPath) {
  auto cfg = small_att_config(1);
  const std::vector<std::string> classes = {"a", "b", "aux:c"};
  EXPECT_TRUE(train::class_loss_weights(cfg, classes).empty());  // default: no weighting
  cfg.aux_weight = 0.25;
  EXPECT_EQ(train::class_loss_weights(cfg, classes), (std::vector<float>{1, 1, 0.25f}));
  EXPECT_TRUE(train::class_loss_weights(cfg, {"a", "b"}).empty());
  cfg.teacher = "exp/att+fc_t-seed{seed}.tutti";
  cfg.seed = 12;
  EXPECT_EQ(train::teacher_path(cfg), "exp/att+fc_t-seed12.tutti");
  EXPECT_TRUE(train::uses_extra_targets(cfg));
  EXPECT_TRUE(train::soft_targets(cfg));
  EXPECT_FALSE(train::uses_extra_targets(small_att_config(1)));
}

TEST(ExtraTargets, BadAuxFilesAreRefusedNamingTheFile) {
  const auto all = train_fixture("train_small.npz");
  const auto train = row_range(all, 0, 100), val = row_range(all, 100, 120);
  TempDir dir;
  auto cfg = small_att_config(1);
  const auto expect_error = [&](const data::BagDataset& aux, const std::string& what) {
    const auto path = dir / "bad.npz";
    data::save_bags(path, aux);
    cfg.aux_labels = path.string();
    try {
      train::extend_training_data(train, val, cfg, "train_small.npz");
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(path.string()), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
    }
  };
  auto dup = make_aux(all);
  dup.keys[13] = dup.keys[12];
  expect_error(dup, "appears twice");
  auto wide =
      data::BagDataset::zeros(2, all.max_instances, all.dim + 1, {"q"}, data::FeatureType::kUint8);
  wide.keys = {"a", "b"};
  expect_error(wide, "D = 17");
  auto longer =
      data::BagDataset::zeros(2, all.max_instances + 1, all.dim, {"q"}, data::FeatureType::kUint8);
  longer.keys = {"a", "b"};
  expect_error(longer, "K = 11");
  auto floats =
      data::BagDataset::zeros(2, all.max_instances, all.dim, {"q"}, data::FeatureType::kFloat32);
  floats.keys = {"a", "b"};
  expect_error(floats, "float32");
  cfg.aux_labels = (dir / "missing.npz").string();
  EXPECT_THROW(train::extend_training_data(train, val, cfg, "train_small.npz"), Error);
}

TEST(ExtraTargets, ExperimentRefusesAuxFilesHoldingTestClips) {
  const auto all = train_fixture("train_small.npz");
  TempDir dir;
  data::save_bags(dir / "aux.npz", make_aux(all));
  auto cfg = small_att_config(1);
  cfg.aux_labels = (dir / "aux.npz").string();
  EXPECT_NO_THROW(train::check_aux_excludes(cfg, row_range(all, 130, 160), "test.npz"));
  try {
    train::check_aux_excludes(cfg, row_range(all, 5, 30), "test.npz");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("holds 5 clips of the test set test.npz"),
              std::string::npos)
        << e.what();
  }
}

TEST(ExtraTargets, TeacherProbabilitiesBecomeTheTargets) {
  const auto all = train_fixture("train_small.npz");
  const auto train = row_range(all, 0, 100), val = row_range(all, 100, 120);
  TempDir dir;
  const auto teacher = dir / "teacher-7.tutti";
  train::train_model_file(all, small_att_config(2), teacher, "train_small.npz");
  auto cfg = small_att_config(1);
  cfg.teacher = (dir / "teacher-{seed}.tutti").string();
  cfg.teacher_weight = 0.7;
  const auto ext = train::extend_training_data(train, val, cfg, "train_small.npz");
  const auto p = infer::Predictor::load(teacher).predict(train, false, 1);
  ASSERT_EQ(ext.train.size(), train.size());
  int unknown = 0;
  for (std::int64_t i = 0; i < train.size(); ++i)
    for (std::int64_t j = 0; j < 3; ++j) {
      EXPECT_TRUE(ext.train.known(i, j));
      const double y = train.positive(i, j) ? 1.0 : 0.0;
      const double want = train.known(i, j) ? 0.7 * p.score(i, j) + 0.3 * y : p.score(i, j);
      unknown += train.known(i, j) ? 0 : 1;
      EXPECT_NEAR(ext.train.label(i, j), want, 1e-6);
    }
  EXPECT_GT(unknown, 0);                  // the fixture has unknown labels, which the teacher fills
  EXPECT_EQ(ext.val.y_true, val.y_true);  // validation keeps its labels

  // A teacher for other classes is refused.
  auto renamed = all;
  renamed.classes = {"c0", "c1", "other"};
  const auto other = dir / "other.tutti";
  train::train_model_file(renamed, small_att_config(1), other, "renamed");
  cfg.teacher = other.string();
  try {
    train::extend_training_data(train, val, cfg, "train_small.npz");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("names and order must match"), std::string::npos)
        << e.what();
  }
}

TEST(ExtraTargets, KeepFirstClassesGivesTheFirstOutputs) {
  for (const std::string name : {"att", "fc_t"}) {
    SCOPED_TRACE(name);
    models::ModelSpec spec;
    spec.name = name;
    spec.input_dim = 16;
    spec.num_classes = 7;
    spec.max_instances = 10;
    torch::manual_seed(3);
    auto big = models::make_model(spec);
    big->eval();
    auto small = train::keep_first_classes(*big, 3);
    EXPECT_EQ(small->spec().num_classes, 3);
    const auto all = train_fixture("train_small.npz");
    const auto t = models::to_tensors(row_range(all, 0, 20));
    torch::NoGradGuard ng;
    const auto a = big->forward(t.x, t.mask).clip.slice(1, 0, 3);
    const auto b = small->forward(t.x, t.mask).clip;
    // Equal up to the rounding of a matrix product with fewer output columns.
    EXPECT_LE((a - b).abs().max().item<double>(), 1e-6);
  }
  models::ModelSpec spec;
  spec.name = "att";
  spec.input_dim = 16;
  spec.num_classes = 3;
  spec.max_instances = 10;
  auto m = models::make_model(spec);
  EXPECT_THROW(train::keep_first_classes(*m, 4), Error);
}

TEST(ExtraTargets, TrainingWithAuxAndTeacherWritesATaskModel) {
  const auto all = train_fixture("train_small.npz");
  const auto train = row_range(all, 0, 120);
  TempDir dir;
  data::save_bags(dir / "aux.npz", make_aux(all));
  const auto teacher = dir / "teacher.tutti";
  train::train_model_file(train, small_att_config(2), teacher, "train");
  for (const std::string engine : {"auto", "autograd"}) {
    SCOPED_TRACE(engine);
    auto cfg = small_att_config(3);
    cfg.engine = engine;
    cfg.aux_labels = (dir / "aux.npz").string();
    cfg.aux_weight = 0.5;
    cfg.teacher = teacher.string();
    cfg.teacher_weight = 0.5;
    const auto out = dir / ("student-" + engine + ".tutti");
    const auto info = train::train_model_file(train, cfg, out, "train");
    EXPECT_EQ(info.classes, train.classes);
    EXPECT_EQ(info.spec.num_classes, 3);
    EXPECT_EQ(info.thresholds.size(), 3u);
    EXPECT_EQ(info.train_config.at("aux_labels"), cfg.aux_labels);
    // A plain single-model file: the format every reader of single models reads, the task's
    // classes only, weights shaped for them.
    const auto file = infer::read_model_file(out);
    EXPECT_EQ(file.info.format_version, infer::kModelFormatVersion);
    EXPECT_EQ(file.info.spec.num_classes, 3);
    EXPECT_EQ(file.blobs.count("weights.pt"), 1u);
    const auto p = infer::Predictor::load(out).predict(row_range(all, 140, 160), false, 1);
    ASSERT_EQ(p.scores.size(), 20u * 3u);
    for (float s : p.scores) EXPECT_TRUE(std::isfinite(s) && s >= 0 && s <= 1);
  }
}
