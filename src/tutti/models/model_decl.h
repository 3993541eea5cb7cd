// One declaration per model (torch-free): what the CLI, validation, the trainer's engine choice,
// model files and the experiment's model list know about a model, stated once in model_decl.cpp.
//
//   const tutti::models::ModelDecl& d = tutti::models::model_decl("att");
//   d.epochs;                       // 250: the training default
//   d.option("dropout")->def;       // 0.6
//   tutti::models::validate_model_options(d, {{"dropout", 1.5}});  // UsageError: outside range
//
// Models: att, fc_t, rnn, fc (AttentionMIC's neural baselines), rf (binary-relevance random
// forests: its trees, depth, row fraction and clip features are forest *training* options of
// train::TrainConfig, `--rf-*`, because they shape the fitting rather than a network built from
// a spec; the rf declaration has no model options), mmgat. Aliases name a model with fixed option
// values: mmgat-single (mmgat, scales = 1), mmgat-principal (use_aux = false), mmgat-graph
// (use_labels = false); an alias's values override the options given with it, so one option list
// serves every variant of an experiment.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/models/model_spec.h"

namespace tutti::models {

enum class OptionType {
  kNumber,       // a finite real in [lo, hi]
  kInteger,      // an integer in [lo, hi]
  kIntegerList,  // a non-empty list of integers, each in [lo, hi]
  kBool,         // true | false
  kString,       // any string (e.g. a path); non_empty refuses ""
  kChoice,       // one of `choices`
  kMatrix,       // a rectangular list of equally long non-empty lists of finite numbers
};

struct OptionDecl {
  std::string key;
  OptionType type = OptionType::kNumber;
  core::Json def;         // default; null = absent (empty list / matrix, filled by the trainer)
  double lo = 0, hi = 0;  // kNumber, kInteger, kIntegerList
  std::vector<std::string> choices;  // kChoice
  bool non_empty = false;            // kString
  std::string help;

  // "0.6 in [0, 0.999]", "cosine | emd", ...: the default and what is accepted, for help texts.
  std::string describe() const;
};

enum class ModelKind { kNeural, kForest };

// How a neural model can be trained (train/trainer.h picks one per run).
enum class Engine {
  kAutograd,   // the model's forward + LibTorch autograd + torch::optim::Adam (every neural model)
  kFusedStep,  // the whole step (forward, backward, Adam) in train/att_fused.h on the CPU
  kFusedOps,   // fused forward/backward ops inside autograd + train/fused_adam.h on the CPU
};

struct ModelDecl {
  std::string name;
  std::string summary;  // one line
  ModelKind kind = ModelKind::kNeural;
  double learning_rate = 0;         // training default (neural)
  int epochs = 0;                   // training default (neural)
  bool fixed_length = false;        // needs every bag to have exactly max_instances instances (FC)
  bool instance_outputs = false;    // per-instance class scores, which `localize` can score
  bool default_experiment = false;  // in `tutti experiment`'s default --models
  std::vector<Engine> engines;      // empty for the forest
  std::vector<OptionDecl> options;

  bool neural() const { return kind == ModelKind::kNeural; }
  bool has_engine(Engine e) const;
  // The fused engine (kFusedStep or kFusedOps), or kAutograd when the model has none.
  Engine fused_engine() const;
  const OptionDecl* option(const std::string& key) const;  // nullptr when not declared
};

// Another name of a model with some option values fixed.
struct ModelAlias {
  std::string name;
  std::string model;
  core::Json options;  // override the options given with the alias
  std::string summary;
};

// Every model, in documentation order (the AttentionMIC study's order, then MMGAT).
const std::vector<ModelDecl>& model_decls();
const std::vector<ModelAlias>& model_aliases();
// The declaration of a model or of an alias's model; nullptr for an unknown name.
const ModelDecl* find_model_decl(const std::string& name);
// Same, throwing tutti::UsageError "models: unknown model 'x' (known: att, ...)".
const ModelDecl& model_decl(const std::string& name);
// The alias `name`, or nullptr.
const ModelAlias* find_model_alias(const std::string& name);

// Names of the declared models (rf included), of the neural ones, of the aliases.
std::vector<std::string> model_names();
std::vector<std::string> neural_model_names();
std::vector<std::string> model_alias_names();
// "att, fc_t, rnn, fc, rf, mmgat (aliases: mmgat-single, ...)", for help texts and errors.
std::string describe_model_names();
// The models `tutti experiment` trains when --models is not given.
std::vector<std::string> default_experiment_models();

// Answers of the declarations; false for an unknown name. Aliases answer as their model.
bool requires_fixed_length(const std::string& name);
bool has_instance_outputs(const std::string& name);
bool is_forest(const std::string& name);
bool is_mmgat(const std::string& name);

// The spec with an alias replaced by its model and the alias's option values (other names are
// returned unchanged). Model files written with an alias name load through this.
ModelSpec resolve_model_spec(ModelSpec spec);

// Checks every option of `options` against the declaration (types, ranges, choices, unknown
// keys) without building the model; throws tutti::UsageError naming the model and the key.
void validate_model_options(const ModelDecl& decl, const core::Json& options);

// Reads a model's options through its declaration: defaults and ranges come from there; an
// undeclared key throws tutti::UsageError at construction, listing the declared ones.
//   OptionReader r(model_decl("att"), spec.options);
//   double p = r.number("dropout");
class OptionReader {
 public:
  OptionReader(const ModelDecl& decl, const core::Json& options);
  double number(const std::string& key);
  std::int64_t integer(const std::string& key);
  std::vector<std::int64_t> integer_list(const std::string& key);  // empty when absent, no def
  bool boolean(const std::string& key);
  std::string string(const std::string& key);                              // kString or kChoice
  std::vector<std::vector<double>> number_matrix(const std::string& key);  // empty when absent
  // True when the option is present in the given options.
  bool has(const std::string& key) const;

 private:
  const OptionDecl& decl(const std::string& key, OptionType type) const;
  const core::Json* given(const std::string& key) const;
  const ModelDecl& model_;
  core::Json options_;
};

}  // namespace tutti::models
