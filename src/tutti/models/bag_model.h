// The interface every neural bag model implements (LibTorch). Include only where torch is needed.
//
// A batch is x [B, K, D] float32 (features scaled to [0, 1]) with mask [B, K] bool (true = real
// instance, false = padding). Padded instances take no part in any sum, mean, softmax or
// batch-norm statistic, so appending padding never changes an output. Every bag needs at least one
// real instance.
//
//   torch::manual_seed(seed);                        // initialization draws from torch's RNG
//   BagModel m = make_model({.name = "att", .input_dim = 128, .num_classes = 20});
//   m->eval();
//   BagOutput out = m->forward(x, mask);             // out.clip [B, C]
//
// Models: the neural ones declared in model_decl.h (att.h, fc_t.h, fc.h, rnn.h, mmgat.h and the
// mmgat aliases); see docs/models.md.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <memory>
#include <span>
#include <string>

#include "tutti/models/model_spec.h"

namespace tutti::models {

struct BagOutput {
  torch::Tensor clip;      // [B, C] clip-level probabilities
  torch::Tensor instance;  // [B, K, C] per-instance probabilities (frame predictions), or undefined
  torch::Tensor attention;  // [B, K, C] normalized attention weights (0 at padding), or undefined
  torch::Tensor embedding;  // [B, E] pre-classifier clip feature (t-SNE), or undefined
};

// Data-parallel training (train/data_parallel.h): this process trains rows [clip_offset,
// clip_offset + B) of a global batch of global_clips clips, and `sum` adds a float vector
// element-wise over the processes, in place (a collective: every process calls it in the same
// order). Inactive: one process trains the whole batch.
struct LossShare {
  bool active = false;
  std::int64_t clip_offset = 0, global_clips = 0;
  std::function<void(std::span<float>)> sum;
};

class BagModelImpl : public torch::nn::Module {
 public:
  ~BagModelImpl() override = default;
  // [B,K,D], [B,K] -> BagOutput
  virtual BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) = 0;
  // Extra loss terms beyond the masked BCE on `clip` (e.g. MMGAT's auxiliary and center losses).
  // y [B, C] float targets, y_mask [B, C] bool. Undefined tensor = none. With an active `share`
  // the result is this process's part of the global batch's extra loss (normalized by global
  // counts, random masks keyed by the global row, state updates summed over the processes), so
  // that the parts sum to what one process computes on the whole batch.
  virtual torch::Tensor extra_loss(const BagOutput& /*out*/, const torch::Tensor& /*y*/,
                                   const torch::Tensor& /*y_mask*/,
                                   const LossShare& /*share*/ = {}) {
    return {};
  }
  const ModelSpec& spec() const { return spec_; }
  // Whether forward/backward use the model's fused CPU ops (models with Engine::kFusedOps in
  // their declaration); the others have none and ignore it.
  virtual void set_fused(bool /*on*/) {}

 protected:
  explicit BagModelImpl(ModelSpec spec) : spec_(std::move(spec)) {}
  ModelSpec spec_;
};

using BagModel = std::shared_ptr<BagModelImpl>;

// Builds a freshly initialized model by spec.name (an alias becomes its model with the alias's
// options: the model's spec() holds the resolved spec); throws tutti::UsageError for an unknown
// name, the forest, an invalid size or an option the model does not have. Initialization draws
// from torch's global generator: seed it first (torch::manual_seed) for reproducible weights.
BagModel make_model(const ModelSpec& spec);
// True when make_model can build `name` (a declared neural model or an alias of one).
bool has_model_class(const std::string& name);

// Number of trainable parameters.
std::int64_t count_parameters(const torch::nn::Module& m);

// Checks a batch for the model described by `spec`: x [B, K, D] float32 with D == spec.input_dim,
// mask [B, K] bool on x's device, B >= 1, K >= 1, and every bag with at least one real instance.
// Throws tutti::Error naming the model and the bad shape/value.
void check_batch(const ModelSpec& spec, const torch::Tensor& x, const torch::Tensor& mask);

// Sum over the instance axis of v [B, K, F] counting only real instances (mask [B, K]) -> [B, F].
torch::Tensor masked_sum(const torch::Tensor& v, const torch::Tensor& mask);

// Scatters per-instance rows of the real instances, v [M, F] in row-major order of mask [B, K]
// (as produced by x.index({mask})), into a zero-padded [B, K, F] tensor. Differentiable.
torch::Tensor scatter_instances(const torch::Tensor& v, const torch::Tensor& mask);

}  // namespace tutti::models
