// The training loop for neural bag models (LibTorch; include only in train/*.cpp and tests).
//
// Loss: binary cross-entropy averaged over the known (mask = 1) labels of the batch, targets
// 1 when relevance >= 0.5, plus model->extra_loss(). Adam (PyTorch semantics, L2 weight decay),
// batches shuffled each epoch by a seeded std::mt19937_64, dropout and initialization drawn from
// torch's generator seeded with cfg.seed: the same data, config and thread count give a
// bit-identical model on CPU. The weights of the epoch with the lowest validation loss (masked BCE
// over the whole validation set) are kept; cfg.patience > 0 stops after that many epochs without
// improvement.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <functional>

#include "tutti/data/bag_dataset.h"
#include "tutti/data/shards.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"
#include "tutti/train/train.h"
#include "tutti/train/train_config.h"

namespace tutti::train {

struct NeuralTrainResult {
  models::BagModel model;  // in eval mode, best-epoch weights, on the CPU
  infer::TrainingSummary summary;
};

// Applies cfg.threads / cfg.device (throws tutti::UsageError for cuda without a CUDA build).
// Returns the device to use.
torch::Device setup_torch(const TrainConfig& cfg);

class DataParallel;

// Trains cfg.model on `train`, selecting the epoch on `val`. Both must have the same classes,
// K and D (see check_trainable). Clips without instances are skipped. cfg must be valid
// (TrainConfig::validate, which train_model_file runs once for the whole run). With `dp`, every
// rank of its group runs this on the same data and config and ends with the same model
// (data_parallel.h); cfg.batch_size is then the batch of each rank. A non-empty `checkpoint`
// is the file of cfg.checkpoint_every / cfg.resume (checkpoint.h).
// With `stream`, the training clips are streamed from its shards each epoch (data/shards.h: the
// epoch order, bounded memory) and `train` is only the shape (stream->like()); not for MMGAT.
NeuralTrainResult train_neural(const data::BagDataset& train, const data::BagDataset& val,
                               const TrainConfig& cfg, const EpochCallback& on_epoch = {},
                               const CancelCheck& cancelled = {}, DataParallel* dp = nullptr,
                               const std::filesystem::path& checkpoint = {},
                               const data::ShardStream* stream = nullptr);

// Weights -> bytes (torch::serialize archive of parameters and buffers; infer/run_model.h
// load_weights reads them back).
std::vector<std::uint8_t> save_weights(models::BagModelImpl& model);

}  // namespace tutti::train
