#include "tutti/train/fused_adam.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"

namespace tutti::train {

namespace {
constexpr std::int64_t kGrain = 8192;  // elements per parallel chunk
}  // namespace

FusedAdam::FusedAdam(std::vector<torch::Tensor> params) : params_(std::move(params)) {
  check(supports(params_), "FusedAdam: parameters must be float32 CPU tensors");
  for (const auto& p : params_) {
    m_.emplace_back(static_cast<std::size_t>(p.numel()), 0.0f);
    v_.emplace_back(static_cast<std::size_t>(p.numel()), 0.0f);
  }
}

bool FusedAdam::supports(const std::vector<torch::Tensor>& params) {
  for (const auto& p : params)
    if (!p.device().is_cpu() || p.scalar_type() != torch::kFloat32 || !p.is_contiguous())
      return false;
  return true;
}

void FusedAdam::zero_grad() {
  for (auto& p : params_) p.mutable_grad() = torch::Tensor();
}

FusedAdam::State FusedAdam::state() const {
  State s;
  s.steps = steps_;
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto n = static_cast<std::int64_t>(m_[i].size());
    s.m.push_back(torch::from_blob(const_cast<float*>(m_[i].data()), {n}, torch::kFloat32).clone());
    s.v.push_back(torch::from_blob(const_cast<float*>(v_[i].data()), {n}, torch::kFloat32).clone());
  }
  return s;
}

void FusedAdam::load_state(const State& s) {
  check(s.m.size() == params_.size() && s.v.size() == params_.size(),
        "FusedAdam: state of {} tensors for {} parameters", s.m.size(), params_.size());
  for (std::size_t i = 0; i < params_.size(); ++i) {
    const auto n = static_cast<std::int64_t>(m_[i].size());
    for (const auto* t : {&s.m[i], &s.v[i]})
      check(t->scalar_type() == torch::kFloat32 && t->numel() == n,
            "FusedAdam: state tensor {} has {} values, expected {} float32", i, t->numel(), n);
    const auto m = s.m[i].contiguous(), v = s.v[i].contiguous();
    std::copy_n(m.data_ptr<float>(), n, m_[i].data());
    std::copy_n(v.data_ptr<float>(), n, v_[i].data());
  }
  steps_ = s.steps;
}

void FusedAdam::step(const Options& o) {
  torch::NoGradGuard ng;
  ++steps_;
  const double bc1 = 1 - std::pow(o.beta1, static_cast<double>(steps_));
  const double bc2 = 1 - std::pow(o.beta2, static_cast<double>(steps_));
  const float step_size = static_cast<float>(o.lr / bc1);
  const float bc2_sqrt = static_cast<float>(std::sqrt(bc2));
  const float b1 = static_cast<float>(o.beta1), b2 = static_cast<float>(o.beta2);
  const float omb1 = static_cast<float>(1 - o.beta1), omb2 = static_cast<float>(1 - o.beta2);
  const float wd = static_cast<float>(o.weight_decay), eps = static_cast<float>(o.eps);
  for (std::size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i];
    if (!p.grad().defined()) continue;
    const auto g = p.grad().contiguous();
    float* w = p.data_ptr<float>();
    const float* gr = g.data_ptr<float>();
    float* mm = m_[i].data();
    float* vv = v_[i].data();
    // Element-wise: the same bits for any split over the threads.
    at::parallel_for(0, p.numel(), kGrain, [&](std::int64_t q0, std::int64_t q1) {
      for (std::int64_t q = q0; q < q1; ++q) {
        const float gq = gr[q] + wd * w[q];
        mm[q] = mm[q] * b1 + omb1 * gq;
        vv[q] = vv[q] * b2 + omb2 * gq * gq;
        const float denom = std::sqrt(vv[q]) / bc2_sqrt + eps;
        w[q] -= step_size * (mm[q] / denom);
      }
    });
  }
}

}  // namespace tutti::train
