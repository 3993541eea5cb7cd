#include "tutti/train/att_fused.h"

#include <algorithm>
#include <cmath>
#include <typeinfo>

#include "tutti/core/error.h"
#include "tutti/models/att.h"

namespace tutti::train {

namespace {

constexpr double kBnEps = 1e-5;       // torch::nn::BatchNorm1d defaults
constexpr double kBnMomentum = 0.1;
constexpr float kAttMin = 1e-7f, kAttMax = 1.0f - 1e-7f;  // AttImpl's clamp of the attention

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

inline float sigmoidf(float v) { return 1.0f / (1.0f + std::exp(-v)); }

torch::Tensor param(models::BagModelImpl& m, const std::string& name) {
  auto params = m.named_parameters(true);
  if (auto* p = params.find(name)) return *p;
  auto bufs = m.named_buffers(true);
  if (auto* b = bufs.find(name)) return *b;
  fail("att fused engine: the model has no tensor '{}'", name);
}

// The rows of the real instances: flat indices b*K + k in row-major order, and per-bag offsets.
struct Rows {
  std::vector<std::int64_t> flat;    // [M]
  std::vector<std::int64_t> offset;  // [B+1]
  bool full = false;
};

Rows real_rows(const torch::Tensor& mask) {
  const std::int64_t b = mask.size(0), k = mask.size(1);
  auto mc = mask.contiguous();
  const bool* mp = mc.data_ptr<bool>();
  Rows r;
  r.offset.resize(static_cast<std::size_t>(b + 1));
  r.flat.reserve(static_cast<std::size_t>(b * k));
  for (std::int64_t i = 0; i < b; ++i) {
    r.offset[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(r.flat.size());
    for (std::int64_t t = 0; t < k; ++t)
      if (mp[i * k + t]) r.flat.push_back(i * k + t);
  }
  r.offset[static_cast<std::size_t>(b)] = static_cast<std::int64_t>(r.flat.size());
  r.full = static_cast<std::int64_t>(r.flat.size()) == b * k;
  return r;
}

torch::Tensor gather_rows(const torch::Tensor& x, const Rows& rows) {
  const std::int64_t b = x.size(0), k = x.size(1), d = x.size(2);
  auto flat = x.reshape({b * k, d});
  if (rows.full) return flat.contiguous();
  auto idx = torch::from_blob(const_cast<std::int64_t*>(rows.flat.data()),
                              {static_cast<std::int64_t>(rows.flat.size())}, torch::kInt64);
  return flat.index_select(0, idx);
}

// Column sums of an [M,D] buffer, in double.
void column_sums(const float* v, std::int64_t m, std::int64_t d, std::vector<double>& out) {
  out.assign(static_cast<std::size_t>(d), 0.0);
  for (std::int64_t i = 0; i < m; ++i) {
    const float* row = v + i * d;
    for (std::int64_t j = 0; j < d; ++j) out[j] += row[j];
  }
}

}  // namespace

bool AttFused::supports(const models::BagModelImpl& model) {
  // Exactly ATT: a subclass may change forward or add an extra loss.
  return typeid(model) == typeid(models::AttImpl);
}

AttFused::AttFused(models::BagModelImpl& model, std::uint64_t seed) : model_(model), seed_(seed) {
  auto* att = dynamic_cast<models::AttImpl*>(&model);
  check(att != nullptr && supports(model), "att fused engine: model '{}' is not ATT", model.spec().name);
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
  }
  wa_ = param(model, "attention.weight");
  ba_ = param(model, "attention.bias");
  wc_ = param(model, "classifier.weight");
  bc_ = param(model, "classifier.bias");
  for (auto* t : {&wa_, &ba_, &wc_, &bc_})
    check(t->device().is_cpu() && t->scalar_type() == torch::kFloat32 && t->is_contiguous(),
          "att fused engine: parameters must be contiguous float32 on the CPU");
}

AttFused::StepLoss AttFused::train_step(const torch::Tensor& x, const torch::Tensor& mask,
                                        const torch::Tensor& y, const torch::Tensor& y_mask) {
  torch::NoGradGuard ng;
  const std::int64_t nb = x.size(0), d = x.size(2), c = wa_.size(0);
  const Rows rows = real_rows(mask);
  const std::int64_t m = static_cast<std::int64_t>(rows.flat.size());
  check(m > 1, "att: batch-norm in training needs at least 2 real instances in the batch, got {}",
        m);
  const torch::Tensor raw = gather_rows(x, rows);  // [M,D]
  const auto opts = raw.options();
  const std::size_t nl = blocks_.size();
  const double md = static_cast<double>(m);

  // Batch-norm in training mode: batch statistics (biased variance) normalize; the running
  // statistics take the unbiased variance.
  std::vector<double> colsum;
  auto bn_train = [&](const float* in, Block& blk, float* xhat, float* out,
                      std::vector<float>& invstd) {
    column_sums(in, m, d, colsum);
    std::vector<double> mean(static_cast<std::size_t>(d)), var(static_cast<std::size_t>(d), 0.0);
    for (std::int64_t j = 0; j < d; ++j) mean[j] = colsum[j] / md;
    for (std::int64_t i = 0; i < m; ++i) {
      const float* row = in + i * d;
      for (std::int64_t j = 0; j < d; ++j) {
        const double t = row[j] - mean[j];
        var[j] += t * t;
      }
    }
    invstd.resize(static_cast<std::size_t>(d));
    std::vector<float> meanf(static_cast<std::size_t>(d));
    const float* g = blk.g.data_ptr<float>();
    const float* b = blk.b.data_ptr<float>();
    float* rm = blk.running_mean.data_ptr<float>();
    float* rv = blk.running_var.data_ptr<float>();
    for (std::int64_t j = 0; j < d; ++j) {
      const double v = var[j] / md;
      invstd[j] = static_cast<float>(1.0 / std::sqrt(v + kBnEps));
      meanf[j] = static_cast<float>(mean[j]);
      rm[j] = static_cast<float>((1 - kBnMomentum) * rm[j] + kBnMomentum * mean[j]);
      rv[j] = static_cast<float>((1 - kBnMomentum) * rv[j] + kBnMomentum * var[j] / (md - 1));
    }
    blk.tracked.add_(1);
    for (std::int64_t i = 0; i < m; ++i) {
      const float* row = in + i * d;
      float* xr = xhat + i * d;
      float* orow = out + i * d;
      for (std::int64_t j = 0; j < d; ++j) {
        const float xh = (row[j] - meanf[j]) * invstd[j];
        xr[j] = xh;
        orow[j] = g[j] * xh + b[j];
      }
    }
  };

  // Forward ---------------------------------------------------------------------------------
  torch::Tensor xhat0 = torch::empty({m, d}, opts), h0 = torch::empty({m, d}, opts);
  std::vector<float> invstd0;
  bn_train(raw.data_ptr<float>(), in_, xhat0.data_ptr<float>(), h0.data_ptr<float>(), invstd0);
  std::vector<torch::Tensor> hs = {h0}, xhats, factors;  // hs[l] = input of block l
  std::vector<std::vector<float>> invstds(nl);
  // Keep probability quantized to 1/65536; 16 random bits per element.
  const double keep = 1.0 - dropout_;
  const std::uint32_t keep_below = static_cast<std::uint32_t>(std::llround(keep * 65536.0));
  const float scale = keep > 0 ? static_cast<float>(1.0 / keep) : 0.0f;
  for (std::size_t l = 0; l < nl; ++l) {
    torch::Tensor z = torch::mm(hs[l], blocks_[l].w.t());
    torch::Tensor xh = torch::empty({m, d}, opts), u = torch::empty({m, d}, opts);
    bn_train(z.data_ptr<float>(), blocks_[l], xh.data_ptr<float>(), u.data_ptr<float>(),
             invstds[l]);
    // ReLU + dropout: h = u * f with f = [u > 0] * keep_mask / keep.
    torch::Tensor f = torch::empty({m, d}, opts);
    float* up = u.data_ptr<float>();
    float* fp = f.data_ptr<float>();
    const std::int64_t n = m * d;
    if (dropout_ > 0) {
      const std::uint64_t base = splitmix64(seed_ ^ splitmix64(++counter_));
      for (std::int64_t i = 0; i < n; i += 4) {
        std::uint64_t bits = splitmix64(base + static_cast<std::uint64_t>(i));
        for (std::int64_t q = i; q < std::min(n, i + 4); ++q, bits >>= 16) {
          const bool kept = static_cast<std::uint32_t>(bits & 0xFFFF) < keep_below;
          const float fq = (up[q] > 0.0f && kept) ? scale : 0.0f;
          fp[q] = fq;
          up[q] *= fq;
        }
      }
    } else {
      for (std::int64_t q = 0; q < n; ++q) {
        const float fq = up[q] > 0.0f ? 1.0f : 0.0f;
        fp[q] = fq;
        up[q] *= fq;
      }
    }
    xhats.push_back(xh);
    factors.push_back(f);
    hs.push_back(u);  // now the block's output
  }
  // Residual: the un-normalized input.
  torch::Tensor h = hs.back().add(raw);  // [M,D]
  torch::Tensor la = torch::addmm(ba_, h, wa_.t());  // [M,C]
  torch::Tensor lc = torch::addmm(bc_, h, wc_.t());  // [M,C]
  float* sa = la.data_ptr<float>();  // becomes sigmoid (unclamped) in place
  float* cc = lc.data_ptr<float>();  // becomes the frame probabilities
  for (std::int64_t i = 0; i < m * c; ++i) {
    sa[i] = sigmoidf(sa[i]);
    cc[i] = sigmoidf(cc[i]);
  }

  // Pooling, loss and the loss gradient w.r.t. the head pre-activations.
  auto yc = y.contiguous(), ymc = y_mask.contiguous();
  const float* yp = yc.data_ptr<float>();
  const float* ymp = ymc.data_ptr<float>();
  double known = 0;
  for (std::int64_t i = 0; i < nb * c; ++i) known += ymp[i];
  const double norm = std::max(known, 1.0);
  StepLoss loss;
  loss.known = known;
  torch::Tensor da = torch::zeros({m, c}, opts), dc = torch::zeros({m, c}, opts);
  float* dap = da.data_ptr<float>();
  float* dcp = dc.data_ptr<float>();
  for (std::int64_t bi = 0; bi < nb; ++bi) {
    const std::int64_t r0 = rows.offset[bi], r1 = rows.offset[bi + 1];
    if (r0 == r1) continue;
    for (std::int64_t j = 0; j < c; ++j) {
      if (ymp[bi * c + j] == 0.0f) continue;
      float s = 0, num = 0;
      for (std::int64_t r = r0; r < r1; ++r) {
        const float a = std::clamp(sa[r * c + j], kAttMin, kAttMax);
        s += a;
        num += a * cc[r * c + j];
      }
      const float p = num / s;
      const float t = yp[bi * c + j];
      // torch::binary_cross_entropy: log clamped at -100; gradient (p - t) / max(p (1 - p), 1e-12).
      loss.bce_sum -= t * std::max(std::log(static_cast<double>(p)), -100.0) +
                      (1 - t) * std::max(std::log1p(-static_cast<double>(p)), -100.0);
      const float gp = static_cast<float>((p - t) / std::max(static_cast<double>(p) * (1 - p), 1e-12) / norm);
      for (std::int64_t r = r0; r < r1; ++r) {
        const float sv = sa[r * c + j];
        const float a = std::clamp(sv, kAttMin, kAttMax);
        const float cv = cc[r * c + j];
        const float g_a = gp * (cv - p) / s;
        const float g_c = gp * a / s;
        dap[r * c + j] = (sv >= kAttMin && sv <= kAttMax) ? g_a * sv * (1 - sv) : 0.0f;
        dcp[r * c + j] = g_c * cv * (1 - cv);
      }
    }
  }

  // Backward ----------------------------------------------------------------------------------
  wa_.mutable_grad() = torch::mm(da.t(), h);
  ba_.mutable_grad() = da.sum(0);
  wc_.mutable_grad() = torch::mm(dc.t(), h);
  bc_.mutable_grad() = dc.sum(0);
  torch::Tensor dh = torch::addmm(torch::mm(da, wa_), dc, wc_);  // [M,D]

  std::vector<double> s1(static_cast<std::size_t>(d)), s2(static_cast<std::size_t>(d));
  auto bn_backward = [&](float* du, const float* xhat, Block& blk, const std::vector<float>& invstd) {
    // du -> dz in place; sets the batch-norm parameter gradients.
    std::fill(s1.begin(), s1.end(), 0.0);
    std::fill(s2.begin(), s2.end(), 0.0);
    for (std::int64_t i = 0; i < m; ++i) {
      const float* g = du + i * d;
      const float* xr = xhat + i * d;
      for (std::int64_t j = 0; j < d; ++j) {
        s1[j] += g[j];
        s2[j] += static_cast<double>(g[j]) * xr[j];
      }
    }
    auto dg = torch::empty({d}, opts), db = torch::empty({d}, opts);
    float* dgp = dg.data_ptr<float>();
    float* dbp = db.data_ptr<float>();
    const float* gam = blk.g.data_ptr<float>();
    std::vector<float> k1(static_cast<std::size_t>(d)), k2(static_cast<std::size_t>(d)),
        k3(static_cast<std::size_t>(d));
    for (std::int64_t j = 0; j < d; ++j) {
      dgp[j] = static_cast<float>(s2[j]);
      dbp[j] = static_cast<float>(s1[j]);
      // dz = g * invstd * (du - mean(du) - xhat * mean(du * xhat))
      k1[j] = gam[j] * invstd[j];
      k2[j] = static_cast<float>(s1[j] / md);
      k3[j] = static_cast<float>(s2[j] / md);
    }
    blk.g.mutable_grad() = dg;
    blk.b.mutable_grad() = db;
    if (blk.w.defined()) {
      for (std::int64_t i = 0; i < m; ++i) {
        float* g = du + i * d;
        const float* xr = xhat + i * d;
        for (std::int64_t j = 0; j < d; ++j) g[j] = k1[j] * (g[j] - k2[j] - xr[j] * k3[j]);
      }
    }
  };
  for (std::size_t l = nl; l-- > 0;) {
    dh.mul_(factors[l]);  // through dropout and ReLU
    bn_backward(dh.data_ptr<float>(), xhats[l].data_ptr<float>(), blocks_[l], invstds[l]);
    blocks_[l].w.mutable_grad() = torch::mm(dh.t(), hs[l]);
    dh = torch::mm(dh, blocks_[l].w);  // gradient w.r.t. the block's input
  }
  bn_backward(dh.data_ptr<float>(), xhat0.data_ptr<float>(), in_, invstd0);
  return loss;
}

models::BagOutput AttFused::forward_eval(const torch::Tensor& x, const torch::Tensor& mask,
                                         bool with_instances) {
  torch::NoGradGuard ng;
  const std::int64_t nb = x.size(0), k = x.size(1), d = x.size(2), c = wa_.size(0);
  const Rows rows = real_rows(mask);
  const std::int64_t m = static_cast<std::int64_t>(rows.flat.size());
  models::BagOutput out;
  out.clip = torch::zeros({nb, c});
  if (with_instances) {
    out.instance = torch::zeros({nb, k, c});
    out.attention = torch::zeros({nb, k, c});
    out.embedding = torch::zeros({nb, d});
  }
  if (m == 0) return out;
  const torch::Tensor raw = gather_rows(x, rows);
  // Eval batch-norm is an affine map per feature: fold it into scale/shift.
  auto affine = [&](const Block& blk, std::vector<float>& sc, std::vector<float>& sh) {
    sc.resize(static_cast<std::size_t>(d));
    sh.resize(static_cast<std::size_t>(d));
    const float* g = blk.g.data_ptr<float>();
    const float* b = blk.b.data_ptr<float>();
    const float* rm = blk.running_mean.data_ptr<float>();
    const float* rv = blk.running_var.data_ptr<float>();
    for (std::int64_t j = 0; j < d; ++j) {
      const float inv = static_cast<float>(1.0 / std::sqrt(static_cast<double>(rv[j]) + kBnEps));
      sc[j] = g[j] * inv;
      sh[j] = b[j] - rm[j] * g[j] * inv;
    }
  };
  std::vector<float> sc, sh;
  affine(in_, sc, sh);
  torch::Tensor h = torch::empty({m, d});
  {
    const float* rp = raw.data_ptr<float>();
    float* hp = h.data_ptr<float>();
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < d; ++j) hp[i * d + j] = rp[i * d + j] * sc[j] + sh[j];
  }
  for (const auto& blk : blocks_) {
    h = torch::mm(h, blk.w.t());
    affine(blk, sc, sh);
    float* hp = h.data_ptr<float>();
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < d; ++j)
        hp[i * d + j] = std::max(0.0f, hp[i * d + j] * sc[j] + sh[j]);
  }
  h.add_(raw);
  torch::Tensor la = torch::addmm(ba_, h, wa_.t());
  torch::Tensor lc = torch::addmm(bc_, h, wc_.t());
  float* sa = la.data_ptr<float>();
  float* cc = lc.data_ptr<float>();
  for (std::int64_t i = 0; i < m * c; ++i) {
    sa[i] = std::clamp(sigmoidf(sa[i]), kAttMin, kAttMax);
    cc[i] = sigmoidf(cc[i]);
  }
  float* clip = out.clip.data_ptr<float>();
  float* inst = with_instances ? out.instance.data_ptr<float>() : nullptr;
  float* att = with_instances ? out.attention.data_ptr<float>() : nullptr;
  float* emb = with_instances ? out.embedding.data_ptr<float>() : nullptr;
  const float* hp = h.data_ptr<float>();
  std::vector<float> s(static_cast<std::size_t>(c));
  for (std::int64_t bi = 0; bi < nb; ++bi) {
    const std::int64_t r0 = rows.offset[bi], r1 = rows.offset[bi + 1];
    if (r0 == r1) continue;
    std::fill(s.begin(), s.end(), 0.0f);
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t j = 0; j < c; ++j) s[j] += sa[r * c + j];
    float* cl = clip + bi * c;
    for (std::int64_t r = r0; r < r1; ++r)
      for (std::int64_t j = 0; j < c; ++j) cl[j] += sa[r * c + j] / s[j] * cc[r * c + j];
    if (with_instances) {
      const float inv_n = 1.0f / static_cast<float>(r1 - r0);
      for (std::int64_t r = r0; r < r1; ++r) {
        const std::int64_t f = rows.flat[r];  // b*K + t
        for (std::int64_t j = 0; j < c; ++j) {
          inst[f * c + j] = cc[r * c + j];
          att[f * c + j] = sa[r * c + j] / s[j];
        }
        for (std::int64_t j = 0; j < d; ++j) emb[bi * d + j] += hp[r * d + j] * inv_n;
      }
    }
  }
  return out;
}

}  // namespace tutti::train
