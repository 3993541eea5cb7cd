#include "tutti/data/merge.h"

#include <algorithm>

#include "tutti/core/error.h"
#include "tutti/data/shards.h"

namespace tutti::data {

BagDataset merge_datasets(std::vector<BagDataset> parts, const std::vector<std::string>& names) {
  check(!parts.empty() && names.size() == parts.size(),
        "merge_datasets: {} parts with {} names (need at least one part, one name each)",
        parts.size(), names.size());
  // D comes from the first part with clips: an empty part may have been written with D = 0.
  std::size_t r = 0;
  while (r + 1 < parts.size() && parts[r].size() == 0) ++r;
  const BagDataset& first = parts[r];
  std::int64_t k = 0;
  bool instances = true;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const BagDataset& p = parts[i];
    check(p.classes == first.classes, "{}: classes differ from {}'s", names[i], names[r]);
    check(p.dim == first.dim || p.size() == 0, "{}: D = {} differs from {}'s {}", names[i], p.dim,
          names[r], first.dim);
    check(p.feature_type == first.feature_type, "{}: feature type differs from {}'s", names[i],
          names[r]);
    check(p.embedder == first.embedder, "{}: embedder '{}' differs from {}'s '{}'", names[i],
          p.embedder, names[r], first.embedder);
    k = std::max(k, p.max_instances);
    instances = instances && p.has_instance_labels();
  }
  BagDataset out = BagDataset::zeros(0, k, first.dim, first.classes, first.feature_type);
  out.embedder = first.embedder;
  for (auto& part : parts) {
    const BagDataset p = part.max_instances == k ? std::move(part) : pad_instances(part, k);
    out.x_u8.insert(out.x_u8.end(), p.x_u8.begin(), p.x_u8.end());
    out.x_f32.insert(out.x_f32.end(), p.x_f32.begin(), p.x_f32.end());
    out.n_instances.insert(out.n_instances.end(), p.n_instances.begin(), p.n_instances.end());
    out.y_true.insert(out.y_true.end(), p.y_true.begin(), p.y_true.end());
    out.y_mask.insert(out.y_mask.end(), p.y_mask.begin(), p.y_mask.end());
    out.keys.insert(out.keys.end(), p.keys.begin(), p.keys.end());
    if (instances)
      out.y_instance.insert(out.y_instance.end(), p.y_instance.begin(), p.y_instance.end());
  }
  out.validate(names[r]);
  return out;
}

}  // namespace tutti::data
