// Loading and saving bag datasets as OpenMIC-style .npz files numpy can open:
//   X (N, K, D) uint8 or float32, zero-padded; n_instances (N,) int32; Y_true (N, C) float32;
//   Y_mask (N, C) bool; sample_key (N,) unicode; classes (C,) unicode; optional Y_instance
//   (N, K, C) uint8.
//
//   auto ds = tutti::data::load_bags("openmic-2018.npz", tutti::data::openmic_classes());
//   tutti::data::save_bags("train.npz", ds.subset(rows));
//
// The official openmic-2018.npz has no n_instances/classes: load_bags accepts that and fills
// n_instances = K and classes from `default_classes` (or "class_<i>"). It also accepts what the
// release scripts wrote: X as int64 holding bytes (converted to uint8 after a range check),
// Y_true as float64, sample_key as a numpy object array of str (see npz.h).
//
// Failures throw tutti::Error naming the file and the array, e.g.
//   "<file>: missing array 'X'"
//   "<file>: array 'Y_mask' has shape (5, 19), expected (5, 20)"
//   "<file>: array 'Y_mask' has dtype '<f4', expected '|b1'"
// and then whatever BagDataset::validate finds (relevance outside [0, 1], n_instances > K, ...).
// A 20,000 x 10 x 128 uint8 dataset loads in a few tens of milliseconds (bench/bench_npz_load).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::data {

BagDataset load_bags(const std::filesystem::path& path,
                     const std::vector<std::string>& default_classes = {});
// Validates, then writes atomically (stored zip entries, X as '|u1' or '<f4').
void save_bags(const std::filesystem::path& path, const BagDataset& ds);

}  // namespace tutti::data
