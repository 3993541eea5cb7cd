// The interface every neural bag model implements (LibTorch). Include only where torch is needed.
//
// A batch is x [B, K, D] float (features scaled to [0, 1]) with mask [B, K] bool (true = real
// instance, false = padding). Padded instances take no part in any sum, mean, softmax or
// batch-norm statistic.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "tutti/models/model_spec.h"

namespace tutti::models {

struct BagOutput {
  torch::Tensor clip;       // [B, C] clip-level probabilities
  torch::Tensor instance;   // [B, K, C] per-instance probabilities (frame predictions), or undefined
  torch::Tensor attention;  // [B, K, C] normalized attention weights (0 at padding), or undefined
  torch::Tensor embedding;  // [B, E] pre-classifier clip feature (t-SNE), or undefined
};

class BagModelImpl : public torch::nn::Module {
 public:
  ~BagModelImpl() override = default;
  // [B,K,D], [B,K] -> BagOutput
  virtual BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) = 0;
  // Extra loss terms beyond the masked BCE on `clip` (e.g. MMGAT's auxiliary and center losses).
  // y [B, C] float targets, y_mask [B, C] bool. Undefined tensor = none.
  virtual torch::Tensor extra_loss(const BagOutput& /*out*/, const torch::Tensor& /*y*/,
                                   const torch::Tensor& /*y_mask*/) {
    return {};
  }
  const ModelSpec& spec() const { return spec_; }

 protected:
  explicit BagModelImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  ModelSpec spec_;
};

using BagModel = std::shared_ptr<BagModelImpl>;

// Builds a freshly initialized model by spec.name; throws tutti::UsageError for an unknown name or
// an option the model does not have. Initialization draws from torch's global generator: seed it
// first (torch::manual_seed) for reproducible weights.
BagModel make_model(const ModelSpec& spec);

// Number of trainable parameters.
std::int64_t count_parameters(const torch::nn::Module& m);

}  // namespace tutti::models
