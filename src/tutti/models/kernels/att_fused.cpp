#include "tutti/models/kernels/att_fused.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <typeinfo>

#include "tutti/core/error.h"
#include "tutti/models/att.h"
#include "tutti/models/kernels/hashed_dropout.h"

namespace tutti::models {

namespace {

using models::splitmix64;

constexpr double kBnEps = 1e-5;  // torch::nn::BatchNorm1d defaults
constexpr double kBnMomentum = 0.1;
constexpr float kAttMin = 1e-7f, kAttMax = 1.0f - 1e-7f;  // AttImpl's clamp of the attention
constexpr std::int64_t kEvalChunk = 512;                  // bags per eval pass (bounds buffers)
constexpr std::int64_t kMinRowsPerPart = 64;              // below this, one part

inline float sigmoidf(float v) { return 1.0f / (1.0f + std::exp(-v)); }

}  // namespace

// Written with GCC vector types, four elements per hash: both outcomes are random, and the
// branchy scalar loop was the engine's hottest line.
void relu_dropout(float* u, std::uint64_t base, std::int64_t q0, std::int64_t q1,
                  std::uint32_t keep_below, float keep_scale) {
  using v4u = models::HashLanes;
  using v4f = float __attribute__((vector_size(16)));
  const auto one = [&](std::int64_t q) {
    u[q] = (u[q] > 0.0f && models::hash_kept(base, q, keep_below)) ? u[q] * keep_scale : 0.0f;
  };
  std::int64_t q = q0;
  for (; q < q1 && (q & 3) != 0; ++q) one(q);
  const v4u below = {keep_below, keep_below, keep_below, keep_below};
  const v4f scale = {keep_scale, keep_scale, keep_scale, keep_scale};
  const v4f zero = {0.0f, 0.0f, 0.0f, 0.0f};
  for (; q + 4 <= q1; q += 4) {
    const v4u lanes = models::hash_lanes(base, q);
    v4f x;
    std::memcpy(&x, u + q, sizeof x);
    const v4u keep = reinterpret_cast<v4u>(lanes < below) & reinterpret_cast<v4u>(x > zero);
    x = reinterpret_cast<v4f>(reinterpret_cast<v4u>(x * scale) & keep);
    std::memcpy(u + q, &x, sizeof x);
  }
  for (; q < q1; ++q) one(q);
}

namespace {

// The gradient through ReLU and dropout: g *= keep_scale where the block output h is positive
// (kept by both), else 0. Vectorizes (a select between two factors, no branch).
void mask_grad(float* __restrict g, const float* __restrict h, std::int64_t q0, std::int64_t q1,
               float keep_scale) {
  for (std::int64_t q = q0; q < q1; ++q) g[q] *= h[q] > 0.0f ? keep_scale : 0.0f;
}

// uint8 feature value -> float, exactly as to_tensors does (v / 255 in float).
const std::array<float, 256>& u8_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> r{};
    for (int i = 0; i < 256; ++i) r[static_cast<std::size_t>(i)] = static_cast<float>(i) / 255.0f;
    return r;
  }();
  return t;
}

torch::Tensor param(models::BagModelImpl& m, const std::string& name) {
  auto params = m.named_parameters(true);
  if (auto* p = params.find(name)) return *p;
  auto bufs = m.named_buffers(true);
  if (auto* b = bufs.find(name)) return *b;
  fail("att fused engine: the model has no tensor '{}'", name);
}

// f(p) for p in [0, parts), on at::parallel_for's threads. Grad mode is thread-local: off inside.
template <class F>
void for_parts(std::int64_t parts, const F& f) {
  if (parts <= 1) {
    f(std::int64_t{0});
    return;
  }
  at::parallel_for(0, parts, 1, [&](std::int64_t b, std::int64_t e) {
    torch::NoGradGuard ng;
    for (std::int64_t p = b; p < e; ++p) f(p);
  });
}

torch::Tensor view(const float* p, std::int64_t rows, std::int64_t cols) {
  return torch::from_blob(const_cast<float*>(p), {rows, cols}, torch::kFloat32);
}

