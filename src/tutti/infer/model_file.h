// The .tutti model file: one zip archive (written atomically) holding everything needed to use and
// audit a trained model.
//
//   meta.json       ModelInfo::to_json(): format/version, model spec, train config, classes,
//                   feature spec, per-class thresholds, training history and metrics
//   weights.pt      neural models: torch::save of the module (parameters + buffers)
//   forest-<c>.ubj  RF_BR: one xgboost booster (UBJSON) per class c
//
// Torch-free. Reading checks the format name and version and reports a corrupt or truncated file
// as "model: <file>: ...".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/model_spec.h"

namespace tutti::infer {

inline constexpr const char* kModelFormat = "tutti-model";
// Version 2: MMGAT files always record `scale_fusion` (its default changed from tanh to linear);
// version-1 files are still read, their MMGAT models as tanh (ModelInfo::from_json).
inline constexpr int kModelFormatVersion = 2;
inline constexpr int kOldestModelFormatVersion = 1;

// What the model expects as input.
struct FeatureSpec {
  std::int64_t dim = 128;           // D
  std::int64_t max_instances = 10;  // K seen in training
  std::string scaling = "uint8/255";  // "uint8/255" (uint8 features / 255) or "none" (float32 as-is)
  std::string embedder = "vggish";

  core::Json to_json() const;
  static FeatureSpec from_json(const core::Json& j);
};

struct EpochRecord {
  int epoch = 0;  // 1-based
  double train_loss = 0, val_loss = 0, val_map = 0, seconds = 0;
};

struct TrainingSummary {
  std::vector<EpochRecord> history;  // empty for RF
  int best_epoch = 0;                // epoch whose weights were kept (RF: 1)
  int epochs_run = 0;
  double val_loss = 0;  // masked BCE on the validation set at best_epoch
  double val_map = 0;   // macro AP on the validation set at best_epoch
  double train_seconds = 0;
  std::int64_t n_train = 0, n_val = 0;
  std::int64_t params = 0;  // trainable parameters (RF: total tree nodes)

  core::Json to_json() const;
  static TrainingSummary from_json(const core::Json& j);
};

struct ModelInfo {
  int format_version = kModelFormatVersion;
  std::string tutti_version;  // TUTTI_VERSION of the writer
  models::ModelSpec spec;
  // The training options as recorded by the trainer (train::TrainConfig::to_json; read back with
  // train::TrainConfig::from_json). Inference does not interpret them.
  core::Json train_config = core::Json::object();
  std::vector<std::string> classes;
  FeatureSpec features;
  std::vector<float> thresholds;  // [C], chosen on the validation set (max F1)
  TrainingSummary training;

  bool is_forest() const { return models::is_forest(spec.name); }
  core::Json to_json() const;
  // `what` names the file in errors.
  static ModelInfo from_json(const core::Json& j, const std::string& what);
};

// Entry name -> bytes (weights.pt, forest-<c>.ubj).
using ModelBlobs = std::map<std::string, std::vector<std::uint8_t>>;

// Writes meta.json + blobs atomically (nothing is left at `path` on failure).
void write_model_file(const std::filesystem::path& path, const ModelInfo& info,
                      const ModelBlobs& blobs);

// Reads and checks a model file; throws tutti::Error "model: <file>: <problem>" for a missing,
// truncated or corrupt file, another format version, or missing entries.
struct LoadedModelFile {
  ModelInfo info;
  ModelBlobs blobs;
};
LoadedModelFile read_model_file(const std::filesystem::path& path);

}  // namespace tutti::infer
