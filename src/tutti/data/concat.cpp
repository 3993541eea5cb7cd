#include "tutti/data/concat.h"

#include <algorithm>
#include <numeric>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::data {

namespace {

const char* type_name(FeatureType t) { return t == FeatureType::kUint8 ? "uint8" : "float32"; }

std::string list(const std::vector<std::string>& v, std::size_t max_items = 6) {
  std::string s;
  for (std::size_t i = 0; i < v.size() && i < max_items; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > max_items) s += fmt::format(", ... ({} in all)", v.size());
  return "[" + s + "]";
}

}  // namespace

void ConcatOptions::validate() const {
  check<UsageError>(min_per_clip >= 0, "concat: min per clip {} is negative", min_per_clip);
  check<UsageError>(max_per_clip >= 1, "concat: max per clip {} must be at least 1",
                    max_per_clip);
  check<UsageError>(max_per_clip >= min_per_clip, "concat: max per clip {} is below min per clip {}",
                    max_per_clip, min_per_clip);
}

core::Json ConcatOptions::to_json() const {
  return {{"min_per_clip", min_per_clip},
          {"max_per_clip", max_per_clip},
          {"same_label_only", same_label_only},
          {"seed", seed}};
}

core::Json ConcatStats::to_json() const {
  return {{"clips", clips},
          {"appended", appended},
          {"short_of_candidates", short_of_candidates},
          {"without_candidates", without_candidates},
          {"max_instances", max_instances},
          {"instance_labels", instance_labels}};
}

void check_same_classes(const BagDataset& a, const BagDataset& b, const std::string& a_name,
                        const std::string& b_name) {
  if (a.classes == b.classes) return;
  std::string detail;
  if (a.classes.size() != b.classes.size()) {
    detail = fmt::format("{} has {} classes {}, {} has {} {}", a_name, a.classes.size(),
                         list(a.classes), b_name, b.classes.size(), list(b.classes));
  } else {
    std::size_t i = 0;
    while (a.classes[i] == b.classes[i]) ++i;
    detail = fmt::format("class {} is '{}' in {} but '{}' in {}", i, a.classes[i], a_name,
                         b.classes[i], b_name);
  }
  fail("{} and {} have different class lists: {}", a_name, b_name, detail);
}

void check_same_features(const BagDataset& a, const BagDataset& b, const std::string& a_name,
                         const std::string& b_name) {
  check(a.dim == b.dim, "{} and {} have different feature dimensions: D = {} vs {}", a_name,
        b_name, a.dim, b.dim);
  check(a.feature_type == b.feature_type, "{} and {} have different feature types: {} vs {}",
        a_name, b_name, type_name(a.feature_type), type_name(b.feature_type));
  // An unknown embedder ("") is compatible with any: older files and hand-made data carry none.
  check(a.embedder.empty() || b.embedder.empty() || a.embedder == b.embedder,
        "{} and {} come from different embedders: '{}' vs '{}'", a_name, b_name, a.embedder,
        b.embedder);
}

