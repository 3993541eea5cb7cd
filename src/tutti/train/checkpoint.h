// Epoch checkpoints of neural training (LibTorch; include only in train/*.cpp and tests).
//
// `tutti train ... -o OUT --checkpoint-every N` writes OUT.ckpt after every N-th epoch (rank 0
// alone in a distributed run, atomically: a temporary next to it, then a rename) and removes it
// once OUT is written. `--resume` reads it back and continues with the next epoch; because it
// holds everything the epoch loop carries from one epoch to the next, the resumed run writes the
// weights, thresholds and history an uninterrupted run writes (tests/train/test_checkpoint.cpp,
// tests/dist).
//
// OUT.ckpt is a torch::serialize archive (a zip) of:
//   checkpoint.json  format, tutti version, the training options (TrainConfig::to_json), a digest
//                    of the training and validation clips, the world size, the epoch finished
//   model/<i>, best/<i>   parameters then buffers, now and at the best epoch so far
//   average/<i>, average/updates   --ema: the weight average (none without) and its update count
//   adam/...         the optimizer: FusedAdam's moments and step count, or torch::optim::Adam's
//                    archive
//   torch_rng, history, scalars   torch's CPU generator state (dropout, MMGAT's masks), the
//                    epoch records and the best-so-far loss, mAP, patience counter and seconds
// The batch-order engine (std::mt19937_64, as text) and the fused ATT engine's dropout counter are
// in checkpoint.json. Per-class thresholds are chosen from the best weights after the last epoch,
// so the best weights determine them.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/dist/process_group.h"
#include "tutti/infer/model_file.h"
#include "tutti/train/fused_adam.h"
#include "tutti/train/train.h"
#include "tutti/train/train_config.h"

namespace tutti::train {

// What a run must share with the run that wrote a checkpoint to resume it.
struct CheckpointIdentity {
  std::string tutti_version = TUTTI_VERSION;
  core::Json options;  // TrainConfig::to_json() (the checkpoint options left out)
  std::string data;    // hex digest of the training and validation clips (checkpoint_data_digest)
  int world_size = 1;
};
// 16 hex digits: a 64-bit hash of the clips' features, instance counts, labels, masks and
// classes, in order, of `train` then `val`.
std::string checkpoint_data_digest(const data::BagDataset& train, const data::BagDataset& val);

// Everything the epoch loop carries into the next epoch.
struct TrainState {
  int epoch = 0;                       // epochs finished
  int since_best = 0;                  // epochs since the best one (patience)
  infer::TrainingSummary summary;      // history, best epoch, loss and mAP so far, seconds so far
  std::vector<torch::Tensor> model;    // parameters then buffers
  std::vector<torch::Tensor> best;     // the same at the best epoch (empty before one)
  std::vector<torch::Tensor> average;  // --ema: the weight average (empty without, or before
  std::int64_t average_updates = 0;    // its first update) and its update count
  std::string shuffle_rng;             // the batch-order std::mt19937_64, as operator<< writes it
  torch::Tensor torch_rng;             // torch's default CPU generator state
  std::uint64_t dropout_counter = 0;   // the fused ATT engine's (models::AttFused)
  bool has_fused_adam = false;         // which optimizer state follows
  FusedAdam::State fused_adam;
  std::vector<std::uint8_t> adam;  // torch::optim::Adam::save archive bytes
};

// torch's default CPU generator state, and setting it back.
torch::Tensor torch_rng_state();
void set_torch_rng_state(const torch::Tensor& state);

// Writes `state` as `path` atomically. Throws tutti::Error naming the file.
void write_checkpoint(const std::filesystem::path& path, const CheckpointIdentity& id,
                      const TrainState& state);

// Reads `path` (rank 0 reads it and sends it to the others when `group` is given, so that every
// rank resumes from the same bytes). Throws tutti::Error naming the file, on every rank: missing
// ("no checkpoint ...: --resume continues a run started with --checkpoint-every"), not a
// checkpoint, or written by another tutti version, for other options (naming the first option that
// differs), other data or another world size.
TrainState load_checkpoint(const std::filesystem::path& path, const CheckpointIdentity& id,
                           dist::ProcessGroup* group = nullptr);

}  // namespace tutti::train
