#include "tutti/train/data_parallel.h"

#include <algorithm>
#include <cstring>

namespace tutti::train {

namespace {

// Calls f(offset, count) over [0, n) in pieces of at most `bucket` elements.
template <typename F>
void in_buckets(std::int64_t n, std::int64_t bucket, F&& f) {
  for (std::int64_t s = 0; s < n; s += bucket) f(s, std::min(bucket, n - s));
}

}  // namespace

void DataParallel::broadcast_state(torch::nn::Module& m) {
  torch::NoGradGuard ng;
  std::vector<torch::Tensor> ts;
  for (auto& p : m.parameters(true)) ts.push_back(p);
  for (auto& b : m.buffers(true)) ts.push_back(b);
  for (auto& t : ts) {
    // Float tensors travel as they are; others (batch-norm's step counter) as floats, exact below
    // 2^24, which is all a freshly built model holds.
    auto f = t.to(torch::kFloat32).contiguous();
    float* p = f.data_ptr<float>();
    in_buckets(f.numel(), kBucketFloats, [&](std::int64_t s, std::int64_t n) {
      group_.broadcast(std::span<float>(p + s, static_cast<std::size_t>(n)));
    });
    t.copy_(f.to(t.scalar_type()));
  }
}

void DataParallel::allreduce_grads(const std::vector<torch::Tensor>& params) {
  torch::NoGradGuard ng;
  // One flag per tensor after the gradients: whether any rank has a gradient for it.
  std::int64_t total = static_cast<std::int64_t>(params.size());
  for (const auto& p : params) total += p.numel();
  bucket_.assign(static_cast<std::size_t>(total), 0.0f);
  std::int64_t at = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const auto& p = params[i];
    const auto& g = p.grad();
    if (g.defined()) {
      const auto gc = g.to(torch::kFloat32).contiguous();
      std::memcpy(bucket_.data() + at, gc.data_ptr<float>(),
                  static_cast<std::size_t>(p.numel()) * sizeof(float));
      bucket_[static_cast<std::size_t>(total - static_cast<std::int64_t>(params.size()) +
                                       static_cast<std::int64_t>(i))] = 1.0f;
    }
    at += p.numel();
  }
  in_buckets(total, kBucketFloats, [&](std::int64_t s, std::int64_t n) {
    group_.allreduce_sum(std::span<float>(bucket_.data() + s, static_cast<std::size_t>(n)));
  });
  at = 0;
  for (std::size_t i = 0; i < params.size(); ++i) {
    auto p = params[i];
    const bool any =
        bucket_[static_cast<std::size_t>(total - static_cast<std::int64_t>(params.size()) +
                                         static_cast<std::int64_t>(i))] > 0.0f;
    if (any) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
      auto src = torch::from_blob(bucket_.data() + at, p.sizes(), torch::kFloat32);
      p.mutable_grad().copy_(src);
    }
    at += p.numel();
  }
}

}  // namespace tutti::train
