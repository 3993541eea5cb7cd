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

// The whole forest from the forests each rank fitted: every rank's blobs, sent to every rank as
// (name length, name, size, bytes) records with 8-byte little-endian lengths.
models::RandomForestBR gather_forests(dist::ProcessGroup& group, const models::ForestBlobs& mine,
                                      std::int64_t num_classes, const std::string& features) {
  std::vector<std::uint8_t> bytes;
  const auto put = [&](std::uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  for (const auto& [name, blob] : mine) {
    put(name.size());
    bytes.insert(bytes.end(), name.begin(), name.end());
    put(blob.size());
    bytes.insert(bytes.end(), blob.begin(), blob.end());
  }
  models::ForestBlobs all;
  for (const auto& part : group.all_gather(bytes)) {
    std::size_t at = 0;
    const auto get = [&] {
      check(at + 8 <= part.size(), "train: rf: a rank sent a truncated forest");
      std::uint64_t v = 0;
      for (int i = 0; i < 8; ++i) v |= static_cast<std::uint64_t>(part[at + i]) << (8 * i);
      at += 8;
      check(v <= part.size() - at, "train: rf: a rank sent a truncated forest");
      return static_cast<std::size_t>(v);
    };
    while (at < part.size()) {
      const std::size_t n = get();
      std::string name(part.begin() + static_cast<std::ptrdiff_t>(at),
                       part.begin() + static_cast<std::ptrdiff_t>(at + n));
      at += n;
      const std::size_t size = get();
      all[name].assign(part.begin() + static_cast<std::ptrdiff_t>(at),
                       part.begin() + static_cast<std::ptrdiff_t>(at + size));
      at += size;
    }
  }
  return models::RandomForestBR::from_blobs(all, num_classes, features, "the ranks' forests");
}

}  // namespace

std::filesystem::path checkpoint_path(const std::filesystem::path& model_out) {
  auto p = model_out;
  p += ".ckpt";
  return p;
}

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

namespace {

// --checkpoint-every or --resume given: the run writes (or continues from) a checkpoint.
bool uses_checkpoints(const TrainConfig& cfg) {
  return cfg.checkpoint_every > 0 || cfg.resume != 0;
}

// Trains on `train` (or `stream`), chooses thresholds on `val` and writes `out` (rank 0).
// `data` gives the shape and embedder the model file records.
infer::ModelInfo train_and_write(const data::BagDataset& data, const data::BagDataset& train,
                                 const data::BagDataset& val, const data::ShardStream* stream,
                                 const TrainConfig& cfg, const std::filesystem::path& out,
                                 const std::string& data_name, const EpochCallback& on_epoch,
                                 const CancelCheck& cancelled, dist::ProcessGroup* group) {
  const bool checkpoints = uses_checkpoints(cfg);
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
    // Distributed: rank r fits classes r, r + W, r + 2 W, ... and every rank gathers the rest;
    // each class's forest is the one a single process fits (its seed is seed + class).
    std::vector<std::int64_t> mine;
    const int world = group ? group->world_size() : 1;
    for (std::int64_t c = group ? group->rank() : 0; c < data.num_classes(); c += world)
      mine.push_back(c);
    models::RandomForestBR rf =
        models::RandomForestBR::fit_classes(train, forest_options(cfg), mine);
    if (group) rf = gather_forests(*group, rf.to_blobs(), data.num_classes(), cfg.rf_features);
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
    const std::filesystem::path ckpt = checkpoints ? checkpoint_path(out) : "";
    if (uses_extra_targets(cfg)) {  // auxiliary classes and / or a teacher's targets
      const ExtendedData ext = extend_training_data(train, val, cfg, data_name);
      r = train_neural(ext.train, ext.val, cfg, on_epoch, cancelled, dp ? &*dp : nullptr, ckpt);
      if (ext.train.num_classes() != ext.task_classes) {
        r.model = keep_first_classes(*r.model, ext.task_classes);
        r.summary.params = models::count_parameters(*r.model);
      }
    } else {
      r = train_neural(train, val, cfg, on_epoch, cancelled, dp ? &*dp : nullptr, ckpt, stream);
    }
    info.spec = r.model->spec();
    info.training = r.summary;
    const infer::NeuralOutputs o = infer::run_model(*r.model, val, false);
    const float* p = o.clip.data_ptr<float>();
    val_scores.assign(p, p + o.clip.numel());
    blobs["weights.pt"] = save_weights(*r.model);
  }
  info.thresholds = eval::choose_thresholds(val, val_scores);
  if (!group || group->rank() == 0) {
    infer::write_model_file(out, info, blobs);
    // The model is complete: its checkpoint has nothing left to continue.
    std::error_code ignored;
    if (checkpoints) std::filesystem::remove(checkpoint_path(out), ignored);
  }
  // The others finish when the file is there (or fail with rank 0 when it could not be written).
  if (group) group->barrier();
  return info;
}

}  // namespace

infer::ModelInfo train_model_file(const data::BagDataset& data, const TrainConfig& cfg,
                                  const std::filesystem::path& out, const std::string& data_name,
                                  const EpochCallback& on_epoch, const CancelCheck& cancelled,
                                  dist::ProcessGroup* group) {
  cfg.validate();
  check<UsageError>(!cfg.is_forest() || !uses_checkpoints(cfg),
                    "train: rf: --checkpoint-every and --resume apply to the neural models (a "
                    "forest is fitted in one step)");
  check_trainable(data, cfg.model, data_name);
  const ValidationSplit split = make_validation_split(data, cfg);
  const data::BagDataset train = data.subset(split.train);
  const data::BagDataset val = data.subset(split.val);
  check_trainable(train, cfg.model, data_name + " (training part)");
  return train_and_write(data, train, val, nullptr, cfg, out, data_name, on_epoch, cancelled,
                         group);
}

infer::ModelInfo train_model_file_streamed(
    const data::ShardStream& stream, const data::BagDataset& val, const TrainConfig& cfg,
    const std::filesystem::path& out, const std::string& data_name, const EpochCallback& on_epoch,
    const CancelCheck& cancelled, dist::ProcessGroup* group) {
  cfg.validate();
  check<UsageError>(!cfg.is_forest(),
                    "train: rf: the forest needs its training data in memory; give one .npz "
                    "instead of the shards {}",
                    data_name);
  check<UsageError>(!uses_extra_targets(cfg),
                    "train: --aux-labels and --teacher need the training data in memory; not with "
                    "streamed shards ({})",
                    data_name);
  const data::BagDataset& like = stream.like();
  check(val.classes == like.classes,
        "validation set: classes differ from the training shards' ({} vs {} classes, or in names "
        "or order)",
        val.classes.size(), like.classes.size());
  check(val.dim == like.dim && val.feature_type == like.feature_type,
        "validation set: features (D = {}) differ from the training shards' (D = {}) or in type",
        val.dim, like.dim);
  val.validate("validation set");
  // The model's K is the larger of the two; the validation clips are padded to it.
  data::BagDataset shaped_val = val;
  if (val.max_instances != like.max_instances) {
    check(val.max_instances < like.max_instances,
          "validation set: K = {} exceeds the training shards' K = {}", val.max_instances,
          like.max_instances);
    shaped_val = data::pad_instances(val, like.max_instances);
  }
  return train_and_write(like, like, shaped_val, &stream, cfg, out, data_name, on_epoch, cancelled,
                         group);
}

}  // namespace tutti::train
