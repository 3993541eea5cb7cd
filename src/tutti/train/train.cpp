#include "tutti/train/train.h"

#include <chrono>
#include <cmath>
#include <optional>
#include <set>

#include "tutti/core/error.h"
#include "tutti/data/npz.h"
#include "tutti/data/split.h"
#include "tutti/eval/evaluate.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/random_forest.h"
#include "tutti/train/class_heads.h"
#include "tutti/train/data_parallel.h"
#include "tutti/train/extra_targets.h"
#include "tutti/train/trainer.h"
#include "tutti/train/validation.h"

namespace tutti::train {

namespace {

// Masked BCE averaged over known entries, in double (RF validation loss).
double masked_bce(const data::BagDataset& ds, const std::vector<float>& scores) {
  double sum = 0, n = 0;
  const std::int64_t c = ds.num_classes();
  for (std::int64_t i = 0; i < ds.size(); ++i)
    for (std::int64_t j = 0; j < c; ++j) {
      if (!ds.known(i, j)) continue;
      const double p = scores[static_cast<std::size_t>(i * c + j)];
      // Log clamped at -100 as torch's binary_cross_entropy.
      sum -= ds.positive(i, j) ? std::max(std::log(p), -100.0) : std::max(std::log1p(-p), -100.0);
      n += 1;
    }
  return n > 0 ? sum / n : std::nan("");
}

}  // namespace

models::ForestOptions forest_options(const TrainConfig& cfg) {
  models::ForestOptions o;
  o.trees = cfg.rf_trees;
  o.max_depth = cfg.rf_max_depth;
  o.subsample = cfg.rf_subsample;
  o.features = cfg.rf_features;
  o.seed = cfg.seed;
  o.threads = cfg.threads;
  return o;
}

ValidationSplit make_validation_split(const data::BagDataset& data, const TrainConfig& cfg) {
  ValidationSplit out;
  if (!cfg.val_split.empty()) {
    const std::string what = cfg.val_split;
    const auto arrays = data::read_npz(cfg.val_split);
    for (const char* key : {"train", "val"})
      check(arrays.count(key) != 0, "{}: validation split has no array '{}'", what, key);
    out.train = arrays.at("train").as_i64(what + ":train");
    out.val = arrays.at("val").as_i64(what + ":val");
    check(!out.train.empty() && !out.val.empty(), "{}: the train or val index array is empty",
          what);
    std::set<std::int64_t> seen;
    for (const auto* part : {&out.train, &out.val})
      for (std::int64_t i : *part) {
        check(i >= 0 && i < data.size(), "{}: index {} is outside the {} rows of the training data",
              what, i, data.size());
        check(seen.insert(i).second, "{}: row {} appears twice (train and val overlap)", what, i);
      }
    return out;
  }
  const auto split =
      data::stratified_split(data, cfg.val_fraction, cfg.val_seed != 0 ? cfg.val_seed : cfg.seed);
  out.train = split.train;
  out.val = split.test;
  check(!out.train.empty() && !out.val.empty(),
        "validation split: --val-fraction {} leaves an empty part of {} clips", cfg.val_fraction,
        data.size());
  return out;
}

models::ModelSpec model_spec(const TrainConfig& cfg, const data::BagDataset& data) {
  models::ModelSpec spec;
  spec.name = cfg.model;
  spec.input_dim = data.dim;
  spec.num_classes = data.num_classes();
  spec.max_instances = data.max_instances;
  spec.options = cfg.model_options;
  return models::resolve_model_spec(std::move(spec));
}

infer::ModelInfo train_model_file(const data::BagDataset& data, const TrainConfig& cfg,
                                  const std::filesystem::path& out, const std::string& data_name,
                                  const EpochCallback& on_epoch, const CancelCheck& cancelled,
                                  dist::ProcessGroup* group) {
  cfg.validate();
  check<UsageError>(!group || !cfg.is_forest(),
                    "train: rf: the forest trains in one process; start it without a distributed "
                    "environment (RANK/WORLD_SIZE, srun, mpirun)");
  check_trainable(data, cfg.model, data_name);
  const ValidationSplit split = make_validation_split(data, cfg);
  const data::BagDataset train = data.subset(split.train);
  const data::BagDataset val = data.subset(split.val);
  check_trainable(train, cfg.model, data_name + " (training part)");

  infer::ModelInfo info;
  info.tutti_version = TUTTI_VERSION;
  info.classes = data.classes;
  info.features.dim = data.dim;
  info.features.max_instances = data.max_instances;
  info.features.scaling = data.feature_type == data::FeatureType::kUint8 ? "uint8/255" : "none";
  // The embedder is one fact: the dataset's record wins over the configured default (`tutti
  // train` refuses an explicit --embedder that contradicts it), and the recorded training
  // configuration says the same; datasets without a record keep cfg.embedder.
  info.features.embedder = data.embedder.empty() ? cfg.embedder : data.embedder;
  TrainConfig recorded = cfg;
  recorded.embedder = info.features.embedder;
  info.train_config = recorded.to_json();

  infer::ModelBlobs blobs;
  std::vector<float> val_scores;
  if (cfg.is_forest()) {
    if (cancelled && cancelled()) throw Cancelled("train: rf: cancelled before fitting");
    info.spec = model_spec(cfg, data);
    const auto t0 = std::chrono::steady_clock::now();
    models::RandomForestBR rf = models::RandomForestBR::fit(train, forest_options(cfg));
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    val_scores = rf.predict(val, cfg.threads);
    infer::TrainingSummary& s = info.training;
    s.best_epoch = 1;
    s.epochs_run = 1;
    s.train_seconds = secs;
    s.n_train = train.size();
    s.n_val = val.size();
    s.params = rf.total_nodes();
    s.val_loss = masked_bce(val, val_scores);
    s.val_map = macro_average_precision(val, val_scores);
    blobs = rf.to_blobs();
  } else {
    std::optional<DataParallel> dp;
    if (group) dp.emplace(*group);
    NeuralTrainResult r;
    if (uses_extra_targets(cfg)) {  // auxiliary classes and / or a teacher's targets
      const ExtendedData ext = extend_training_data(train, val, cfg, data_name);
      r = train_neural(ext.train, ext.val, cfg, on_epoch, cancelled, dp ? &*dp : nullptr);
      if (ext.train.num_classes() != ext.task_classes) {
        r.model = keep_first_classes(*r.model, ext.task_classes);
        r.summary.params = models::count_parameters(*r.model);
      }
    } else {
      r = train_neural(train, val, cfg, on_epoch, cancelled, dp ? &*dp : nullptr);
    }
    info.spec = r.model->spec();
    info.training = r.summary;
    const infer::NeuralOutputs o = infer::run_model(*r.model, val, false);
    const float* p = o.clip.data_ptr<float>();
    val_scores.assign(p, p + o.clip.numel());
    blobs["weights.pt"] = save_weights(*r.model);
  }
  info.thresholds = eval::choose_thresholds(val, val_scores);
  if (!group || group->rank() == 0) infer::write_model_file(out, info, blobs);
  // The others finish when the file is there (or fail with rank 0 when it could not be written).
  if (group) group->barrier();
  return info;
}

}  // namespace tutti::train
