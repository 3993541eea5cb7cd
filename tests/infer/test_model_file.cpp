// The .tutti model file: what it records, round trips through Predictor, and clear errors for
// other format versions, truncated and corrupt files.
#include <gtest/gtest.h>

#include <fstream>

#include "../train/train_test_util.h"
#include "core/zip_test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/zip.h"
#include "tutti/eval/evaluate.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/predictor.h"
#include "tutti/train/train.h"

using namespace tutti;
using tutti::testing::error_of;
using tutti::testing::TempDir;
using tutti::testing::train_fixture;

namespace {

train::TrainConfig quick(const std::string& model) {
  auto cfg = train::TrainConfig::for_model(model);
  cfg.epochs = 3;
  cfg.batch_size = 32;
  cfg.threads = 2;
  cfg.rf_trees = 10;
  return cfg;
}

void expect_error_naming(const std::filesystem::path& file, const std::string& needle) {
  try {
    infer::Predictor::load(file);
    ADD_FAILURE() << "loaded " << file;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find(file.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

// The smallest consistent meta.json content (one class); no training needed.
infer::ModelInfo minimal_info() {
  infer::ModelInfo info;
  info.spec.name = "att";
  info.spec.num_classes = 1;
  info.classes = {"piano"};
  info.thresholds = {0.5f};
  return info;
}

// Rewrites one entry of a model file.
void replace_entry(const std::filesystem::path& in, const std::filesystem::path& out,
                   const std::string& name, std::vector<std::uint8_t> bytes) {
  core::ZipReader r(in);
  core::ZipWriter w(out);
  for (const auto& n : r.names()) w.add(n, n == name ? bytes : r.read(n));
  w.commit();
}

}  // namespace

class ModelFile : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelFile, RecordsEverythingAndPredictsLikeTheTrainedModel) {
  TempDir dir;
  const auto ds = train_fixture("train_small.npz");
  const auto test = train_fixture("test_small.npz");
  auto cfg = quick(GetParam());
  cfg.embedder = "vggish";
  const auto path = dir / "m.tutti";
  const auto info = train::train_model_file(ds, cfg, path, "train_small.npz");
  ASSERT_TRUE(std::filesystem::exists(path));

  const auto p = infer::Predictor::load(path);
  const auto& m = p.info();
  EXPECT_EQ(m.format_version, infer::kModelFormatVersion);
  EXPECT_EQ(m.tutti_version, TUTTI_VERSION);
  EXPECT_EQ(m.spec.name, GetParam());
  EXPECT_EQ(m.classes, ds.classes);
  EXPECT_EQ(m.features.dim, 16);
  EXPECT_EQ(m.features.scaling, "uint8/255");
  EXPECT_EQ(m.features.embedder, "vggish");
  EXPECT_EQ(m.train_config, cfg.to_json());
  ASSERT_EQ(m.thresholds.size(), 3u);
  EXPECT_EQ(m.thresholds, info.thresholds);
  EXPECT_EQ(m.training.n_train + m.training.n_val, 160);
  EXPECT_GE(m.training.best_epoch, 1);
  EXPECT_GT(m.training.params, 0);
  if (GetParam() != "rf") {
    EXPECT_EQ(m.training.history.size(), 3u);
  }

  // Thresholds are the F1-optimal ones on the validation part (recomputed here).
  const auto split = train::make_validation_split(ds, cfg);
  const auto val = ds.subset(split.val);
  const auto val_pred = p.predict(val, false, 2);
  EXPECT_EQ(eval::choose_thresholds(val, val_pred.scores), m.thresholds);

  const auto pred = p.predict(test, true, 2);
  ASSERT_EQ(pred.scores.size(), static_cast<std::size_t>(test.size() * 3));
  // A second load predicts the same numbers.
  EXPECT_EQ(infer::Predictor::load(path).predict(test, false, 2).scores, pred.scores);
  if (GetParam() == "att") {
    EXPECT_EQ(pred.instance.size(), static_cast<std::size_t>(test.size() * 10 * 3));
    EXPECT_EQ(pred.attention.size(), pred.instance.size());
    EXPECT_EQ(pred.embedding_dim, 16);
  }
  if (GetParam() == "rf") {
    EXPECT_TRUE(pred.instance.empty());
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ModelFile, ::testing::Values("att", "rf"));

TEST(ModelFileErrors, VersionMismatchTruncationAndCorruption) {
  TempDir dir;
  const auto ds = train_fixture("train_small.npz");
  const auto good = dir / "good.tutti";
  train::train_model_file(ds, quick("att"), good, "train_small.npz");

  core::ZipReader zr(good);
  const auto meta_bytes = zr.read("meta.json");
  auto meta = core::Json::parse(meta_bytes.begin(), meta_bytes.end());

  // Another format version.
  auto v2 = meta;
  v2["format_version"] = 99;
  const std::string v2s = v2.dump();
  const auto other = dir / "other-version.tutti";
  replace_entry(good, other, "meta.json", {v2s.begin(), v2s.end()});
  expect_error_naming(other, "format version 99");

  // Not a tutti model (a zip without meta.json): an npz.
  expect_error_naming(tutti::testing::fixture("train/test_small.npz"), "meta.json");

  // Truncated file.
  const auto bytes = core::read_file_bytes(good);
  const auto cut = dir / "cut.tutti";
  core::write_file_atomic(
      cut, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size() / 2));
  expect_error_naming(cut, "");

  // Corrupt weights.
  const auto bad_w = dir / "bad-weights.tutti";
  replace_entry(good, bad_w, "weights.pt", {1, 2, 3, 4});
  expect_error_naming(bad_w, "weights.pt");

  // Weights of another architecture (3 hidden layers stored, 4 declared).
  auto arch = meta;
  arch["model"]["options"]["num_layers"] = 4;
  const std::string archs = arch.dump();
  const auto bad_arch = dir / "bad-arch.tutti";
  replace_entry(good, bad_arch, "meta.json", {archs.begin(), archs.end()});
  expect_error_naming(bad_arch, "weights.pt");

  // Inconsistent meta.json.
  auto inc = meta;
  inc["thresholds"] = {0.5};
  const std::string incs = inc.dump();
  const auto bad_meta = dir / "bad-meta.tutti";
  replace_entry(good, bad_meta, "meta.json", {incs.begin(), incs.end()});
  expect_error_naming(bad_meta, "thresholds");

  // Missing file.
  expect_error_naming(dir / "missing.tutti", "no such file");
}

TEST(ModelFileErrors, FailedTrainingLeavesNoFile) {
  TempDir dir;
  const auto out = dir / "never.tutti";
  EXPECT_THROW(train::train_model_file(train_fixture("bad_noknown.npz"), quick("att"), out,
                                       "bad_noknown.npz"),
               Error);
  EXPECT_FALSE(std::filesystem::exists(out));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PredictorErrors, DatasetMustFitTheModel) {
  TempDir dir;
  const auto path = dir / "m.tutti";
  train::train_model_file(train_fixture("train_small.npz"), quick("att"), path, "train");
  const auto p = infer::Predictor::load(path);
  try {
    p.predict(train_fixture("test_d8.npz"), false, 1, "test_d8.npz");
    ADD_FAILURE() << "D = 8 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("test_d8.npz: features have D = 8"), std::string::npos)
        << e.what();
  }
}

// Format 2 records MMGAT's scale_fusion; a format-1 file (no such option: the models fused the
// scales with tanh) is read as tanh, and the fusion really changes the predictions.
TEST(ModelFileMigration, FormatOneMmgatReadsAsTanhFusion) {
  TempDir dir;
  const auto ds = train_fixture("train_small.npz");
  const auto test = train_fixture("test_small.npz");
  const auto v2 = dir / "v2.tutti";
  train::train_model_file(ds, quick("mmgat"), v2, "train_small.npz");
  const auto p2 = infer::Predictor::load(v2);
  EXPECT_EQ(p2.info().format_version, 2);
  EXPECT_EQ(p2.info().spec.options.at("scale_fusion"), "linear");

  core::ZipReader zr(v2);
  const auto meta_bytes = zr.read("meta.json");
  auto meta = core::Json::parse(meta_bytes.begin(), meta_bytes.end());
  meta["format_version"] = 1;
  meta["model"]["options"].erase("scale_fusion");
  const std::string s = meta.dump();
  const auto v1 = dir / "v1.tutti";
  replace_entry(v2, v1, "meta.json", {s.begin(), s.end()});
  const auto p1 = infer::Predictor::load(v1);
  EXPECT_EQ(p1.info().spec.options.at("scale_fusion"), "tanh");
  const auto a = p2.predict(test, false, 1, "test").scores;
  const auto b = p1.predict(test, false, 1, "test").scores;
  ASSERT_EQ(a.size(), b.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    max_diff = std::max<double>(max_diff, std::abs(a[i] - b[i]));
  EXPECT_GT(max_diff, 1e-6);  // same weights, deterministic: only the fusion differs
}

// The zip layer checks weights.pt's claimed size before allocating it: a small model whose
// directory claims 4 GiB, 16 GiB (zip64) or 1 TiB fails at once with one line naming the file.
TEST(ModelFileErrors, HostileEntrySizesAreRefusedBeforeAllocating) {
  TempDir dir;
  const auto info = minimal_info();
  const auto meta = tutti::testing::bytes_of(info.to_json().dump());
  const std::vector<std::uint8_t> weights(240000, 0x5a);
  for (const auto& [entry, needle] : tutti::testing::hostile_size_claims("weights.pt", weights)) {
    const auto file = dir / "hostile.tutti";
    tutti::testing::write_raw_zip(file, {{.name = "meta.json", .data = meta}, entry});
    const std::string msg = error_of([&] { infer::read_model_file(file); });
    EXPECT_EQ(msg.rfind("model: " + file.string() + ": entry 'weights.pt': ", 0), 0u) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// meta.json whose "format" is not a string: a tutti::Error naming the file, not a JSON type error.
TEST(ModelFileErrors, MetaWithANonStringFormatNamesTheFile) {
  TempDir dir;
  const auto file = dir / "odd.tutti";
  tutti::testing::write_raw_zip(
      file, {{.name = "meta.json", .data = tutti::testing::bytes_of(R"({"format": 5})")}});
  const std::string msg = error_of([&] { infer::read_model_file(file); });
  EXPECT_NE(msg.find("model: " + file.string() + ": not a tutti model file"), std::string::npos)
      << msg;
}

// Integer fields holding floats (1e73 converted to int is undefined behaviour) or values beyond
// their type are refused naming the file and the field.
TEST(ModelFileErrors, MetaIntegersMustBeIntegersInRange) {
  TempDir dir;
  auto info = minimal_info();
  info.training.history.push_back({});
  const auto file = dir / "odd.tutti";
  const auto expect_refused = [&](core::Json meta, const std::string& needle) {
    tutti::testing::write_raw_zip(
        file, {{.name = "meta.json", .data = tutti::testing::bytes_of(meta.dump())},
               {.name = "weights.pt", .data = {1, 2, 3}}});
    const std::string msg = error_of([&] { infer::read_model_file(file); });
    EXPECT_NE(msg.find("model: " + file.string() + ": meta.json: "), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  };
  auto meta = info.to_json();
  meta["format_version"] = 1.44e73;
  expect_refused(meta, "'format_version' must be an integer, got 1.44e+73");
  meta = info.to_json();
  meta["training"]["history"][0]["epoch"] = 1e20;
  expect_refused(meta, "'epoch' must be an integer");
  meta = info.to_json();
  meta["training"]["best_epoch"] = std::int64_t{1} << 40;
  expect_refused(meta, "'best_epoch' is out of range: 1099511627776");
  meta = info.to_json();
  meta["features"]["dim"] = 128.5;
  expect_refused(meta, "'dim' must be an integer");
  meta = info.to_json();
  meta["training"]["n_train"] = std::numeric_limits<std::uint64_t>::max();
  expect_refused(meta, "'n_train' is out of range");
}