// c [m,n] = a [m,k] . w^T with w [n,k] (a linear layer).
void mm_awt(float* c, const float* a, std::int64_t m, const torch::Tensor& w) {
  if (m == 0) return;
  auto out = view(c, m, w.size(0));
  at::mm_out(out, view(a, m, w.size(1)), w.t());
}
// c [m,n] = a [m,k] . w with w [k,n].
void mm_aw(float* c, const float* a, std::int64_t m, const torch::Tensor& w) {
  if (m == 0) return;
  auto out = view(c, m, w.size(1));
  at::mm_out(out, view(a, m, w.size(0)), w);
}
// c [r1-r0, n] = g[:, r0:r1]^T . h  with g [m, ldg], h [m, n]  (rows r0..r1 of a weight gradient).
void mm_gth(float* c, const float* g, std::int64_t m, std::int64_t ldg, std::int64_t r0,
            std::int64_t r1, const float* h, std::int64_t n) {
  if (r1 <= r0) return;
  if (m == 0) {
    std::fill(c, c + (r1 - r0) * n, 0.0f);
    return;
  }
  auto gs = torch::from_blob(const_cast<float*>(g + r0), {m, r1 - r0}, {ldg, 1}, torch::kFloat32);
  auto out = view(c, r1 - r0, n);
  at::mm_out(out, gs.t(), view(h, m, n));
}

// Per-part partial column sums (double): sums[p][0..d) = sum v, [d..2d) = sum v*w (or v*v).
void partial_sums(const float* v, const float* w, std::int64_t r0, std::int64_t r1, std::int64_t d,
                  double* out) {
  std::fill(out, out + 2 * d, 0.0);
  for (std::int64_t i = r0; i < r1; ++i) {
    const float* vr = v + i * d;
    const float* wr = (w ? w : v) + i * d;
    for (std::int64_t j = 0; j < d; ++j) {
      out[j] += vr[j];
      out[d + j] += static_cast<double>(vr[j]) * wr[j];
    }
  }
}

// Sums the parts' partial sums in order (deterministic for a given part count).
void combine(const std::vector<double>& partial, std::int64_t parts, std::int64_t width,
             std::vector<double>& total) {
  total.assign(static_cast<std::size_t>(width), 0.0);
  for (std::int64_t p = 0; p < parts; ++p)
    for (std::int64_t j = 0; j < width; ++j) total[j] += partial[p * width + j];
}

}  // namespace

bool AttFused::supports(const models::BagModelImpl& model) {
  // Exactly ATT: a subclass may change forward or add an extra loss.
  return typeid(model) == typeid(models::AttImpl);
}

AttFused::AttFused(models::BagModelImpl& model, std::uint64_t seed) : model_(model), seed_(seed) {
  auto* att = dynamic_cast<models::AttImpl*>(&model);
  check(att != nullptr && supports(model), "att fused engine: model '{}' is not ATT",
        model.spec().name);
  dropout_ = att->options().dropout;
  auto bn = [&](const std::string& prefix, Block& blk) {
    blk.g = param(model, prefix + ".weight");
    blk.b = param(model, prefix + ".bias");
    blk.running_mean = param(model, prefix + ".running_mean");
    blk.running_var = param(model, prefix + ".running_var");
    blk.tracked = param(model, prefix + ".num_batches_tracked");
  };
  bn("input_bn", in_);
  for (std::int64_t i = 1; i <= att->options().num_layers; ++i) {
    Block blk;
    blk.w = param(model, "linear" + std::to_string(i) + ".weight");
    bn("bn" + std::to_string(i), blk);
    blocks_.push_back(blk);
    wd_.push_back(blk.w.detach());
  }
  wa_ = param(model, "attention.weight");
  ba_ = param(model, "attention.bias");
  wc_ = param(model, "classifier.weight");
  bc_ = param(model, "classifier.bias");
  d_ = wa_.size(1);
  c_ = wa_.size(0);
  wcat_ = torch::empty({2 * c_, d_});
  bcat_ = torch::empty({2 * c_});
}

float* AttFused::buffer(std::size_t i, std::int64_t rows, std::int64_t cols) {
  if (i >= bufs_.size()) bufs_.resize(i + 1);
  torch::Tensor& t = bufs_[i];
  const std::int64_t need = std::max<std::int64_t>(1, rows * cols);
  if (!t.defined() || t.numel() < need) t = torch::empty({need}, torch::kFloat32);
  return t.data_ptr<float>();
}

// --- Gathering ---------------------------------------------------------------------------------

