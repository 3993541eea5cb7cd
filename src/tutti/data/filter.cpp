#include "tutti/data/filter.h"

#include <algorithm>
#include <unordered_set>

#include "tutti/core/error.h"

namespace tutti::data {

namespace {

std::int64_t class_index(const BagDataset& ds, const std::string& name, const std::string& what) {
  const auto it = std::find(ds.classes.begin(), ds.classes.end(), name);
  if (it != ds.classes.end()) return it - ds.classes.begin();
  std::string all;
  for (const auto& c : ds.classes) all += (all.empty() ? "" : ", ") + c;
  fail<UsageError>("filter: {}: no class '{}' (classes: {})", what, name, all);
}

std::vector<std::int64_t> class_indices(const BagDataset& ds, const std::vector<std::string>& names,
                                        const std::string& what) {
  std::vector<std::int64_t> out;
  for (const auto& n : names) out.push_back(class_index(ds, n, what));
  return out;
}

}  // namespace

void FilterOptions::validate() const {
  check<UsageError>(instances >= -1, "filter: instances {} is negative", instances);
  check<UsageError>(min_instances >= 0, "filter: min instances {} is negative", min_instances);
  check<UsageError>(max_instances >= -1, "filter: max instances {} is negative", max_instances);
  check<UsageError>(max_instances < 0 || max_instances >= min_instances,
                    "filter: max instances {} is below min instances {}", max_instances,
                    min_instances);
}

core::Json FilterOptions::to_json() const {
  return {{"instances", instances},     {"min_instances", min_instances},
          {"max_instances", max_instances}, {"with_any", with_any},
          {"without_any", without_any}, {"classes", classes},
          {"trim_k", trim_k},           {"without_keys", without_keys.size()}};
}

core::Json FilterResult::to_json() const {
  return {{"kept", kept},
          {"dropped", dropped},
          {"dropped_by", dropped_by},
          {"max_instances", data.max_instances},
          {"classes", data.classes}};
}

FilterResult filter_bags(const BagDataset& ds, const FilterOptions& options,
                         const std::string& what) {
  options.validate();
  const auto with = class_indices(ds, options.with_any, what);
  const auto without = class_indices(ds, options.without_any, what);
  std::vector<std::int64_t> cols = class_indices(ds, options.classes, what);
  {
    auto sorted = cols;
    std::sort(sorted.begin(), sorted.end());
    const auto dup = std::adjacent_find(sorted.begin(), sorted.end());
    check<UsageError>(dup == sorted.end(), "filter: class '{}' given twice",
                      dup == sorted.end() ? "" : ds.classes[*dup]);
  }
  const std::unordered_set<std::string> drop_keys(options.without_keys.begin(),
                                                  options.without_keys.end());
  FilterResult r;
  std::vector<std::int64_t> rows;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    const std::int64_t len = ds.n_instances[i];
    auto any_positive = [&](const std::vector<std::int64_t>& cs) {
      return std::any_of(cs.begin(), cs.end(), [&](std::int64_t k) { return ds.positive(i, k); });
    };
    const char* reason = nullptr;
    if (options.instances >= 0 && len != options.instances)
      reason = "instances";
    else if (len < options.min_instances)
      reason = "min_instances";
    else if (options.max_instances >= 0 && len > options.max_instances)
      reason = "max_instances";
    else if (!with.empty() && !any_positive(with))
      reason = "with_any";
    else if (!without.empty() && any_positive(without))
      reason = "without_any";
    else if (drop_keys.count(ds.keys[static_cast<std::size_t>(i)]) != 0)
      reason = "without_keys";
    if (reason)
      ++r.dropped_by[reason];
    else
      rows.push_back(i);
  }
  r.kept = static_cast<std::int64_t>(rows.size());
  r.dropped = ds.size() - r.kept;
  BagDataset sub = ds.subset(rows);

  std::int64_t k_out = sub.max_instances;
  if (options.trim_k) {
    k_out = 0;
    for (const auto len : sub.n_instances) k_out = std::max<std::int64_t>(k_out, len);
  }
  if (cols.empty() && k_out == sub.max_instances) {
    r.data = std::move(sub);
    return r;
  }
  if (cols.empty())
    for (std::int64_t k = 0; k < ds.num_classes(); ++k) cols.push_back(k);
  std::vector<std::string> names;
  for (const auto k : cols) names.push_back(ds.classes[k]);
  const std::int64_t n = sub.size(), d = sub.dim, c_in = sub.num_classes(),
                     c_out = static_cast<std::int64_t>(cols.size()), k_in = sub.max_instances;
  BagDataset out = BagDataset::zeros(n, k_out, d, names, sub.feature_type);
  out.embedder = sub.embedder;
  if (sub.has_instance_labels()) out.y_instance.assign(static_cast<std::size_t>(n * k_out * c_out), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    const auto from = static_cast<std::size_t>(i * k_in * d), to = static_cast<std::size_t>(i * k_out * d);
    const auto len = static_cast<std::size_t>(k_out * d);
    if (sub.feature_type == FeatureType::kUint8)
      std::copy_n(sub.x_u8.begin() + from, len, out.x_u8.begin() + to);
    else
      std::copy_n(sub.x_f32.begin() + from, len, out.x_f32.begin() + to);
    out.n_instances[i] = sub.n_instances[i];
    out.keys[i] = sub.keys[i];
    for (std::int64_t j = 0; j < c_out; ++j) {
      out.y_true[i * c_out + j] = sub.y_true[i * c_in + cols[j]];
      out.y_mask[i * c_out + j] = sub.y_mask[i * c_in + cols[j]];
      if (sub.has_instance_labels())
        for (std::int64_t t = 0; t < k_out; ++t)
          out.y_instance[(i * k_out + t) * c_out + j] = sub.y_instance[(i * k_in + t) * c_in + cols[j]];
    }
  }
  r.data = std::move(out);
  return r;
}

}  // namespace tutti::data
