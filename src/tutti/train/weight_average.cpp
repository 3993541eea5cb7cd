#include "tutti/train/weight_average.h"

#include <algorithm>

#include "tutti/core/error.h"

namespace tutti::train {

WeightAverage::WeightAverage(double decay) : decay_(decay) {
  check(decay >= 0 && decay < 1, "weight average: decay {} outside [0, 1)", decay);
}

double WeightAverage::decay_at(std::int64_t n) const {
  return std::min(decay_, (1.0 + static_cast<double>(n)) / (10.0 + static_cast<double>(n)));
}

void WeightAverage::update(const std::vector<torch::Tensor>& live) {
  torch::NoGradGuard ng;
  if (avg_.empty()) {
    for (const auto& t : live) avg_.push_back(t.detach().clone());
  } else {
    check(avg_.size() == live.size(), "weight average: {} tensors, {} live", avg_.size(),
          live.size());
    const double d = decay_at(updates_);
    for (std::size_t i = 0; i < live.size(); ++i) {
      if (avg_[i].is_floating_point())
        avg_[i].mul_(d).add_(live[i].detach(), 1.0 - d);
      else
        avg_[i].copy_(live[i]);
    }
  }
  ++updates_;
}

void WeightAverage::swap(const std::vector<torch::Tensor>& live) {
  check(!avg_.empty(), "weight average: nothing averaged yet");
  check(avg_.size() == live.size(), "weight average: {} tensors, {} live", avg_.size(),
        live.size());
  torch::NoGradGuard ng;
  for (std::size_t i = 0; i < live.size(); ++i) {
    const auto tmp = live[i].detach().clone();
    live[i].copy_(avg_[i]);
    avg_[i].copy_(tmp);
  }
}

void WeightAverage::restore(const std::vector<torch::Tensor>& tensors, std::int64_t updates) {
  avg_.clear();
  for (const auto& t : tensors) avg_.push_back(t.clone());
  updates_ = updates;
}

}  // namespace tutti::train
