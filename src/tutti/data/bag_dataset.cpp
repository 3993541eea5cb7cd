#include "tutti/data/bag_dataset.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "tutti/core/error.h"

namespace tutti::data {

bool BagDataset::fixed_length() const {
  for (auto k : n_instances)
    if (k != max_instances) return false;
  return true;
}

void BagDataset::instance_features(std::int64_t i, std::int64_t t, std::span<float> out) const {
  const std::size_t off = static_cast<std::size_t>((i * max_instances + t) * dim);
  if (feature_type == FeatureType::kUint8) {
    for (std::int64_t d = 0; d < dim; ++d) out[d] = static_cast<float>(x_u8[off + d]) / 255.0f;
  } else {
    for (std::int64_t d = 0; d < dim; ++d) out[d] = x_f32[off + d];
  }
}

void BagDataset::validate(const std::string& what) const {
  const auto n = static_cast<std::size_t>(size());
  const auto c = static_cast<std::size_t>(num_classes());
  const auto cells = n * static_cast<std::size_t>(max_instances) * static_cast<std::size_t>(dim);
  check(max_instances >= 0 && dim >= 0, "{}: negative shape K={} D={}", what, max_instances, dim);
  if (feature_type == FeatureType::kUint8) {
    check(x_u8.size() == cells && x_f32.empty(), "{}: X holds {} values, expected N*K*D = {}",
          what, x_u8.size(), cells);
  } else {
    check(x_f32.size() == cells && x_u8.empty(), "{}: X holds {} values, expected N*K*D = {}",
          what, x_f32.size(), cells);
    for (float v : x_f32) check(std::isfinite(v), "{}: X contains NaN or infinite values", what);
  }
  check(n_instances.size() == n, "{}: n_instances has {} entries for {} clips", what,
        n_instances.size(), n);
  for (std::size_t i = 0; i < n; ++i)
    check(n_instances[i] >= 0 && n_instances[i] <= max_instances,
          "{}: clip {} ('{}') has n_instances={} outside [0, {}]", what, i, keys[i],
          n_instances[i], max_instances);
  check(y_true.size() == n * c, "{}: Y_true has {} values, expected N*C = {}", what,
        y_true.size(), n * c);
  check(y_mask.size() == n * c, "{}: Y_mask has {} values, expected N*C = {}", what,
        y_mask.size(), n * c);
  for (std::size_t j = 0; j < y_true.size(); ++j)
    check(std::isfinite(y_true[j]) && y_true[j] >= 0.0f && y_true[j] <= 1.0f,
          "{}: Y_true[{}, {}] = {} is outside [0, 1]", what, j / c, j % c, y_true[j]);
  check(y_instance.empty() ||
            y_instance.size() == n * static_cast<std::size_t>(max_instances) * c,
        "{}: Y_instance has {} values, expected N*K*C", what, y_instance.size());
  std::set<std::string> seen;
  for (const auto& name : classes)
    check(seen.insert(name).second, "{}: class '{}' appears twice", what, name);
}

BagDataset BagDataset::subset(std::span<const std::int64_t> indices) const {
  BagDataset out = zeros(static_cast<std::int64_t>(indices.size()), max_instances, dim, classes,
                         feature_type);
  out.embedder = embedder;
  const std::size_t xd = static_cast<std::size_t>(max_instances * dim);
  const std::size_t c = classes.size();
  const std::size_t kc = static_cast<std::size_t>(max_instances) * c;
  if (has_instance_labels()) out.y_instance.resize(indices.size() * kc);
  for (std::size_t j = 0; j < indices.size(); ++j) {
    const auto i = static_cast<std::size_t>(indices[j]);
    check(indices[j] >= 0 && i < keys.size(), "subset: index {} outside [0, {})", indices[j],
          keys.size());
    if (feature_type == FeatureType::kUint8)
      std::copy_n(x_u8.begin() + i * xd, xd, out.x_u8.begin() + j * xd);
    else
      std::copy_n(x_f32.begin() + i * xd, xd, out.x_f32.begin() + j * xd);
    out.n_instances[j] = n_instances[i];
    std::copy_n(y_true.begin() + i * c, c, out.y_true.begin() + j * c);
    std::copy_n(y_mask.begin() + i * c, c, out.y_mask.begin() + j * c);
    out.keys[j] = keys[i];
    if (has_instance_labels())
      std::copy_n(y_instance.begin() + i * kc, kc, out.y_instance.begin() + j * kc);
  }
  return out;
}

BagDataset BagDataset::zeros(std::int64_t n, std::int64_t k, std::int64_t d,
                             std::vector<std::string> classes, FeatureType type) {
  BagDataset ds;
  ds.max_instances = k;
  ds.dim = d;
  ds.feature_type = type;
  const auto cells = static_cast<std::size_t>(n * k * d);
  if (type == FeatureType::kUint8)
    ds.x_u8.assign(cells, 0);
  else
    ds.x_f32.assign(cells, 0.0f);
  ds.n_instances.assign(static_cast<std::size_t>(n), 0);
  ds.y_true.assign(static_cast<std::size_t>(n) * classes.size(), 0.0f);
  ds.y_mask.assign(static_cast<std::size_t>(n) * classes.size(), 0);
  ds.keys.assign(static_cast<std::size_t>(n), "");
  ds.classes = std::move(classes);
  return ds;
}

std::vector<std::int64_t> nonempty_rows(const BagDataset& ds) {
  std::vector<std::int64_t> rows;
  rows.reserve(static_cast<std::size_t>(ds.size()));
  for (std::int64_t i = 0; i < ds.size(); ++i)
    if (ds.n_instances[static_cast<std::size_t>(i)] > 0) rows.push_back(i);
  return rows;
}

}  // namespace tutti::data
