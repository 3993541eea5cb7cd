// ATT: multi-level attention model for weakly labeled bags (Kong et al., "Audio Set classification
// with attention model: a probabilistic perspective", ICASSP 2018; the OpenMIC-2018 baseline
// variant of Gururani et al., ISMIR 2019). Definition, shapes and choices: docs/models.md.
#pragma once

#include "tutti/models/bag_model.h"

namespace tutti::models {

struct AttOptions {
  double dropout = 0;           // after each hidden block's ReLU
  std::int64_t num_layers = 0;  // hidden blocks [linear D->D (no bias), batch-norm, ReLU, dropout]

  // Reads spec.options through the declaration (model_decl.h: defaults, ranges); unknown keys
  // -> UsageError.
  static AttOptions from_spec(const ModelSpec& spec);
};

class AttImpl : public BagModelImpl {
 public:
  explicit AttImpl(ModelSpec spec);
  // x [B,K,D], mask [B,K] -> clip [B,C], instance c [B,K,C], attention [B,K,C], embedding [B,D]
  BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  // Weights uniform in +-sqrt(6 / fan_in), biases 0, batch-norm scale 1 and shift 0.
  void reset_parameters();
  const AttOptions& options() const { return options_; }

 private:
  AttOptions options_;
  torch::nn::BatchNorm1d input_bn_{nullptr};
  std::vector<torch::nn::Linear> linears_;
  std::vector<torch::nn::BatchNorm1d> bns_;
  torch::nn::Linear attention_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Att);

}  // namespace tutti::models
