// Data-parallel training over a dist::ProcessGroup (LibTorch; include only in train/*.cpp).
//
// Each process holds the whole dataset and draws the same seeded batch order; the global batch
// (per-process --batch-size times the world size) is cut into contiguous shares, one per rank.
// Gradients are this share's part of the global batch's loss gradient, summed over the ranks in
// flat buckets, so every rank makes the same optimizer step: world 2 x batch 64 trains as world 1
// x batch 128 (tests/dist).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "tutti/dist/process_group.h"

namespace tutti::train {

class DataParallel {
 public:
  // Floats per allreduce call: large enough that latency does not dominate, small enough to
  // bound the extra copy.
  static constexpr std::int64_t kBucketFloats = std::int64_t{1} << 20;

  explicit DataParallel(dist::ProcessGroup& group) : group_(group) {}

  int rank() const { return group_.rank(); }
  int world_size() const { return group_.world_size(); }
  dist::ProcessGroup& group() { return group_; }

  // [begin, end) of rows [s, e) of the global batch that this rank trains on.
  std::pair<std::int64_t, std::int64_t> share(std::int64_t s, std::int64_t e) const {
    const std::int64_t n = e - s, w = world_size(), r = rank();
    return {s + n * r / w, s + n * (r + 1) / w};
  }
  // Rank 0's parameters and buffers on every rank.
  void broadcast_state(torch::nn::Module& m);
  // Sums every parameter's gradient over the ranks (undefined where no rank has one).
  void allreduce_grads(const std::vector<torch::Tensor>& params);
  void sum(std::span<double> v) { group_.allreduce_sum(v); }
  void sum(std::span<float> v) { group_.allreduce_sum(v); }

 private:
  dist::ProcessGroup& group_;
  std::vector<float> bucket_;
};

}  // namespace tutti::train
