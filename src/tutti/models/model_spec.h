// Torch-free description of a model: what to build, for which data. Stored in model files.
//
//   tutti::models::ModelSpec spec;
//   spec.name = "att";
//   spec.options = {{"dropout", 0.5}};      // unknown keys are refused by make_model
//   auto model = tutti::models::make_model(spec);   // bag_model.h (LibTorch)
//
// The options each model accepts, with defaults and ranges, are declared in model_decl.h.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::models {

// Upper bounds of the sizes: far above any real dataset (VGGish D = 128, AudioSet C = 527, an hour
// of audio K = 3750), low enough that a corrupt or hostile meta.json cannot ask for terabytes.
inline constexpr std::int64_t kMaxInputDim = 65536;
inline constexpr std::int64_t kMaxNumClasses = 100000;
inline constexpr std::int64_t kMaxInstances = 100000;

struct ModelSpec {
  std::string name;                 // "att", "fc_t", "fc", "rnn", "rf", "mmgat", ...
  std::int64_t input_dim = 128;     // D
  std::int64_t num_classes = 20;    // C
  std::int64_t max_instances = 10;  // K (the bag length FC is built for; others accept any)
  core::Json options = core::Json::object();  // model-specific hyperparameters

  // Throws tutti::UsageError when a size is outside [1, its kMax*] or options is not a JSON
  // object.
  void validate() const;
  // {"name", "input_dim", "num_classes", "max_instances", "options"}.
  core::Json to_json() const;
  // Inverse of to_json; missing sizes take the defaults above. Throws tutti::Error for a missing
  // name, a wrong type or an unknown key.
  static ModelSpec from_json(const core::Json& j);
};

}  // namespace tutti::models