BagDataset concat_bags(const BagDataset& a, const BagDataset& b, const ConcatOptions& options,
                       const std::string& a_name, const std::string& b_name, ConcatStats* stats) {
  options.validate();
  check_same_classes(a, b, a_name, b_name);
  check_same_features(a, b, a_name, b_name);
  check(b.size() > 0, "concat: {} has no clips to append", b_name);
  const std::int64_t n = a.size(), c = a.num_classes(), d = a.dim;

  // Clips of B per class (known positives), for the same-label candidate sets.
  std::vector<std::vector<std::int64_t>> b_by_class(static_cast<std::size_t>(c));
  for (std::int64_t j = 0; j < b.size(); ++j)
    for (std::int64_t k = 0; k < c; ++k)
      if (b.positive(j, k)) b_by_class[k].push_back(j);

  // Draw every clip's partners first: K of the result is the longest total.
  std::mt19937_64 rng(options.seed);
  ConcatStats st;
  st.clips = n;
  std::vector<std::vector<std::int64_t>> partners(static_cast<std::size_t>(n));
  std::vector<std::int64_t> cand;
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(b.size()));
  std::int64_t k_out = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const auto span = static_cast<std::uint64_t>(options.max_per_clip - options.min_per_clip + 1);
    const std::int64_t m =
        options.min_per_clip + static_cast<std::int64_t>(core::uniform_index(rng, span));
    cand.clear();
    if (options.same_label_only) {
      std::fill(seen.begin(), seen.end(), 0);
      for (std::int64_t k = 0; k < c; ++k)
        if (a.positive(i, k))
          for (const auto j : b_by_class[k]) seen[j] = 1;
      for (std::int64_t j = 0; j < b.size(); ++j)
        if (seen[j] && b.keys[j] != a.keys[i]) cand.push_back(j);
    } else {
      for (std::int64_t j = 0; j < b.size(); ++j)
        if (b.keys[j] != a.keys[i]) cand.push_back(j);
    }
    // Partial Fisher-Yates: the first `take` entries become a uniform sample without replacement.
    const auto take = std::min<std::int64_t>(m, static_cast<std::int64_t>(cand.size()));
    for (std::int64_t s = 0; s < take; ++s) {
      const auto r = s + static_cast<std::int64_t>(
                             core::uniform_index(rng, static_cast<std::uint64_t>(cand.size() - s)));
      std::swap(cand[s], cand[r]);
    }
    partners[i].assign(cand.begin(), cand.begin() + take);
    if (take < m) ++st.short_of_candidates;
    if (take == 0 && m > 0) ++st.without_candidates;
    st.appended += take;
    std::int64_t len = a.n_instances[i];
    for (const auto j : partners[i]) len += b.n_instances[j];
    k_out = std::max(k_out, len);
  }

  const bool with_instances = a.has_instance_labels() && b.has_instance_labels();
  BagDataset out = BagDataset::zeros(n, k_out, d, a.classes, a.feature_type);
  out.embedder = a.embedder.empty() ? b.embedder : a.embedder;
  if (with_instances) out.y_instance.assign(static_cast<std::size_t>(n * k_out * c), 0);
  auto copy_instances = [&](const BagDataset& src, std::int64_t j, std::int64_t i,
                            std::int64_t at) {
    const std::int64_t len = src.n_instances[j];
    const auto from = static_cast<std::size_t>(j * src.max_instances * d);
    const auto to = static_cast<std::size_t>((i * k_out + at) * d);
    if (src.feature_type == FeatureType::kUint8)
      std::copy_n(src.x_u8.begin() + from, len * d, out.x_u8.begin() + to);
    else
      std::copy_n(src.x_f32.begin() + from, len * d, out.x_f32.begin() + to);
    if (with_instances)
      std::copy_n(src.y_instance.begin() + static_cast<std::size_t>(j * src.max_instances * c),
                  len * c, out.y_instance.begin() + static_cast<std::size_t>((i * k_out + at) * c));
    return at + len;
  };
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t at = copy_instances(a, i, i, 0);
    std::string key = a.keys[i];
    for (std::int64_t k = 0; k < c; ++k) {
      out.y_true[i * c + k] = a.label(i, k);
      out.y_mask[i * c + k] = a.known(i, k) ? 1 : 0;
    }
    for (const auto j : partners[i]) {
      at = copy_instances(b, j, i, at);
      key += "+" + b.keys[j];
      for (std::int64_t k = 0; k < c; ++k) {
        if (!b.known(j, k)) continue;
        float& y = out.y_true[i * c + k];
        y = out.y_mask[i * c + k] ? std::max(y, b.label(j, k)) : b.label(j, k);
        out.y_mask[i * c + k] = 1;
      }
    }
    out.n_instances[i] = static_cast<std::int32_t>(at);
    out.keys[i] = std::move(key);
  }
  st.max_instances = k_out;
  st.instance_labels = with_instances;
  if (stats) *stats = st;
  return out;
}

}  // namespace tutti::data
