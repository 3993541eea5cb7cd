// Torch-free description of a model: what to build, for which data. Stored in model files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::models {

struct ModelSpec {
  std::string name;               // "att", "fc_t", "fc", "rnn", "rf", "mmgat", ...
  std::int64_t input_dim = 128;   // D
  std::int64_t num_classes = 20;  // C
  std::int64_t max_instances = 10;  // K (the bag length FC is built for; others accept any)
  core::Json options = core::Json::object();  // model-specific hyperparameters

  core::Json to_json() const;
  static ModelSpec from_json(const core::Json& j);
};

// The registered model names, in documentation order.
std::vector<std::string> model_names();
// True for models that need every bag to have exactly max_instances instances (FC).
bool requires_fixed_length(const std::string& name);

}  // namespace tutti::models
