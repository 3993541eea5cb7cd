// Adam in one pass per parameter tensor, without temporaries (LibTorch tensors, CPU float32).
//
// PyTorch semantics, as torch::optim::Adam without amsgrad: L2 weight decay added to the
// gradient, bias corrections, eps added to sqrt(v_hat); parameters without a gradient are
// skipped. torch::optim::Adam runs ~10 dispatched ops per parameter tensor and step, which for
// MMGAT's 40-odd tensors was about 5 % of an epoch. Used by the fused ATT engine and by MMGAT
// training (docs/training.md); tests/train/test_att_fused_engine.cpp checks it against
// torch::optim::Adam.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace tutti::train {

class FusedAdam {
 public:
  struct Options {
    double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  };
  // Keeps the tensors (they share storage with the module's parameters); moments start at zero.
  explicit FusedAdam(std::vector<torch::Tensor> params);
  // Whether every tensor is a float32 CPU tensor.
  static bool supports(const std::vector<torch::Tensor>& params);

  void step(const Options& o);
  // Drops every gradient, so that the next backward writes fresh ones (no zeroing pass).
  void zero_grad();

  // The first and second moments (one 1-D float tensor per parameter tensor) and the step count:
  // what a checkpoint keeps (train/checkpoint.h).
  struct State {
    std::vector<torch::Tensor> m, v;
    std::int64_t steps = 0;
  };
  State state() const;
  // Throws tutti::Error when the tensors' number or sizes differ from the parameters'.
  void load_state(const State& s);

 private:
  std::vector<torch::Tensor> params_;
  std::vector<std::vector<float>> m_, v_;
  std::int64_t steps_ = 0;
};

}  // namespace tutti::train
