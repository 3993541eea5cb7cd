// FC: a multilayer perceptron on the whole flattened clip (K x D -> C), the "FC" baseline of
// Gururani et al., ISMIR 2019. Needs fixed-length bags (exactly spec.max_instances real
// instances); see docs/models.md.
#pragma once

#include "tutti/models/bag_model.h"

namespace tutti::models {

struct FcOptions {
  std::vector<std::int64_t> hidden;  // hidden layer widths
  double dropout = 0;                // after each hidden linear, before the activation
  double negative_slope = 0;         // LeakyReLU slope

  // Reads spec.options through the declaration (model_decl.h: defaults, ranges); unknown keys
  // -> UsageError.
  static FcOptions from_spec(const ModelSpec& spec);
};

class FcImpl : public BagModelImpl {
 public:
  explicit FcImpl(ModelSpec spec);
  // x [B,K,D] with K == max_instances and mask [B,K] all true -> clip [B,C], embedding [B,H_last];
  // no instance or attention output. Throws tutti::Error for variable-length bags.
  BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  // Xavier-normal weights, zero biases (as FC_T).
  void reset_parameters();
  const FcOptions& options() const { return options_; }

 private:
  FcOptions options_;
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Fc);

}  // namespace tutti::models
