// Process-wide LibTorch settings shared by training and inference (LibTorch; include only in .cpp
// files of embed, models, train and infer).
#pragma once

#include <torch/torch.h>

#include <string>

namespace tutti::models {

// Sets LibTorch's intra-op threads (threads > 0; 0 = all cores) and the allocator policy below,
// and returns the device for `device` ("cpu" or "cuda"). Throws tutti::UsageError for cuda
// without a CUDA build of LibTorch or a visible device, and for any other name.
torch::Device setup_torch(int threads, const std::string& device = "cpu");

}  // namespace tutti::models
