// A fused CPU kernel for the ATT model (LibTorch): the training step for train/ and the eval
// forward for infer/.
//
// Same mathematics as models::AttImpl::forward + autograd, on the module's
// own parameters and buffers (looked up by name), with the backward pass written out by hand:
// the three hidden blocks [linear -> batch-norm -> ReLU -> dropout], the residual, the
// attention/classifier heads (one matrix product for both), the per-bag attention pooling and the
// masked BCE loss are a few loops over contiguous [M, D] work buffers around the BLAS products,
// with no autograd graph, no boolean index/scatter kernels and no per-batch allocation (the
// buffers are kept and grown). Gradients match autograd (tests/train/test_att_fused.cpp) to float
// rounding; batch-norm running statistics are updated as torch::nn::BatchNorm1d does (momentum
// 0.1, unbiased running variance).
//
// Batches are read straight from the dataset (uint8 / 255 or float32, converted per batch): the
// caller needs no float copy of the data. Threads: each batch is cut into at::get_num_threads()
// parts at bag boundaries and every phase runs on the parts in parallel (one matrix product per
// part, per-part partial sums combined in a fixed order), so results depend on the thread count
// but are bit-identical between runs with the same count. The engine expects BLAS itself to be
// single-threaded (OPENBLAS_NUM_THREADS=1, which the tutti program sets).
//
// Dropout masks come from a counter-based generator seeded once (seed), so runs are reproducible;
// they differ from torch's generator (the fused and autograd paths give different, equally valid,
// runs).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "tutti/models/bag_model.h"
#include "tutti/models/bag_tensors.h"

namespace tutti::models {

class AttFused {
 public:
  // Throws tutti::Error when `model` is not an ATT module. Keeps a reference to the module.
  AttFused(models::BagModelImpl& model, std::uint64_t seed);

  static bool supports(const models::BagModelImpl& model);
  // The dropout generator's position (steps taken): saved and restored by training checkpoints.
  std::uint64_t dropout_counter() const { return counter_; }
  void set_dropout_counter(std::uint64_t c) { counter_ = c; }
  // Training targets y (1 - e) + e / 2 instead of 0/1 (label smoothing); e = 0 by default.
  void set_label_smoothing(float e) { smoothing_ = e; }
  // Training targets read from a BagSource: y_true as it is (soft targets in [0, 1], e.g. a
  // teacher's probabilities) instead of y_true >= 0.5. Off by default.
  void set_soft_targets(bool on) { soft_targets_ = on; }
  // Per-class loss weights [C] of the known labels read from a BagSource (the loss is then
  // sum w BCE / sum w over the known labels); empty = every known label weighs 1 (default).
  void set_class_weights(std::vector<float> w) { class_weights_ = std::move(w); }

  struct StepLoss {
    double bce_sum = 0;  // sum of BCE over known labels
    double known = 0;    // number of known labels
  };
  // Training forward + backward on the clips `rows` of `src` (in that order). Sets .grad of every
  // parameter to d(loss)/d(param) for loss = bce_sum / max(known, 1), and updates the batch-norm
  // running statistics. In data-parallel training (set_cross_process_sum) `rows` is this
  // process's share of the global batch, whose real instances before it number instance_offset:
  // the dropout masks are keyed by that global position, and the gradients are this share's part
  // of the global batch's (summing them over the processes gives the global batch's gradient).
  StepLoss train_step(const BagSource& src, std::span<const std::int64_t> rows,
                      std::int64_t instance_offset = 0);
  // Data-parallel training: `sum` adds a vector element-wise over the processes, in place. Batch
  // normalization (statistics and their gradients) and the loss normalization then cover the
  // global batch, as one process training on all of it would (synchronized batch-norm).
  using CrossProcessSum = std::function<void(std::span<double>)>;
  void set_cross_process_sum(CrossProcessSum sum) { cross_sum_ = std::move(sum); }
  // The same on tensors: x [B,K,D] float, mask [B,K] bool, y [B,C] targets in [0, 1], y_mask
  // [B,C] float: 0 = unknown, else the label's loss weight (1 for a plain known label).
  StepLoss train_step(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& y,
                      const torch::Tensor& y_mask);

