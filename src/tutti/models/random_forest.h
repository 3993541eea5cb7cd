// RF_BR: the OpenMIC-2018 baseline. Binary relevance: one random forest per class, trained only on
// the clips where that class is known, on per-clip statistics of the instances (mean, optionally
// mean + std over the real instances). Trees come from xgboost in random-forest mode
// (num_parallel_tree = trees, one boosting round, eta = 1, subsample ~0.632, colsample_bynode =
// sqrt(D)/D as scikit-learn's max_features = "sqrt"), so a forest's margin is the average of its
// trees' Newton leaf values and its output a probability (sigmoid).
//
// Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::models {

// Per-clip statistics [N, F] row-major: F = D ("mean") or 2 D ("mean_std": mean then population
// std over the real instances). Clips without instances get zeros.
std::vector<float> clip_statistics(const data::BagDataset& ds, const std::string& features);

// What to fit (the rf options of train::TrainConfig; docs/training.md).
struct ForestOptions {
  int trees = 100;  // trees per class
  int max_depth = 8;
  double subsample = 0.632;       // rows per tree, without replacement
  std::string features = "mean";  // mean | mean_std (clip_statistics)
  std::uint64_t seed = 1;         // class c uses seed + c
  int threads = 0;                // 0 = all cores
};

// Model-file entry name -> bytes (forest-<c>.ubj).
using ForestBlobs = std::map<std::string, std::vector<std::uint8_t>>;

class RandomForestBR {
 public:
  RandomForestBR();
  ~RandomForestBR();
  RandomForestBR(RandomForestBR&&) noexcept;
  RandomForestBR& operator=(RandomForestBR&&) noexcept;

  // Trains one forest per class. Throws tutti::Error for an empty dataset or a class without any
  // known label.
  static RandomForestBR fit(const data::BagDataset& train, const ForestOptions& cfg);
  // The forests of `classes` only (indices below num_classes; none may be empty), the others
  // absent (to_blobs leaves them out): a distributed run gives each rank some classes and gathers
  // the blobs (train/train.cpp). Each class's forest is the one fit() makes (seed + c, one
  // thread per class). Every class is still checked for a known label.
  static RandomForestBR fit_classes(const data::BagDataset& train, const ForestOptions& cfg,
                                    const std::vector<std::int64_t>& classes);
  // From model-file entries forest-<c>.ubj (c = 0..num_classes-1).
  static RandomForestBR from_blobs(const ForestBlobs& blobs, std::int64_t num_classes,
                                   std::string features, const std::string& what);
  ForestBlobs to_blobs() const;  // forest-<c>.ubj of every fitted class

  // Clip probabilities [N, C] row-major.
  std::vector<float> predict(const data::BagDataset& ds, int threads) const;
  std::int64_t num_classes() const;
  // Total number of tree nodes over all forests (the model's "parameter count").
  std::int64_t total_nodes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tutti::models
