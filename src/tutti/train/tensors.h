// A bag dataset as LibTorch tensors, converted once (LibTorch; include only in train/*.cpp).
#pragma once

#include <torch/torch.h>

#include "tutti/data/bag_dataset.h"

namespace tutti::train {

struct BagTensors {
  torch::Tensor x;       // [N,K,D] float32: uint8 / 255, float32 as-is; 0 at padding
  torch::Tensor mask;    // [N,K] bool, true = real instance
  torch::Tensor y;       // [N,C] float32 targets: 1 when relevance >= 0.5 (OpenMIC convention)
  torch::Tensor y_mask;  // [N,C] float32 1 = label known
  std::int64_t size() const { return x.size(0); }
};

// Converts `ds` (all clips). `what` names the dataset in errors.
BagTensors to_tensors(const data::BagDataset& ds);

// Rows `idx` of every tensor (index_select along dim 0).
BagTensors select_rows(const BagTensors& t, const torch::Tensor& idx);

// Sum over known entries of the binary cross-entropy between clip probabilities p [B,C] and
// targets y [B,C], and the number of known entries (the loss is sum / count).
torch::Tensor masked_bce_sum(const torch::Tensor& p, const torch::Tensor& y,
                             const torch::Tensor& y_mask);

}  // namespace tutti::train
