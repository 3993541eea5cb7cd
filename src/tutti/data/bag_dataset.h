// The bag dataset: tutti's one in-memory representation of weakly labeled clips.
//
// N clips ("bags"); clip i has n_instances[i] <= K instances (one per 0.96 s frame) of D-dim
// features, stored zero-padded as an [N, K, D] block, either uint8 as released (OpenMIC-2018,
// AudioSet) or float32. Labels over C named classes: y_true [N, C] relevance in [0, 1] and
// y_mask [N, C] (1 = this label is known; OpenMIC leaves most pairs unannotated). Optional strong
// labels y_instance [N, K, C] (1 = class active in that instance). Nothing assumes K = 10.
//
// On disk: an OpenMIC-style .npz (see bag_io.h): X, n_instances, Y_true, Y_mask, sample_key,
// classes, optional Y_instance, optional embedder (0-d string).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace tutti::data {

enum class FeatureType { kUint8, kFloat32 };

struct BagDataset {
  std::int64_t max_instances = 0;  // K
  std::int64_t dim = 0;            // D
  FeatureType feature_type = FeatureType::kUint8;
  std::vector<std::uint8_t> x_u8;   // [N, K, D] when feature_type == kUint8
  std::vector<float> x_f32;         // [N, K, D] when feature_type == kFloat32
  std::vector<std::int32_t> n_instances;  // [N]
  std::vector<float> y_true;              // [N, C]
  std::vector<std::uint8_t> y_mask;       // [N, C], 0/1
  std::vector<std::string> keys;          // [N]
  std::vector<std::string> classes;       // [C]
  std::vector<std::uint8_t> y_instance;   // [N, K, C] 0/1, or empty
  std::string embedder;                   // what made X ("vggish", "logmel-stats"); "" = unknown

  std::int64_t size() const { return static_cast<std::int64_t>(keys.size()); }
  std::int64_t num_classes() const { return static_cast<std::int64_t>(classes.size()); }
  bool has_instance_labels() const { return !y_instance.empty(); }
  // True when every clip has exactly K instances (fixed-length models need this).
  bool fixed_length() const;

  // Feature t of clip i as float, scaled to [0, 1] for uint8 (value / 255) and as-is for float32.
  // out must hold D values.
  void instance_features(std::int64_t i, std::int64_t t, std::span<float> out) const;
  float label(std::int64_t i, std::int64_t c) const { return y_true[i * num_classes() + c]; }
  bool known(std::int64_t i, std::int64_t c) const { return y_mask[i * num_classes() + c] != 0; }
  // Positive = known and relevance >= 0.5 (the OpenMIC convention).
  bool positive(std::int64_t i, std::int64_t c) const {
    return known(i, c) && label(i, c) >= 0.5f;
  }

  // Throws tutti::Error "<what>: ..." when the arrays disagree in size or hold invalid values
  // (n_instances outside [0, K], relevance outside [0, 1], NaN features, duplicate classes).
  void validate(const std::string& what) const;

  // A new dataset with the clips at `indices`, in that order (K and D unchanged).
  BagDataset subset(std::span<const std::int64_t> indices) const;

  // Allocates zeroed arrays for n clips with the given shape (keys empty strings).
  static BagDataset zeros(std::int64_t n, std::int64_t k, std::int64_t d,
                          std::vector<std::string> classes, FeatureType type);
};

// Rows of `ds` with at least one instance (the clips a model can score).
std::vector<std::int64_t> nonempty_rows(const BagDataset& ds);

}  // namespace tutti::data
