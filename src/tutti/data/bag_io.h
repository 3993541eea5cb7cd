// Loading and saving bag datasets as OpenMIC-style .npz files numpy can open:
//   X (N, K, D) uint8 or float32, zero-padded; n_instances (N,) int32; Y_true (N, C) float32;
//   Y_mask (N, C) bool; sample_key (N,) unicode; classes (C,) unicode; optional Y_instance
//   (N, K, C) uint8.
// The official openmic-2018.npz has no n_instances/classes: load_bags accepts that and fills
// n_instances = K and classes from `default_classes` (or "class_<i>").
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::data {

BagDataset load_bags(const std::filesystem::path& path,
                     const std::vector<std::string>& default_classes = {});
// Validates, then writes atomically.
void save_bags(const std::filesystem::path& path, const BagDataset& ds);

}  // namespace tutti::data
