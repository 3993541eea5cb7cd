// Using a trained .tutti model: torch-free facade for the CLI and other modules (pimpl). An
// ensemble file predicts the mean of its members' probabilities (per-instance outputs and
// attention too, where every member has them; no clip embedding).
//
//   auto p = tutti::infer::Predictor::load("att-1.tutti");
//   auto pred = p.predict(dataset, /*with_instances=*/true, /*threads=*/0);
//   float violin_in_clip_3 = pred.score(3, c);
//
// Throws tutti::Error "model: <file>: ..." for unreadable model files and "<what>: ..." when the
// dataset does not fit the model (feature dimension; fixed-length models need exactly K
// instances).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/infer/model_file.h"

namespace tutti::infer {

struct Predictions {
  std::int64_t n = 0, k = 0, c = 0;
  std::vector<float> scores;     // [N,C] clip probabilities (clips without instances: 0)
  std::vector<float> instance;   // [N,K,C] per-instance probabilities (ATT: c_{k,t}), or empty
  std::vector<float> attention;  // [N,K,C] normalized attention weights (ATT), or empty
  std::int64_t embedding_dim = 0;
  std::vector<float> embedding;  // [N,E] pre-classifier clip features, or empty

  float score(std::int64_t i, std::int64_t cls) const { return scores[i * c + cls]; }
};

class Predictor {
 public:
  static Predictor load(const std::filesystem::path& path);
  // From a file already read (read_model_file); `path` names it in errors.
  static Predictor from_file(LoadedModelFile f, const std::filesystem::path& path);
  ~Predictor();
  Predictor(Predictor&&) noexcept;
  Predictor& operator=(Predictor&&) noexcept;

  const ModelInfo& info() const;
  const std::filesystem::path& path() const;
  // `what` names the dataset in errors. threads 0 = all cores. Instance outputs only when
  // with_instances (RF_BR has none).
  Predictions predict(const data::BagDataset& ds, bool with_instances = false, int threads = 0,
                      const std::string& what = "dataset") const;

 private:
  Predictor();
  static Predictor from_file(LoadedModelFile f, const std::filesystem::path& path,
                             const std::string& what);
  Predictions predict_ensemble(const data::BagDataset& ds, bool with_instances, int threads,
                               const std::string& what) const;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Throws "<what>: ..." when `ds` does not fit a model built for `dim` features, `classes` (only
// when require_classes) and, for fixed-length models, exactly `max_instances` instances per clip.
void check_compatible(const data::BagDataset& ds, const std::string& what, const std::string& model,
                      std::int64_t dim, std::int64_t max_instances,
                      const std::vector<std::string>& classes, bool require_classes);

}  // namespace tutti::infer
