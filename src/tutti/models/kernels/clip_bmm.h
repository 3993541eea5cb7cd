// Batched matrix product for the many small per-clip products of the graph models.
//
// ATen's CPU bmm without MKL (the Debian LibTorch) runs one dispatched mm per batch item: for
// MMGAT's [30 x 10] x [10 x 128] per-clip products that per-item overhead was about a third of a
// training step (docs/benchmarks.md). clip_bmm computes the same product with one loop over the
// batch (items in parallel, each summed in a fixed order: thread-count independent) and its own
// backward. Float32 CPU tensors only; anything else goes to torch::bmm.
#pragma once

#include <torch/torch.h>

namespace tutti::models {

// a [B,M,K] x b [B,K,N] -> [B,M,N], differentiable in both arguments.
torch::Tensor clip_bmm(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace tutti::models
