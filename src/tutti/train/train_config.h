// How a model is trained: every knob of `tutti train`, with the defaults of the AttentionMIC
// study (Gururani, Sharma & Lerch, ISMIR 2019) and the OpenMIC-2018 random-forest baseline.
// Torch-free; recorded verbatim in every model file (meta.json "train_config").
//
//   auto cfg = tutti::train::TrainConfig::for_model("att");  // lr 5e-4, 250 epochs
//   cfg.seed = 3;
//   cfg.validate();  // throws tutti::UsageError naming the bad field and value
#pragma once

#include <cstdint>
#include <string>

#include "tutti/core/json.h"

namespace tutti::train {

struct TrainConfig {
  std::string model = "att";  // att | fc_t | fc | rnn | rf (or any models::model_names() entry)
  std::uint64_t seed = 1;     // seeds torch, the epoch shuffling, dropout, the validation split, RF
  int threads = 0;            // CPU threads (torch / xgboost); 0 = all cores
  std::string device = "cpu"; // cpu | cuda (cuda only with a CUDA build of LibTorch)

  // Neural models. Loss = BCE averaged over known (mask = 1) labels + the model's extra loss.
  int epochs = 250;               // ATT 250, others 100 (for_model)
  double learning_rate = 5e-4;    // Adam; FC uses 1e-4 (for_model)
  double weight_decay = 1e-5;     // Adam's L2 penalty (PyTorch semantics)
  int batch_size = 128;
  int patience = 0;               // stop after this many epochs without a lower val loss; 0 = off
  // auto: the fused CPU engine where one exists (ATT, train/att_fused.h), autograd otherwise;
  // autograd: always the model's forward + LibTorch autograd; fused: require the fused engine.
  std::string engine = "auto";

  // Validation part of the training data (model selection + per-class thresholds).
  std::string val_split;          // npz with int64 `train`/`val` row indices (AttentionMIC); or
  double val_fraction = 0.15;     // a seeded stratified fraction when val_split is empty

  // RF_BR (binary relevance random forests, xgboost in random-forest mode).
  int rf_trees = 100;
  int rf_max_depth = 8;
  double rf_subsample = 0.632;    // rows per tree, without replacement (bootstrap-like)
  std::string rf_features = "mean";  // mean | mean_std (per-clip statistics over real instances)

  std::string embedder = "vggish";  // which features the model expects (recorded, checked by users)
  core::Json model_options = core::Json::object();  // passed to models::ModelSpec::options

  // Defaults for a model name (or alias): its declared epochs and learning rate
  // (models/model_decl.h). Throws tutti::UsageError for an unknown model.
  static TrainConfig for_model(const std::string& model);

  bool is_forest() const;
  // Throws tutti::UsageError "train config: <field> = <value>: <why>".
  void validate() const;
  core::Json to_json() const;
  // Missing keys keep their defaults (for_model of the stored model); unknown keys are rejected.
  static TrainConfig from_json(const core::Json& j);
};

}  // namespace tutti::train
