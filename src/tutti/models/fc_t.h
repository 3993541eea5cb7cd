// FC_T: per-instance fully connected network with a residual connection, mean-pooled over the
// bag's real instances (the "FC-T" baseline of Gururani et al., ISMIR 2019). See docs/models.md.
#pragma once

#include "tutti/models/bag_model.h"

namespace tutti::models {

struct FcTOptions {
  double dropout = 0;           // after each hidden linear, before the activation
  double negative_slope = 0;    // LeakyReLU slope
  std::int64_t num_layers = 0;  // hidden blocks [linear D->D, dropout, LeakyReLU]

  // Reads spec.options through the declaration (model_decl.h: defaults, ranges); unknown keys
  // -> UsageError.
  static FcTOptions from_spec(const ModelSpec& spec);
};

class FcTImpl : public BagModelImpl {
 public:
  explicit FcTImpl(ModelSpec spec);
  // x [B,K,D], mask [B,K] -> clip [B,C], instance [B,K,C], embedding [B,D]; no attention
  BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  // Xavier-normal weights, zero biases.
  void reset_parameters();
  const FcTOptions& options() const { return options_; }

 private:
  FcTOptions options_;
  std::vector<torch::nn::Linear> linears_;
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(FcT);

}  // namespace tutti::models
