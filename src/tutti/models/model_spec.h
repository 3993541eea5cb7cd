// Torch-free description of a model: what to build, for which data. Stored in model files.
//
//   tutti::models::ModelSpec spec;
//   spec.name = "att";
//   spec.options = {{"dropout", 0.5}};      // unknown keys are refused by make_model
//   auto model = tutti::models::make_model(spec);   // bag_model.h (LibTorch)
//
// The options each model accepts, with defaults and ranges, are listed in docs/models.md.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::models {

struct ModelSpec {
  std::string name;                 // "att", "fc_t", "fc", "rnn", "rf", "mmgat", ...
  std::int64_t input_dim = 128;     // D
  std::int64_t num_classes = 20;    // C
  std::int64_t max_instances = 10;  // K (the bag length FC is built for; others accept any)
  core::Json options = core::Json::object();  // model-specific hyperparameters

  // Throws tutti::UsageError when a size is not positive or options is not a JSON object.
  void validate() const;
  // {"name", "input_dim", "num_classes", "max_instances", "options"}.
  core::Json to_json() const;
  // Inverse of to_json; missing sizes take the defaults above. Throws tutti::Error for a missing
  // name, a wrong type or an unknown key.
  static ModelSpec from_json(const core::Json& j);
};

// The registered model names, in documentation order.
std::vector<std::string> model_names();
// True for models that need every bag to have exactly max_instances instances (FC).
bool requires_fixed_length(const std::string& name);
// True for models with per-instance class scores, which `localize` can score (not FC, not RF).
bool has_instance_outputs(const std::string& name);
// True for "mmgat" and its ablations (defined with the model, mmgat.cpp).
bool is_mmgat(const std::string& name);

// Reads a model's options one by one, each with its default and valid range; values outside the
// range and (at finish()) keys nobody read throw tutti::UsageError naming the model and the key.
//   OptionReader r("att", spec.options);
//   double p = r.number("dropout", 0.6, 0.0, 1.0);
//   r.finish();
class OptionReader {
 public:
  OptionReader(std::string model, const core::Json& options);
  // A real number in [lo, hi].
  double number(const std::string& key, double def, double lo, double hi);
  // An integer in [lo, hi].
  std::int64_t integer(const std::string& key, std::int64_t def, std::int64_t lo, std::int64_t hi);
  // A non-empty list of integers, each in [lo, hi].
  std::vector<std::int64_t> integer_list(const std::string& key, std::vector<std::int64_t> def,
                                         std::int64_t lo, std::int64_t hi);
  // A string (any value); def when absent.
  std::string string(const std::string& key, const std::string& def);
  // A string that must be one of `allowed`; def when absent.
  std::string choice(const std::string& key, const std::string& def,
                     const std::vector<std::string>& allowed);
  // A rectangular matrix of finite numbers (list of equally long non-empty lists), rows x cols;
  // empty when absent.
  std::vector<std::vector<double>> number_matrix(const std::string& key);
  // True when the option is present (and marks it as read).
  bool has(const std::string& key);
  // Throws tutti::UsageError for the first option that was not read (an unknown option).
  void finish() const;

 private:
  const core::Json* find(const std::string& key);
  std::string model_;
  core::Json options_;
  std::set<std::string> read_;
};

}  // namespace tutti::models
