#include "tutti/infer/ensemble.h"

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/eval/evaluate.h"
#include "tutti/infer/predictor.h"

namespace tutti::infer {

ModelInfo write_ensemble(const EnsembleOptions& o, const std::filesystem::path& out) {
  check<UsageError>(!o.members.empty(), "ensemble: no member model given");
  LoadedModelFile e;
  for (const auto& path : o.members) {
    e.members.push_back(read_model_file(path));
    const ModelInfo& m = e.members.back().info;
    check(!m.is_ensemble(), "model: {}: is an ensemble; give its members instead", path.string());
    if (e.members.size() > 1)
      check_ensemble_member(e.members.front().info, m, "model: " + path.string());
  }
  ModelInfo& info = e.info;
  info = e.members.front().info;
  info.format_version = kEnsembleFormatVersion;
  info.tutti_version = TUTTI_VERSION;
  info.train_config = core::Json::object();
  info.ensemble_members = static_cast<int>(e.members.size());
  info.ensemble_validation = o.validation_name;
  TrainingSummary& t = info.training;
  t = TrainingSummary{};
  t.n_train = e.members.front().info.training.n_train;
  ModelBlobs blobs;
  for (std::size_t i = 0; i < e.members.size(); ++i) {
    add_member_blobs(blobs, static_cast<int>(i), e.members[i]);
    t.params += e.members[i].info.training.params;
    t.train_seconds += e.members[i].info.training.train_seconds;
  }

  const std::string what = "--validation " + o.validation_name;
  check_compatible(o.validation, what, info.spec.name, info.features.dim,
                   info.features.max_instances, info.classes, /*require_classes=*/true);
  check(o.validation.size() > 0, "{}: no clips", what);
  const ModelInfo written_info = info;  // without thresholds yet: set below
  const Predictor p = Predictor::from_file(std::move(e), out);
  const std::vector<float> scores = p.predict(o.validation, false, o.threads, what).scores;

  ModelInfo result = written_info;
  result.thresholds = eval::choose_thresholds(o.validation, scores);
  result.training.val_map = eval::evaluate(o.validation, scores, result.thresholds).mAP;
  // Masked mean BCE as training reports it (log clamped at -100, as torch::binary_cross_entropy).
  double bce = 0, known = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (o.validation.y_mask[i] == 0) continue;
    const double s = scores[i], y = o.validation.y_true[i] >= 0.5f ? 1.0 : 0.0;
    bce -= y * std::max(std::log(s), -100.0) + (1 - y) * std::max(std::log1p(-s), -100.0);
    known += 1;
  }
  result.training.val_loss = known > 0 ? bce / known : 0.0;
  result.training.n_val = o.validation.size();
  write_model_file(out, result, blobs);
  return result;
}

}  // namespace tutti::infer
