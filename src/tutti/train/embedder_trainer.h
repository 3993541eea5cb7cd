// `tutti train-embedder`: trains the logmel-cnn embedder (embed/cnn_embedder.h) on `tutti synth`
// output folders (docs/embed.md, "## Learned embedders"). Torch-free header.
//
//   tutti::train::EmbedderTrainOptions o;
//   o.data_dirs = {"data/comp", "data/mma"};    // each: audio/, labels.csv, instances.csv
//   o.output = "synth.tutti-embedder";
//   o.epochs = 12; o.seed = 1;
//   auto report = tutti::train::train_embedder(o);
//
// What it learns from:
// - Each 0.96 s example of a clip (the front end's instance t, [0.96 t, 0.96 (t + 1)) s) is one
//   96 x 64 log-mel patch. Its frame labels come from instances.csv (the instrument sounds for at
//   least the synth's --instance-fraction of the example: 1; a known class that does not: 0) and
//   are masked where the clip's weak label is unknown (labels.csv has no row for the class).
// - Loss = masked binary cross-entropy of the frame head on every patch + clip_weight x masked
//   binary cross-entropy of the clip head on the maximum of the clip's embeddings (weak labels).
// - augment (--augment mix,eq,mask): random changes of the patches and their labels, drawn
//   anew every epoch from the seed (patch_augment.h); off by default.
// - Adam, learning rate with a cosine decay to 0 over the epochs; batches of batch_clips clips
//   (all their patches) in an order drawn from the seed per epoch; the network's initial weights
//   come from the seed. Same options and data -> the same meta.json and cnn.pt, byte for byte,
//   for a given thread count (the zip also records the time of writing).
//
// Files next to the output:
// - the patch cache (cache, default OUTPUT.patches.npz): every patch and label, computed once
//   and reused while the data folders are unchanged (their labels.csv, instances.csv and audio
//   file list and sizes; a change rebuilds it);
// - the checkpoint OUTPUT.ckpt, written atomically after every epoch (network, optimizer,
//   losses so far); resume = true continues from it when the options match (else UsageError
//   naming what differs), and the result is the file an uninterrupted run writes. It is removed
//   once the output is written.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/embed/cnn_embedder.h"
#include "tutti/train/patch_augment.h"

namespace tutti::train {

struct EmbedderTrainOptions {
  std::vector<std::filesystem::path> data_dirs;
  std::filesystem::path output;  // the .tutti-embedder file (written atomically)
  std::filesystem::path cache;   // "" = OUTPUT.patches.npz
  embed::CnnConfig net;
  int epochs = 12;
  int batch_clips = 16;
  double learning_rate = 2e-3;
  double clip_weight = 0.5;
  PatchAugment augment;  // off by default (patch_augment.h)
  std::uint64_t seed = 0;
  int threads = 0;  // LibTorch intra-op threads and files decoded at once (0 = all cores)
  bool resume = false;
  // UsageError naming the option: no data folder, empty output, epochs < 1, batch_clips < 1,
  // learning rate not in (0, 1], clip_weight < 0, threads < 0, a bad network config.
  void validate() const;
  // The options that decide the result (not threads, resume or file paths other than the data).
  core::Json to_json() const;
};

struct EmbedderTrainReport {
  std::int64_t clips = 0, frames = 0;
  std::vector<std::string> classes;
  std::vector<double> epoch_loss;  // mean training loss of each epoch
  int first_epoch = 0;             // 0, or the epoch a resumed run started at
  bool cache_reused = false;
  std::string id;  // the embedder's id (meta.json)
};

struct EmbedderTrainCallbacks {
  std::function<void(std::int64_t clips_done, std::int64_t clips_total)> on_data;  // patch cache
  std::function<void(int epoch, int epochs)> on_epoch_start;
  std::function<void(std::int64_t batch, std::int64_t batches, double loss)> on_batch;
  // After the epoch's checkpoint is written; an exception it throws stops the run there.
  std::function<void(int epoch, double loss)> on_epoch_end;
};

// Errors: UsageError for bad options or a checkpoint of other options; tutti::Error naming the
// folder or file for a data folder without audio/, labels.csv or instances.csv, audio that cannot
// be decoded, no clip with a known label, or a cache that cannot be read or written.
EmbedderTrainReport train_embedder(const EmbedderTrainOptions& options,
                                   const EmbedderTrainCallbacks& callbacks = {});

}  // namespace tutti::train
