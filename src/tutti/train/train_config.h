// How a model is trained: every knob of `tutti train`, with the defaults of the AttentionMIC
// study (Gururani, Sharma & Lerch, ISMIR 2019) and the OpenMIC-2018 random-forest baseline.
// Torch-free; recorded in every model file (meta.json "train_config", flat keys).
//
//   auto cfg = tutti::train::TrainConfig::for_model("att");  // lr 5e-4, 250 epochs
//   cfg.seed = 3;
//   cfg.validate();  // throws tutti::UsageError naming the bad field and value
//
// Each option is declared once, in train_option_decls() (train_config.cpp): JSON key, CLI flag,
// group (common, neural, forest), type, default (or the model's, from models/model_decl.h), range
// or choices and help. The defaults below, validate(), to_json(), from_json() and the flags of
// `tutti train` and `tutti experiment` (apps/tutti/train_flags.h) all come from that table.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::train {

struct TrainConfig {
  std::string model = "att";                        // a models::model_names() entry or alias
  core::Json model_options = core::Json::object();  // passed to models::ModelSpec::options

  // Common (declared in train_option_decls()).
  std::uint64_t seed{};   // seeds torch, the epoch shuffling, dropout, the validation split, RF
  int threads{};          // CPU threads (torch / xgboost); 0 = all cores
  std::string device;     // cpu | cuda (cuda only with a CUDA build of LibTorch)
  std::string embedder;   // the features' embedder; the dataset's record wins (train.h)
  std::string val_split;  // npz with int64 `train`/`val` row indices (AttentionMIC); or
  double val_fraction{};  // a seeded stratified fraction when val_split is empty
  // Seed of that stratified split; 0 = `seed`. Members of an ensemble trained with other seeds
  // but one val_seed share a validation part, on which the ensemble's thresholds are chosen.
  std::uint64_t val_seed{};

  // Neural models. Loss = BCE averaged over known (mask = 1) labels + the model's extra loss.
  int epochs{};            // the model's default (models::ModelDecl)
  double learning_rate{};  // Adam; the model's default
  double weight_decay{};   // Adam's L2 penalty (PyTorch semantics)
  int batch_size{};
  int patience{};  // stop after this many epochs without a lower val loss; 0 = off
  // auto: the model's fused CPU engine where it has one (models::ModelDecl::engines), autograd
  // otherwise; autograd: always the model's forward + LibTorch autograd; fused: require it.
  std::string engine;
  // Training recipes beyond the papers, all off by default (docs/training.md, "Recipes").
  double label_smoothing{};  // training targets y (1 - e) + e / 2; validation keeps 0/1
  std::string lr_schedule;   // constant | cosine (lr * (1 + cos(pi (epoch - 1) / epochs)) / 2)
  // Mixup of bags (train/mixup.h): each batch is mixed with a permutation of itself by a weight
  // drawn from Beta(mixup, mixup); 0 = off.
  double mixup{};
  // Exponential moving average of the weights (train/weight_average.h), updated after every
  // step with this decay; validation, the best epoch, thresholds and the written model use the
  // average. 0 = off.
  double ema{};
  // Auxiliary task (train/extra_targets.h): a bag dataset of more clips and other classes (e.g.
  // the 527 AudioSet classes of every balanced-train clip), joined to the training clips by key
  // and learned by extra classifier rows next to the task's; its labels weigh aux_weight each.
  std::string aux_labels;  // "" = off
  double aux_weight{};
  // Distillation: the training targets mix a teacher model file's probabilities (share
  // teacher_weight) with the labels; "{seed}" in the path is replaced by the seed.
  std::string teacher;  // "" = off
  double teacher_weight{};

  // RF_BR (binary relevance random forests, xgboost in random-forest mode): the forest's options
  // are training options (the rf model declaration has none).
  int rf_trees{};
  int rf_max_depth{};
  double rf_subsample{};    // rows per tree, without replacement (bootstrap-like)
  std::string rf_features;  // mean | mean_std (per-clip statistics over real instances)

  // Checkpoints (neural models; train/checkpoint.h): run control, not part of the model, so
  // to_json() leaves them out unless asked.
  int checkpoint_every{};  // write OUT.ckpt after every N-th epoch; 0 = never
  int resume{};            // 1: continue from OUT.ckpt (a switch on the command line)

  // The declared defaults for "att".
  TrainConfig();
  // The declared defaults for a model name (or alias): its epochs and learning rate come from its
  // declaration. Throws tutti::UsageError for an unknown model.
  static TrainConfig for_model(const std::string& model);

  bool is_forest() const;
  // Checks every declared option against its range or choices, the model name and the model
  // options (models::validate_model_options). Throws tutti::UsageError
  // "train config: <field> = <value>: <why>".
  void validate() const;
  // The options that determine the model (recorded in model files, compared across ranks and
  // with a checkpoint); with_run_control adds the checkpoint group.
  core::Json to_json(bool with_run_control = false) const;
  // Missing keys keep their defaults (for_model of the stored model); unknown keys and wrong
  // types are rejected (tutti::Error).
  static TrainConfig from_json(const core::Json& j);
};

enum class TrainGroup { kCommon, kNeural, kForest, kCheckpoint };

// One training option: the single place its name, flag, default, range and help are stated.
struct TrainOptionDecl {
  using Field = std::variant<std::uint64_t TrainConfig::*, int TrainConfig::*,
                             double TrainConfig::*, std::string TrainConfig::*>;
  std::string key;   // JSON key in meta.json "train_config" (and experiment overrides)
  std::string flag;  // CLI flag of `tutti train` / `tutti experiment`, e.g. "--lr"
  TrainGroup group = TrainGroup::kCommon;
  Field field;
  core::Json def;  // null: the model's default (epochs, learning_rate from models::ModelDecl)
  // Numbers: the accepted interval (open ends excluded); unbounded above when hi is infinite.
  double lo = 0, hi = 0;
  bool lo_open = false, hi_open = false;
  std::vector<std::string> choices;  // strings: accepted values (empty = any)
  bool non_empty = false;            // strings: "" refused
  bool existing_file = false;        // flag checks that the file exists
  bool is_switch = false;            // a 0/1 int given as a flag without a value (--resume)
  std::string note;                  // why the range, appended to the error
  std::string help;

  // "250 for att, 100 otherwise", "1e-05", "cpu": the default as the help texts show it.
  std::string default_text() const;
  // "must be >= 1", "must be in (0, 1)", "must be cpu or cuda": what validate() requires.
  std::string rule() const;
};

// Every training option, grouped common, neural, forest, checkpoint.
const std::vector<TrainOptionDecl>& train_option_decls();
// The declaration with JSON key `key`, or nullptr.
const TrainOptionDecl* find_train_option(const std::string& key);
// "Training", "Neural training", "Random forest (rf)", "Checkpoints": help section titles.
std::string group_title(TrainGroup g);

}  // namespace tutti::train