void AttFused::gather_source(const BagSource& src, std::span<const std::int64_t> rows,
                             bool labels) {
  check(src.d == d_ && (!labels || src.c == c_),
        "att fused engine: data has D={} C={}, the model D={} C={}", src.d, src.c, d_, c_);
  Gathered& g = gb_;
  g.nb = static_cast<std::int64_t>(rows.size());
  g.offset.resize(static_cast<std::size_t>(g.nb + 1));
  g.pos.clear();
  g.src.clear();
  for (std::int64_t bi = 0; bi < g.nb; ++bi) {
    const std::int64_t r = rows[static_cast<std::size_t>(bi)];
    g.offset[bi] = static_cast<std::int64_t>(g.pos.size());
    for (std::int64_t t = 0; t < src.n_instances[r]; ++t) {
      g.pos.push_back(bi * src.k + t);
      g.src.push_back(r * src.k + t);
    }
  }
  g.offset[g.nb] = static_cast<std::int64_t>(g.pos.size());
  g.m = static_cast<std::int64_t>(g.pos.size());
  g.x_u8 = src.x_u8;
  g.x_f32 = src.x_f32;
  if (!labels) return;
  check(class_weights_.empty() || static_cast<std::int64_t>(class_weights_.size()) == c_,
        "att fused engine: {} class weights for {} classes", class_weights_.size(), c_);
  g.y.resize(static_cast<std::size_t>(g.nb * c_));
  g.ym.resize(static_cast<std::size_t>(g.nb * c_));
  g.known = 0;
  for (std::int64_t bi = 0; bi < g.nb; ++bi) {
    const std::int64_t r = rows[static_cast<std::size_t>(bi)];
    for (std::int64_t j = 0; j < c_; ++j) {
      const float y = src.y_true[r * c_ + j];
      g.y[bi * c_ + j] = soft_targets_ ? y : y >= 0.5f ? 1.0f : 0.0f;
      if (smoothing_ > 0) g.y[bi * c_ + j] = g.y[bi * c_ + j] * (1 - smoothing_) + smoothing_ / 2;
      const float w = class_weights_.empty() ? 1.0f : class_weights_[static_cast<std::size_t>(j)];
      g.ym[bi * c_ + j] = src.y_mask[r * c_ + j] != 0 ? w : 0.0f;
      g.known += g.ym[bi * c_ + j];
    }
  }
}

void AttFused::gather_tensors(const torch::Tensor& x, const torch::Tensor& mask) {
  check(x.dim() == 3 && x.size(2) == d_ && mask.dim() == 2 && mask.size(0) == x.size(0) &&
            mask.size(1) == x.size(1) && x.scalar_type() == torch::kFloat32 &&
            mask.scalar_type() == torch::kBool && x.device().is_cpu(),
        "att fused engine: expected x [B,K,{}] float32 and mask [B,K] bool on the CPU", d_);
  Gathered& g = gb_;
  const std::int64_t k = x.size(1);
  g.nb = x.size(0);
  auto mc = mask.contiguous();
  const bool* mp = mc.data_ptr<bool>();
  g.offset.resize(static_cast<std::size_t>(g.nb + 1));
  g.pos.clear();
  g.src.clear();
  for (std::int64_t bi = 0; bi < g.nb; ++bi) {
    g.offset[bi] = static_cast<std::int64_t>(g.pos.size());
    for (std::int64_t t = 0; t < k; ++t)
      if (mp[bi * k + t]) {
        g.pos.push_back(bi * k + t);
        g.src.push_back(bi * k + t);
      }
  }
  g.offset[g.nb] = static_cast<std::int64_t>(g.pos.size());
  g.m = static_cast<std::int64_t>(g.pos.size());
  g.x_u8 = nullptr;
  g.x_f32 = x.data_ptr<float>();  // the caller keeps x alive and contiguous (checked by callers)
}

void AttFused::set_parts() {
  const Gathered& g = gb_;
  std::int64_t p = std::max<std::int64_t>(1, at::get_num_threads());
  p = std::min(p, std::max<std::int64_t>(1, g.nb));
  if (g.m < kMinRowsPerPart * p) p = std::max<std::int64_t>(1, g.m / kMinRowsPerPart);
  parts_ = std::max<std::int64_t>(1, p);
  part_bag_.resize(static_cast<std::size_t>(parts_ + 1));
  for (std::int64_t i = 0; i <= parts_; ++i) part_bag_[i] = g.nb * i / parts_;
}

void AttFused::copy_rows(std::int64_t p, float* raw) const {
  const Gathered& g = gb_;
  const std::int64_t r0 = g.offset[part_bag_[p]], r1 = g.offset[part_bag_[p + 1]];
  const auto& tab = u8_table();
  for (std::int64_t r = r0; r < r1; ++r) {
    float* dst = raw + r * d_;
    if (g.x_u8) {
      const std::uint8_t* s = g.x_u8 + g.src[r] * d_;
      for (std::int64_t j = 0; j < d_; ++j) dst[j] = tab[s[j]];
    } else {
      std::memcpy(dst, g.x_f32 + g.src[r] * d_, static_cast<std::size_t>(d_) * sizeof(float));
    }
  }
}

void AttFused::fill_heads() {
  const std::size_t cd = static_cast<std::size_t>(c_ * d_) * sizeof(float);
  std::memcpy(wcat_.data_ptr<float>(), wa_.data_ptr<float>(), cd);
  std::memcpy(wcat_.data_ptr<float>() + c_ * d_, wc_.data_ptr<float>(), cd);
  std::memcpy(bcat_.data_ptr<float>(), ba_.data_ptr<float>(), c_ * sizeof(float));
  std::memcpy(bcat_.data_ptr<float>() + c_, bc_.data_ptr<float>(), c_ * sizeof(float));
}

