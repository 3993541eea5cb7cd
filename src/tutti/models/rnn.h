// RNN: a bidirectional multi-layer GRU over the bag's instances in time order; the clip feature is
// the final state of each direction after reading exactly the real instances (packed sequences,
// so padding never enters). The "RNN" baseline of Gururani et al., ISMIR 2019; see docs/models.md.
#pragma once

#include "tutti/models/bag_model.h"

namespace tutti::models {

struct RnnOptions {
  std::int64_t hidden_size = 0;  // GRU units per direction
  std::int64_t num_layers = 0;   // stacked bidirectional GRU layers
  double dropout = 0;            // between GRU layers (training only)

  // Reads spec.options through the declaration (model_decl.h: defaults, ranges); unknown keys
  // -> UsageError.
  static RnnOptions from_spec(const ModelSpec& spec);
};

class RnnImpl : public BagModelImpl {
 public:
  explicit RnnImpl(ModelSpec spec);
  // x [B,K,D], mask [B,K] (real instances first: mask[b] = [1..1 0..0]) -> clip [B,C],
  // instance [B,K,C], embedding [B,2H]; no attention. Throws tutti::Error for a mask with a gap.
  BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  const RnnOptions& options() const { return options_; }

 private:
  RnnOptions options_;
  torch::nn::GRU gru_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};
TORCH_MODULE(Rnn);

}  // namespace tutti::models
