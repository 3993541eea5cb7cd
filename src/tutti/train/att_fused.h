// A fused CPU engine for the ATT model (LibTorch; train-internal).
//
// Same mathematics as models::AttImpl::forward + autograd, on the module's own parameters and
// buffers (looked up by name), but with the backward pass written out by hand: the three hidden
// blocks [linear -> batch-norm -> ReLU -> dropout], the residual, the attention/classifier heads,
// the per-bag attention pooling and the masked BCE loss each become one or two loops over
// contiguous [M, D] buffers around the BLAS matrix products, with no autograd graph, no boolean
// index/scatter kernels and no per-op allocation. Gradients match autograd (tests/train/
// test_att_fused.cpp) to float rounding; batch-norm running statistics are updated exactly as
// torch::nn::BatchNorm1d does (momentum 0.1, unbiased running variance).
//
// Dropout masks come from a counter-based generator seeded once (cfg.seed), so runs are
// reproducible; they differ from torch's generator (the fused and autograd paths give different,
// equally valid, runs).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "tutti/models/bag_model.h"

namespace tutti::train {

class AttFused {
 public:
  // Throws tutti::Error when `model` is not an ATT module. Keeps a reference to the module.
  AttFused(models::BagModelImpl& model, std::uint64_t seed);

  static bool supports(const models::BagModelImpl& model);

  struct StepLoss {
    double bce_sum = 0;  // sum of BCE over known labels
    double known = 0;    // number of known labels
  };
  // Training forward + backward on one batch: x [B,K,D] float, mask [B,K] bool, y [B,C] 0/1,
  // y_mask [B,C] 0/1 float. Sets .grad of every parameter to d(loss)/d(param) for
  // loss = bce_sum / max(known, 1), and updates the batch-norm running statistics.
  StepLoss train_step(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& y,
                      const torch::Tensor& y_mask);

  // Eval-mode forward (running statistics, no dropout): as AttImpl::forward in eval mode.
  // Bags without instances get clip 0 (and zeros elsewhere). Instance outputs only when asked.
  models::BagOutput forward_eval(const torch::Tensor& x, const torch::Tensor& mask,
                                 bool with_instances);

 private:
  struct Block {
    torch::Tensor w;                                  // [D,D] linear weight (no bias)
    torch::Tensor g, b, running_mean, running_var, tracked;  // batch-norm
  };
  models::BagModelImpl& model_;
  double dropout_;
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
  Block in_;                  // input batch-norm (w undefined)
  std::vector<Block> blocks_;  // hidden blocks
  torch::Tensor wa_, ba_, wc_, bc_;  // attention / classifier heads [C,D], [C]

  // Work buffers, reused between batches (grown as needed).
  std::vector<float> buf_;
};

}  // namespace tutti::train