// --- Training ----------------------------------------------------------------------------------

AttFused::StepLoss AttFused::train_step(const BagSource& src, std::span<const std::int64_t> rows,
                                        std::int64_t instance_offset) {
  gather_source(src, rows, true);
  return train_core(instance_offset);
}

AttFused::StepLoss AttFused::train_step(const torch::Tensor& x, const torch::Tensor& mask,
                                        const torch::Tensor& y, const torch::Tensor& y_mask) {
  const torch::Tensor xc = x.contiguous();
  gather_tensors(xc, mask);
  Gathered& g = gb_;
  check(y.sizes() == y_mask.sizes() && y.dim() == 2 && y.size(0) == g.nb && y.size(1) == c_,
        "att fused engine: expected y and y_mask [B,{}]", c_);
  auto yc = y.to(torch::kFloat32).contiguous(), ymc = y_mask.to(torch::kFloat32).contiguous();
  g.y.assign(yc.data_ptr<float>(), yc.data_ptr<float>() + yc.numel());
  g.ym.assign(ymc.data_ptr<float>(), ymc.data_ptr<float>() + ymc.numel());
  g.known = 0;
  for (float v : g.ym) g.known += v;
  return train_core(0);
}

AttFused::StepLoss AttFused::train_core(std::int64_t instance_offset) {
  torch::NoGradGuard ng;
  const Gathered& g = gb_;
  const std::int64_t m = g.m, d = d_, c = c_, c2 = 2 * c_;
  // The global batch: in data-parallel training its instances and known labels are summed over
  // the processes with the input batch-norm's statistics (below).
  double md = static_cast<double>(m), known = g.known;
  auto check_instances = [&] {
    check(md > 1, "att: batch-norm in training needs at least 2 real instances in the batch, got {}",
          md);
  };
  if (!cross_sum_) check_instances();
  // The masks are keyed by the element's place in the global batch, base + q for q = row * d + j;
  // a shift by a multiple of 4 keeps the four-lane groups of the hash aligned.
  check(instance_offset == 0 || d % 4 == 0,
        "att fused engine: data-parallel dropout needs a feature width divisible by 4, got {}", d);
  set_parts();
  const std::int64_t np = parts_;
  const std::size_t nl = blocks_.size();

  auto rows_of = [&](std::int64_t p) {
    return std::pair<std::int64_t, std::int64_t>{g.offset[part_bag_[p]],
                                                 g.offset[part_bag_[p + 1]]};
  };
  fill_heads();

  // Buffers: 0 raw, 1 xhat0, 2 h0, 3..3+nl xhat_l, then h_{l+1}, hf, logits, dlog, 3 gradients.
  std::size_t bi = 0;
  float* raw = buffer(bi++, m, d);
  float* xhat0 = buffer(bi++, m, d);
  std::vector<float*> hs = {buffer(bi++, m, d)};  // hs[l] = input of block l
  std::vector<float*> xhats;
  for (std::size_t l = 0; l < nl; ++l) xhats.push_back(buffer(bi++, m, d));
  for (std::size_t l = 0; l < nl; ++l) hs.push_back(buffer(bi++, m, d));
  float* hf = buffer(bi++, m, d);
  float* logit = buffer(bi++, m, c2);
  float* dlog = buffer(bi++, m, c2);
  std::array<float*, 3> gbuf = {buffer(bi++, m, d), buffer(bi++, m, d), buffer(bi++, m, d)};
  float* dwcat = buffer(bi++, c2, d);
  float* dbcat = buffer(bi++, 1, c2);

  std::vector<double> partial(static_cast<std::size_t>(np * 2 * d)), total;
  std::vector<double> loss_part(static_cast<std::size_t>(np), 0.0);
  std::vector<float> mean(static_cast<std::size_t>(d)), invstd(static_cast<std::size_t>(d));
  std::vector<std::vector<float>> invstds(nl + 1);

  // Batch statistics (biased variance) normalize; the running statistics take the unbiased one.
  auto finish_stats = [&](Block& blk, std::vector<float>& inv) {
    combine(partial, np, 2 * d, total);
    if (cross_sum_ && &blk == &in_) {  // one call for the statistics and the batch's sizes
      total.push_back(md);
      total.push_back(known);
      cross_sum_(total);
      known = total.back();
      total.pop_back();
      md = total.back();
      total.pop_back();
      check_instances();
    } else if (cross_sum_) {
      cross_sum_(total);
    }
    inv.resize(static_cast<std::size_t>(d));
    float* rm = blk.running_mean.data_ptr<float>();
    float* rv = blk.running_var.data_ptr<float>();
    for (std::int64_t j = 0; j < d; ++j) {
      const double mu = total[j] / md;
      const double var = std::max(0.0, total[d + j] / md - mu * mu);
      inv[j] = static_cast<float>(1.0 / std::sqrt(var + kBnEps));
      mean[j] = static_cast<float>(mu);
      rm[j] = static_cast<float>((1 - kBnMomentum) * rm[j] + kBnMomentum * mu);
      rv[j] = static_cast<float>((1 - kBnMomentum) * rv[j] + kBnMomentum * var * md / (md - 1));
    }
    blk.tracked.data_ptr<std::int64_t>()[0] += 1;
  };
  // Rows r0..r1: xhat = (v - mean) * inv, out = gamma * xhat + beta.
  auto normalize = [&](const float* v, float* xhat, float* out, const Block& blk,
                       const std::vector<float>& inv, std::int64_t r0, std::int64_t r1) {
    const float* gam = blk.g.data_ptr<float>();
    const float* bet = blk.b.data_ptr<float>();
    for (std::int64_t i = r0; i < r1; ++i) {
      const float* vr = v + i * d;
      float* xr = xhat + i * d;
      float* orow = out + i * d;
      for (std::int64_t j = 0; j < d; ++j) {
        const float xh = (vr[j] - mean[j]) * inv[j];
        xr[j] = xh;
        orow[j] = gam[j] * xh + bet[j];
      }
    }
  };

  // Keep probability quantized to 1/65536; 16 random bits per element, 4 elements per draw.
  const double keep = 1.0 - dropout_;
  const std::uint32_t keep_below = static_cast<std::uint32_t>(std::llround(keep * 65536.0));
  const float scale = keep > 0 ? static_cast<float>(1.0 / keep) : 0.0f;

  // Forward ---------------------------------------------------------------------------------
  for_parts(np, [&](std::int64_t p) {
    const auto [r0, r1] = rows_of(p);
    copy_rows(p, raw);
    partial_sums(raw, nullptr, r0, r1, d, &partial[p * 2 * d]);
  });
  finish_stats(in_, invstds[nl]);
  std::vector<std::uint64_t> bases(nl);
  for (std::size_t l = 0; l < nl; ++l)
    bases[l] = splitmix64(seed_ ^ splitmix64(++counter_)) +
               static_cast<std::uint64_t>(instance_offset * d);
  // Region l: finish the previous normalization, then this block's product and statistics.
  for (std::size_t l = 0; l < nl; ++l) {
    for_parts(np, [&](std::int64_t p) {
      const auto [r0, r1] = rows_of(p);
      if (l == 0) {
        normalize(raw, xhat0, hs[0], in_, invstds[nl], r0, r1);
      } else {
        normalize(xhats[l - 1], xhats[l - 1], hs[l], blocks_[l - 1], invstds[l - 1], r0, r1);
        relu_dropout(hs[l], bases[l - 1], r0 * d, r1 * d, keep_below, scale);
      }
      mm_awt(xhats[l] + r0 * d, hs[l] + r0 * d, r1 - r0, wd_[l]);  // z, normalized in place later
      partial_sums(xhats[l], nullptr, r0, r1, d, &partial[p * 2 * d]);
    });
    finish_stats(blocks_[l], invstds[l]);
  }

  // Last block's output, residual, heads, pooling, loss, gradient of the head inputs, and the
  // first backward statistics.
  const double norm = std::max(known, 1.0);
  const float* yp = g.y.data();
  const float* ymp = g.ym.data();
  float* du = gbuf[0];
  for_parts(np, [&](std::int64_t p) {
    const auto [r0, r1] = rows_of(p);
    float* hl = hs[nl];
    normalize(xhats[nl - 1], xhats[nl - 1], hl, blocks_[nl - 1], invstds[nl - 1], r0, r1);
    relu_dropout(hl, bases[nl - 1], r0 * d, r1 * d, keep_below, scale);
    for (std::int64_t q = r0 * d; q < r1 * d; ++q) hf[q] = hl[q] + raw[q];
    mm_awt(logit + r0 * c2, hf + r0 * d, r1 - r0, wcat_);
    const float* bc = bcat_.data_ptr<float>();
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t j = 0; j < c2; ++j)
        logit[r * c2 + j] = sigmoidf(logit[r * c2 + j] + bc[j]);  // a: [0,C), c: [C,2C)
    std::fill(dlog + r0 * c2, dlog + r1 * c2, 0.0f);
    double bce = 0;
    for (std::int64_t b = part_bag_[p]; b < part_bag_[p + 1]; ++b) {
      const std::int64_t b0 = g.offset[b], b1 = g.offset[b + 1];
      if (b0 == b1) continue;
      for (std::int64_t j = 0; j < c; ++j) {
        // The known-label mask doubles as the label's loss weight (1 unless class weights).
        const float w = ymp[b * c + j];
        if (w == 0.0f) continue;
        float s = 0, num = 0;
        for (std::int64_t r = b0; r < b1; ++r) {
          const float a = std::clamp(logit[r * c2 + j], kAttMin, kAttMax);
          s += a;
          num += a * logit[r * c2 + c + j];
        }
        const float pr = num / s;
        const float t = yp[b * c + j];
        // torch::binary_cross_entropy: log clamped at -100; gradient (p - t) / max(p(1-p), 1e-12).
        bce -= w * (t * std::max(std::log(static_cast<double>(pr)), -100.0) +
                    (1 - t) * std::max(std::log1p(-static_cast<double>(pr)), -100.0));
        const float gp = static_cast<float>(
            w * ((pr - t) / std::max(static_cast<double>(pr) * (1 - pr), 1e-12) / norm));
        for (std::int64_t r = b0; r < b1; ++r) {
          const float sv = logit[r * c2 + j];
          const float a = std::clamp(sv, kAttMin, kAttMax);
          const float cv = logit[r * c2 + c + j];
          const float g_a = gp * (cv - pr) / s;
          const float g_c = gp * a / s;
          dlog[r * c2 + j] = (sv >= kAttMin && sv <= kAttMax) ? g_a * sv * (1 - sv) : 0.0f;
          dlog[r * c2 + c + j] = g_c * cv * (1 - cv);
        }
      }
    }
    loss_part[p] = bce;
    // d(loss)/d(hf) = dlog . Wcat; through the last dropout and ReLU: zero where h_L == 0.
    mm_aw(du + r0 * d, dlog + r0 * c2, r1 - r0, wcat_);
    mask_grad(du, hl, r0 * d, r1 * d, scale);
    partial_sums(du, xhats[nl - 1], r0, r1, d, &partial[p * 2 * d]);
  });
  StepLoss loss;
  loss.known = g.known;
  for (std::int64_t p = 0; p < np; ++p) loss.bce_sum += loss_part[p];

  // Backward ----------------------------------------------------------------------------------
  // dz_l lives in gbuf[(nl-1-l) % 3]; region l also forms the weight gradient of the block after
  // it (whose dz is complete only now) and the input gradient of block l.
  auto gidx = [&](std::int64_t l) {
    return static_cast<std::size_t>(((static_cast<std::int64_t>(nl) - 1 - l) % 3 + 3) % 3);
  };
  auto set_grad = [](torch::Tensor& t, const float* v) {
    if (!t.grad().defined()) t.mutable_grad() = torch::zeros_like(t);
    std::memcpy(t.grad().data_ptr<float>(), v, static_cast<std::size_t>(t.numel()) * sizeof(float));
  };
  std::vector<float> k1(static_cast<std::size_t>(d)), k2(static_cast<std::size_t>(d)),
      k3(static_cast<std::size_t>(d)), gtmp(static_cast<std::size_t>(2 * d));
  // Batch-norm parameter gradients from the combined sums; k1..k3 for dz.
  // In data-parallel training the parameter gradients stay this share's (the caller sums them
  // over the processes) while dz needs the global sums.
  auto bn_grads = [&](Block& blk, const std::vector<float>& inv) {
    combine(partial, np, 2 * d, total);
    for (std::int64_t j = 0; j < d; ++j) {
      gtmp[j] = static_cast<float>(total[d + j]);  // d gamma
      gtmp[d + j] = static_cast<float>(total[j]);  // d beta
    }
    if (cross_sum_ && &blk != &in_) cross_sum_(total);  // the input's dz is not needed
    const float* gam = blk.g.data_ptr<float>();
    for (std::int64_t j = 0; j < d; ++j) {
      // dz = gamma * invstd * (du - mean(du) - xhat * mean(du * xhat))
      k1[j] = gam[j] * inv[j];
      k2[j] = static_cast<float>(total[j] / md);
      k3[j] = static_cast<float>(total[d + j] / md);
    }
    set_grad(blk.g, gtmp.data());
    set_grad(blk.b, gtmp.data() + d);
  };
  std::vector<float*> dws(nl);
  for (std::size_t l = 0; l < nl; ++l) dws[l] = buffer(bi++, d, d);
  for (std::int64_t l = static_cast<std::int64_t>(nl) - 1; l >= 0; --l) {
    bn_grads(blocks_[l], invstds[l]);
    float* dz = gbuf[gidx(l)];
    float* dh = gbuf[gidx(l - 1)];
    for_parts(np, [&](std::int64_t p) {
      const auto [r0, r1] = rows_of(p);
      if (l == static_cast<std::int64_t>(nl) - 1) {
        const std::int64_t o0 = c2 * p / np, o1 = c2 * (p + 1) / np;
        mm_gth(dwcat + o0 * d, dlog, m, c2, o0, o1, hf, d);
        for (std::int64_t j = o0; j < o1; ++j) {
          double s = 0;
          for (std::int64_t r = 0; r < m; ++r) s += dlog[r * c2 + j];
          dbcat[j] = static_cast<float>(s);
        }
      } else {
        const std::int64_t o0 = d * p / np, o1 = d * (p + 1) / np;
        mm_gth(dws[l + 1] + o0 * d, gbuf[gidx(l + 1)], m, d, o0, o1, hs[l + 1], d);
      }
      const float* xr = xhats[l];
      for (std::int64_t i = r0; i < r1; ++i)
        for (std::int64_t j = 0; j < d; ++j) {
          const std::int64_t q = i * d + j;
          dz[q] = k1[j] * (dz[q] - k2[j] - xr[q] * k3[j]);
        }
      mm_aw(dh + r0 * d, dz + r0 * d, r1 - r0, wd_[l]);
      if (l > 0) {
        mask_grad(dh, hs[l], r0 * d, r1 * d, scale);  // block l's input = block l-1's output
        partial_sums(dh, xhats[l - 1], r0, r1, d, &partial[p * 2 * d]);
      } else {
        partial_sums(dh, xhat0, r0, r1, d, &partial[p * 2 * d]);
      }
    });
  }
  // Input batch-norm: only its scale and shift get gradients.
  bn_grads(in_, invstds[nl]);
  for_parts(np, [&](std::int64_t p) {
    const std::int64_t o0 = d * p / np, o1 = d * (p + 1) / np;
    mm_gth(dws[0] + o0 * d, gbuf[gidx(0)], m, d, o0, o1, hs[0], d);
  });
  for (std::size_t l = 0; l < nl; ++l) set_grad(blocks_[l].w, dws[l]);
  set_grad(wa_, dwcat);
  set_grad(wc_, dwcat + c * d);
  set_grad(ba_, dbcat);
  set_grad(bc_, dbcat + c);
  return loss;
}

