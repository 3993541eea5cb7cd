#include "tutti/train/validation.h"

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/eval/metrics.h"
#include "tutti/models/model_decl.h"

namespace tutti::train {

namespace {

void known_column(const data::BagDataset& ds, std::span<const float> scores, std::int64_t c,
                  std::vector<std::uint8_t>& labels, std::vector<float>& s) {
  labels.clear();
  s.clear();
  const std::int64_t nc = ds.num_classes();
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    if (!ds.known(i, c)) continue;
    labels.push_back(ds.positive(i, c) ? 1 : 0);
    s.push_back(scores[static_cast<std::size_t>(i * nc + c)]);
  }
}

}  // namespace

void check_feature_scale(const data::BagDataset& ds, const std::string& what) {
  if (ds.feature_type != data::FeatureType::kFloat32) return;
  float max_abs = 0.0f;
  for (float v : ds.x_f32) max_abs = std::max(max_abs, std::fabs(v));
  check(max_abs <= kMaxFloatFeature,
        "{}: X is float32 with values up to {:g}: features are expected in [0, 1] (magnitudes up "
        "to {:g} accepted); store uint8 features as uint8 or divide them by 255",
        what, max_abs, kMaxFloatFeature);
}

void check_trainable(const data::BagDataset& ds, const std::string& model,
                     const std::string& what) {
  ds.validate(what);
  check(ds.size() > 0, "{}: the dataset has no clips", what);
  check(ds.num_classes() > 0, "{}: the dataset has no classes", what);
  check(ds.dim > 0 && ds.max_instances > 0, "{}: the dataset has no features (K={}, D={})", what,
        ds.max_instances, ds.dim);
  check_feature_scale(ds, what);
  check(!data::nonempty_rows(ds).empty(), "{}: no clip has any instance", what);
  for (std::int64_t c = 0; c < ds.num_classes(); ++c) {
    bool any = false;
    for (std::int64_t i = 0; i < ds.size() && !any; ++i) any = ds.known(i, c);
    check(any, "{}: class '{}' has no known label (every Y_mask entry is 0); keep the other "
          "classes with `tutti data filter --classes ...`", what,
          ds.classes[static_cast<std::size_t>(c)]);
  }
  if (models::requires_fixed_length(model))
    check(ds.fixed_length(), "{}: model '{}' needs exactly K = {} instances in every clip, but "
          "some clips are shorter (use att, fc_t or rnn for variable-length bags)",
          what, model, ds.max_instances);
}

void check_embedder_override(const data::BagDataset& ds, const core::Json& overrides,
                             const std::string& what) {
  if (ds.embedder.empty() || !overrides.contains("embedder")) return;
  const auto given = overrides.at("embedder").get<std::string>();
  check<UsageError>(given == ds.embedder, "--embedder {}: {} was made by embedder '{}'", given,
                    what, ds.embedder);
}

double macro_average_precision(const data::BagDataset& ds, std::span<const float> scores) {
  std::vector<std::uint8_t> labels;
  std::vector<float> s;
  double sum = 0;
  int n = 0;
  for (std::int64_t c = 0; c < ds.num_classes(); ++c) {
    known_column(ds, scores, c, labels, s);
    const double ap = labels.empty() ? std::nan("") : eval::average_precision(labels, s);
    if (std::isnan(ap)) continue;
    sum += ap;
    ++n;
  }
  return n ? sum / n : std::nan("");
}

}  // namespace tutti::train
