// A bag dataset as LibTorch tensors, converted once (LibTorch; include only in train/*.cpp).
#pragma once

#include <torch/torch.h>

#include "tutti/data/bag_dataset.h"

namespace tutti::models {

struct BagTensors {
  torch::Tensor x;       // [N,K,D] float32: uint8 / 255, float32 as-is; 0 at padding
  torch::Tensor mask;    // [N,K] bool, true = real instance
  torch::Tensor y;       // [N,C] float32 targets: 1 when relevance >= 0.5 (OpenMIC convention)
  torch::Tensor y_mask;  // [N,C] float32 1 = label known
  std::int64_t size() const { return y.size(0); }
};

// Converts `ds` (all clips). Without `features`, x stays undefined (no float copy of the data:
// the fused ATT engine reads the dataset itself through a BagSource).
BagTensors to_tensors(const data::BagDataset& ds, bool features = true);

// Rows `idx` of every tensor (index_select along dim 0).
BagTensors select_rows(const BagTensors& t, const torch::Tensor& idx);

// A borrowed, torch-free view of a dataset's arrays (the dataset must outlive it).
struct BagSource {
  std::int64_t n = 0, k = 0, d = 0, c = 0;
  const std::uint8_t* x_u8 = nullptr;  // [N,K,D] when the features are uint8 (scaled by 1/255)
  const float* x_f32 = nullptr;        // [N,K,D] when they are float32
  const std::int32_t* n_instances = nullptr;  // [N]; the real instances come first
  const float* y_true = nullptr;              // [N,C] relevance (positive when >= 0.5)
  const std::uint8_t* y_mask = nullptr;       // [N,C] 1 = known
  static BagSource of(const data::BagDataset& ds);
};

// Sum over known entries of the binary cross-entropy between clip probabilities p [B,C] and
// targets y [B,C], and the number of known entries (the loss is sum / count).
torch::Tensor masked_bce_sum(const torch::Tensor& p, const torch::Tensor& y,
                             const torch::Tensor& y_mask);

}  // namespace tutti::models