// --- Inference ---------------------------------------------------------------------------------

void AttFused::eval_core(const EvalOut& out) {
  torch::NoGradGuard ng;
  const Gathered& g = gb_;
  const std::int64_t m = g.m, d = d_, c = c_, c2 = 2 * c_;
  if (m == 0) return;
  set_parts();
  fill_heads();
  // Eval batch-norm is an affine map per feature: fold it into scale/shift.
  const std::size_t nl = blocks_.size();
  std::vector<std::vector<float>> sc(nl + 1), sh(nl + 1);
  auto affine = [&](const Block& blk, std::vector<float>& s, std::vector<float>& t) {
    s.resize(static_cast<std::size_t>(d));
    t.resize(static_cast<std::size_t>(d));
    const float* gm = blk.g.data_ptr<float>();
    const float* bt = blk.b.data_ptr<float>();
    const float* rm = blk.running_mean.data_ptr<float>();
    const float* rv = blk.running_var.data_ptr<float>();
    for (std::int64_t j = 0; j < d; ++j) {
      const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[j]) + kBnEps));
      s[j] = gm[j] * inv;
      t[j] = bt[j] - rm[j] * gm[j] * inv;
    }
  };
  affine(in_, sc[nl], sh[nl]);
  for (std::size_t l = 0; l < nl; ++l) affine(blocks_[l], sc[l], sh[l]);
  float* raw = buffer(0, m, d);
  float* ha = buffer(1, m, d);
  float* hb = buffer(2, m, d);
  float* logit = buffer(3, m, c2);
  for_parts(parts_, [&](std::int64_t p) {
    const std::int64_t r0 = g.offset[part_bag_[p]], r1 = g.offset[part_bag_[p + 1]];
    copy_rows(p, raw);
    float* h = ha;
    float* z = hb;
    for (std::int64_t i = r0; i < r1; ++i)
      for (std::int64_t j = 0; j < d; ++j) h[i * d + j] = raw[i * d + j] * sc[nl][j] + sh[nl][j];
    for (std::size_t l = 0; l < nl; ++l) {
      mm_awt(z + r0 * d, h + r0 * d, r1 - r0, wd_[l]);
      for (std::int64_t i = r0; i < r1; ++i)
        for (std::int64_t j = 0; j < d; ++j)
          z[i * d + j] = std::max(0.0f, z[i * d + j] * sc[l][j] + sh[l][j]);
      std::swap(h, z);
    }
    for (std::int64_t q = r0 * d; q < r1 * d; ++q) h[q] += raw[q];
    mm_awt(logit + r0 * c2, h + r0 * d, r1 - r0, wcat_);
    const float* bc = bcat_.data_ptr<float>();
    for (std::int64_t r = r0; r < r1; ++r) {
      float* lr = logit + r * c2;
      for (std::int64_t j = 0; j < c; ++j)
        lr[j] = std::clamp(sigmoidf(lr[j] + bc[j]), kAttMin, kAttMax);
      for (std::int64_t j = c; j < c2; ++j) lr[j] = sigmoidf(lr[j] + bc[j]);
    }
    float s[512];
    std::vector<float> sbig;
    float* sp = s;
    if (c > 512) {
      sbig.resize(static_cast<std::size_t>(c));
      sp = sbig.data();
    }
    for (std::int64_t b = part_bag_[p]; b < part_bag_[p + 1]; ++b) {
      const std::int64_t b0 = g.offset[b], b1 = g.offset[b + 1];
      if (b0 == b1) continue;
      std::fill(sp, sp + c, 0.0f);
      for (std::int64_t r = b0; r < b1; ++r)
        for (std::int64_t j = 0; j < c; ++j) sp[j] += logit[r * c2 + j];
      float* cl = out.clip + b * c;
      std::fill(cl, cl + c, 0.0f);
      for (std::int64_t r = b0; r < b1; ++r)
        for (std::int64_t j = 0; j < c; ++j)
          cl[j] += logit[r * c2 + j] / sp[j] * logit[r * c2 + c + j];
      // The rounded weights can sum to one float step above 1 (as in AttImpl::forward).
      for (std::int64_t j = 0; j < c; ++j) cl[j] = std::min(cl[j], 1.0f);
      if (out.instance || out.attention) {
        for (std::int64_t r = b0; r < b1; ++r) {
          const std::int64_t f = g.pos[r];  // b*K + t
          for (std::int64_t j = 0; j < c; ++j) {
            if (out.instance) out.instance[f * c + j] = logit[r * c2 + c + j];
            if (out.attention) out.attention[f * c + j] = logit[r * c2 + j] / sp[j];
          }
        }
      }
      if (out.embedding) {
        const float inv_n = 1.0f / static_cast<float>(b1 - b0);
        float* e = out.embedding + b * d;
        for (std::int64_t r = b0; r < b1; ++r)
          for (std::int64_t j = 0; j < d; ++j) e[j] += h[r * d + j] * inv_n;
      }
    }
  });
}

