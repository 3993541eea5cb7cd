// Training a model file from a dataset: the torch-free entry point of `tutti train` and
// `tutti experiment`.
//
//   auto cfg = tutti::train::TrainConfig::for_model("att");
//   cfg.seed = 1;
//   auto ds = tutti::data::load_bags("openmic-train.npz");
//   tutti::infer::ModelInfo info = tutti::train::train_model_file(ds, cfg, "att-1.tutti");
//
// Steps: split `data` into a training and a validation part (cfg.val_split: AttentionMIC's npz of
// int64 `train`/`val` row indices; otherwise data::stratified_split(data, cfg.val_fraction,
// cfg.val_seed, or cfg.seed when it is 0)), train (neural: train_neural; rf: RandomForestBR), choose per-class thresholds on the
// validation part (max F1), and write the .tutti file atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "tutti/core/error.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/data/shards.h"
#include "tutti/dist/process_group.h"
#include "tutti/infer/model_file.h"
#include "tutti/models/random_forest.h"
#include "tutti/train/train_config.h"

namespace tutti::train {

// Called after each epoch (neural models), e.g. to draw progress.
using EpochCallback = std::function<void(const infer::EpochRecord&, int epochs_total)>;

// Asked before each training step (neural models) and before a forest is fitted: true stops the
// run with train::Cancelled, before any model file is written. Front ends that poll for an
// interrupt use it (the Python module turns a pending Ctrl-C into KeyboardInterrupt this way).
using CancelCheck = std::function<bool()>;

// Thrown when a CancelCheck asked to stop.
class Cancelled : public Error {
 public:
  using Error::Error;
};

struct ValidationSplit {
  std::vector<std::int64_t> train;  // rows of the training data used for fitting
  std::vector<std::int64_t> val;    // rows used for model selection and thresholds
};

// The validation split cfg asks for. Throws tutti::Error naming the index file for missing arrays,
// indices outside [0, N), overlapping or empty parts.
ValidationSplit make_validation_split(const data::BagDataset& data, const TrainConfig& cfg);

// The forest options of cfg (rf_*, seed, threads).
models::ForestOptions forest_options(const TrainConfig& cfg);
// The spec cfg.model is built from for `data`: its sizes, cfg.model_options, an alias resolved
// to its model and options (models/model_decl.h). The trainer completes it from the training
// clips (models/mmgat_labels.h).
models::ModelSpec model_spec(const TrainConfig& cfg, const data::BagDataset& data);

// Where training into the model file OUT keeps its epoch checkpoints: OUT.ckpt
// (train/checkpoint.h; TrainConfig::checkpoint_every and resume).
std::filesystem::path checkpoint_path(const std::filesystem::path& model_out);

// Trains and writes `out`. `data_name` names the dataset in errors. Returns what was written.
// With `group` (a distributed run, docs/distributed.md) every rank calls this with the same data
// and cfg; they train one model data-parallel (cfg.batch_size per rank) and rank 0 alone writes
// `out`. The forest's classes are split across the ranks (rank r fits classes r, r + W, ...) and
// gathered: the same forests and file as one process.
// cfg.checkpoint_every > 0 writes checkpoint_path(out) every that many epochs (removed once `out`
// is written); cfg.resume continues from it.
infer::ModelInfo train_model_file(const data::BagDataset& data, const TrainConfig& cfg,
                                  const std::filesystem::path& out, const std::string& data_name,
                                  const EpochCallback& on_epoch = {},
                                  const CancelCheck& cancelled = {},
                                  dist::ProcessGroup* group = nullptr);

// The same on training data streamed from shards (data/shards.h), validated on `val` (in
// memory; the epoch and the thresholds are chosen on it). Neural models other than MMGAT;
// UsageError for the forest and MMGAT. `data_name` names the shards in errors.
infer::ModelInfo train_model_file_streamed(const data::ShardStream& stream,
                                           const data::BagDataset& val, const TrainConfig& cfg,
                                           const std::filesystem::path& out,
                                           const std::string& data_name,
                                           const EpochCallback& on_epoch = {},
                                           const CancelCheck& cancelled = {},
                                           dist::ProcessGroup* group = nullptr);

}  // namespace tutti::train
