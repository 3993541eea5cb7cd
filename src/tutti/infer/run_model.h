// Running a neural bag model over a whole dataset for inference (LibTorch; include only in .cpp
// files of infer and train). Never trains: eval mode, no autograd.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/models/bag_model.h"

namespace tutti::infer {

// Clip probabilities and, optionally, per-instance outputs of a model on a dataset, computed in
// eval mode without autograd in chunks of `chunk` clips (ATT on the CPU: the fused eval kernel,
// models/kernels/att_fused.h). Clips without instances get 0 scores.
struct NeuralOutputs {
  torch::Tensor clip;       // [N,C]
  torch::Tensor instance;   // [N,K,C] or undefined
  torch::Tensor attention;  // [N,K,C] or undefined
  torch::Tensor embedding;  // [N,E] or undefined
};
NeuralOutputs run_model(models::BagModelImpl& model, const data::BagDataset& ds,
                        bool with_instances, std::int64_t chunk = 2048);

// Loads weights.pt bytes (torch::serialize archive of parameters and buffers, as written by
// train::save_weights) into `model`. `what` names the model file in errors.
void load_weights(models::BagModelImpl& model, const std::vector<std::uint8_t>& bytes,
                  const std::string& what);

}  // namespace tutti::infer