void AttFused::eval_rows(const BagSource& src, std::int64_t begin, std::int64_t end,
                         const EvalOut& out) {
  check(src.c == c_, "att fused engine: data has {} classes, the model {}", src.c, c_);
  std::vector<std::int64_t> rows;
  for (std::int64_t s = begin; s < end; s += kEvalChunk) {
    const std::int64_t e = std::min(end, s + kEvalChunk);
    rows.resize(static_cast<std::size_t>(e - s));
    for (std::int64_t i = s; i < e; ++i) rows[static_cast<std::size_t>(i - s)] = i;
    gather_source(src, rows, false);
    const std::int64_t o = s - begin;
    EvalOut part;
    part.clip = out.clip + o * c_;
    if (out.instance) part.instance = out.instance + o * src.k * c_;
    if (out.attention) part.attention = out.attention + o * src.k * c_;
    if (out.embedding) part.embedding = out.embedding + o * d_;
    if (gb_.m == 0) {
      std::fill(part.clip, part.clip + (e - s) * c_, 0.0f);
      continue;
    }
    // Bags without instances: clip 0.
    for (std::int64_t b = 0; b < gb_.nb; ++b)
      if (gb_.offset[b] == gb_.offset[b + 1])
        std::fill(part.clip + b * c_, part.clip + (b + 1) * c_, 0.0f);
    eval_core(part);
  }
}

models::BagOutput AttFused::forward_eval(const torch::Tensor& x, const torch::Tensor& mask,
                                         bool with_instances) {
  torch::NoGradGuard ng;
  const torch::Tensor xc = x.contiguous();
  gather_tensors(xc, mask);
  const std::int64_t nb = x.size(0), k = x.size(1);
  models::BagOutput out;
  out.clip = torch::zeros({nb, c_});
  EvalOut eo;
  eo.clip = out.clip.data_ptr<float>();
  if (with_instances) {
    out.instance = torch::zeros({nb, k, c_});
    out.attention = torch::zeros({nb, k, c_});
    out.embedding = torch::zeros({nb, d_});
    eo.instance = out.instance.data_ptr<float>();
    eo.attention = out.attention.data_ptr<float>();
    eo.embedding = out.embedding.data_ptr<float>();
  }
  eval_core(eo);
  return out;
}

}  // namespace tutti::models
