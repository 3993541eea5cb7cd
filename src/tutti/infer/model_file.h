// The .tutti model file: one zip archive (written atomically) holding everything needed to use and
// audit a trained model.
//
//   meta.json       ModelInfo::to_json(): format/version, model spec, train config, classes,
//                   feature spec, per-class thresholds, training history and metrics
//   weights.pt      neural models: torch::save of the module (parameters + buffers)
//   forest-<c>.ubj  RF_BR: one xgboost booster (UBJSON) per class c
//   member-<i>/     an ensemble (format version 3): member i's meta.json and weights.pt or
//                   forest-<c>.ubj; the top meta.json has "ensemble": {"members": N, ...}, its
//                   thresholds (chosen on validation for the ensemble) and its first member's
//                   model spec, classes and features, which every member shares
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
// Version 3: ensembles (member-<i>/ entries). Single models are still written as version 2, so
// that older readers keep reading them; an older reader refuses an ensemble by its version.
inline constexpr int kEnsembleFormatVersion = 3;

// What the model expects as input.
struct FeatureSpec {
  std::int64_t dim = 128;           // D
  std::int64_t max_instances = 10;  // K seen in training
  std::string scaling =
      "uint8/255";  // "uint8/255" (uint8 features / 255) or "none" (float32 as-is)
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
  // An ensemble: how many members (0 = one model) and the data its thresholds were chosen on.
  int ensemble_members = 0;
  std::string ensemble_validation;

  bool is_ensemble() const { return ensemble_members > 0; }
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
// truncated or corrupt file, another format version, or missing entries; for an ensemble also
// members that are ensembles or disagree with it (classes, features, kind of model).
struct LoadedModelFile {
  ModelInfo info;
  ModelBlobs blobs;
  std::vector<LoadedModelFile> members;  // an ensemble's, in order
};
LoadedModelFile read_model_file(const std::filesystem::path& path);

// Member `m` of an ensemble must be usable wherever the ensemble `top` is: same classes and
// features, and the same kind of model (forest or not, fixed-length or not, per-instance outputs
// or not). Throws tutti::Error "<what>: ..." naming the difference.
void check_ensemble_member(const ModelInfo& top, const ModelInfo& m, const std::string& what);

// Shipped models: a name without a folder or extension ("as20") is the file <name>.tutti in the
// first of these folders that has it: $TUTTI_MODELS, then models/ beside the program's folder
// (build/tutti in a source tree finds the repository's models/), then ../share/tutti/models
// from the program's folder (an installed tutti).
std::vector<std::filesystem::path> shipped_model_dirs();

// `model` itself when it is an existing file or names a folder or extension; otherwise the
// shipped model of that name. Throws tutti::UsageError "model '<name>': no such file, and no
// shipped model <name>.tutti in <folders>".
std::filesystem::path resolve_model(const std::string& model);

// Adds the entries of an ensemble's member `index` (member-<index>/meta.json and its blobs).
void add_member_blobs(ModelBlobs& blobs, int index, const LoadedModelFile& member);

}  // namespace tutti::infer
