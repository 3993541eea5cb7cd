// An exponential moving average of a model's weights during training (Polyak & Juditsky 1992;
// the "EMA of weights" of Tarvainen & Valpola, "Mean teachers are better role models", NeurIPS
// 2017, and of timm's ModelEma), a one-model relative of stochastic weight averaging (Izmailov et
// al., UAI 2018): `tutti train --ema D` validates, selects and writes the averaged weights.
//
//   WeightAverage avg(0.999);
//   ... after every optimizer step:  avg.update(live);
//   avg.swap(live); validate(model); avg.swap(live);   // validation sees the averaged weights
//
// Update 0 copies the weights w; update n >= 1 sets avg <- d_n avg + (1 - d_n) w with
// d_n = min(D, (1 + n) / (10 + n)), the warm-up of TensorFlow's
// tf.train.ExponentialMovingAverage(num_updates=n), so that the early average follows the fast
// early changes instead of being held by the first steps' weights. Floating
// tensors (parameters, batch-norm running statistics) are averaged; integer buffers (batch-norm's
// step counter) take the live value. LibTorch: include only in train/*.cpp and tests.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tutti::train {

class WeightAverage {
 public:
  // decay in [0, 1); 0 averages nothing (every update copies).
  explicit WeightAverage(double decay);

  // One update with the live tensors (the same list, in the same order, every time).
  void update(const std::vector<torch::Tensor>& live);
  // Exchanges the contents of `live` and the average (twice leaves both as they were). Throws
  // tutti::Error before the first update.
  void swap(const std::vector<torch::Tensor>& live);

  // d_n, the decay of update n >= 1.
  double decay_at(std::int64_t n) const;
  std::int64_t updates() const { return updates_; }
  const std::vector<torch::Tensor>& tensors() const { return avg_; }
  // A checkpoint's average and update count back (tensors empty with updates 0: none yet).
  void restore(const std::vector<torch::Tensor>& tensors, std::int64_t updates);

 private:
  double decay_;
  std::int64_t updates_ = 0;
  std::vector<torch::Tensor> avg_;
};

}  // namespace tutti::train