  // Eval-mode forward (running statistics, no dropout) of the clips [begin, end) of `src`, as
  // AttImpl::forward in eval mode. Writes clip [end-begin, C]; instance / attention [.., K, C]
  // and embedding [.., D] when not null (these must be zero on entry: padding is not written).
  // Clips without instances get clip 0.
  struct EvalOut {
    float* clip = nullptr;
    float* instance = nullptr;
    float* attention = nullptr;
    float* embedding = nullptr;
  };
  void eval_rows(const BagSource& src, std::int64_t begin, std::int64_t end, const EvalOut& out);
  // The same on tensors (x [B,K,D] float, mask [B,K] bool). Instance outputs only when asked.
  models::BagOutput forward_eval(const torch::Tensor& x, const torch::Tensor& mask,
                                 bool with_instances);

 private:
  struct Block {
    torch::Tensor w;                                         // [D,D] linear weight (no bias)
    torch::Tensor g, b, running_mean, running_var, tracked;  // batch-norm
  };
  // The real instances of one batch, gathered as float rows.
  struct Gathered {
    std::int64_t nb = 0, m = 0;
    std::vector<std::int64_t> offset;  // [nb+1] first row of each bag
    std::vector<std::int64_t> pos;     // [m] b*K + t: the instance's place in the [nb,K] batch
    std::vector<std::int64_t> src;     // [m] index of its feature row in the source
    const std::uint8_t* x_u8 = nullptr;
    const float* x_f32 = nullptr;
    std::vector<float> y, ym;  // [nb,C] targets 0/1 and known-label mask 0/1
    double known = 0;
  };
  void gather_source(const BagSource& src, std::span<const std::int64_t> rows, bool labels);
  void gather_tensors(const torch::Tensor& x, const torch::Tensor& mask);
  void set_parts();
  void copy_rows(std::int64_t p, float* raw) const;
  void fill_heads();
  StepLoss train_core(std::int64_t instance_offset);
  void eval_core(const EvalOut& out);
  float* buffer(std::size_t i, std::int64_t rows, std::int64_t cols);

  models::BagModelImpl& model_;
  double dropout_;
  float smoothing_ = 0;
  bool soft_targets_ = false;
  std::vector<float> class_weights_;
  std::uint64_t seed_;
  std::uint64_t counter_ = 0;
  CrossProcessSum cross_sum_;
  std::int64_t d_ = 0, c_ = 0;
  Block in_;                         // input batch-norm (w undefined)
  std::vector<Block> blocks_;        // hidden blocks
  std::vector<torch::Tensor> wd_;    // detached aliases of the block weights (for BLAS calls)
  torch::Tensor wa_, ba_, wc_, bc_;  // attention / classifier heads [C,D], [C]
  torch::Tensor wcat_, bcat_;        // both heads stacked: [2C,D], [2C]

  Gathered gb_;
  std::int64_t parts_ = 1;
  std::vector<std::int64_t> part_bag_;  // [parts_+1] first bag of each part
  std::vector<torch::Tensor> bufs_;     // work buffers, grown as needed
};

// The engine's ReLU + dropout on elements q0..q1 of a buffer (exposed for its test):
// u = u * keep_scale if u > 0 and element q is kept, else 0; q is kept when the 16 bits
// [16 (q & 3), 16 (q & 3) + 16) of splitmix64(base + (q & ~3)) are below keep_below
// (keep probability keep_below / 65536).
void relu_dropout(float* u, std::uint64_t base, std::int64_t q0, std::int64_t q1,
                  std::uint32_t keep_below, float keep_scale);

}  // namespace tutti::models
