#include "tutti/models/kernels/gat_fused.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "tutti/models/kernels/hashed_dropout.h"
#include "tutti/models/kernels/lane_ops.h"

namespace tutti::models {

namespace {

constexpr float kSlope = 0.2f;  // leaky ReLU of the attention scores (GAT)
// The [B*K,H] products run on fixed blocks of rows (of output rows for the weight gradient):
// OpenBLAS's sums for a row depend on how the rows are split, so the split must not follow the
// thread count.
constexpr std::int64_t kRowBlock = 256;
constexpr std::int64_t kWeightRowBlock = 32;
constexpr std::int64_t kClipWork = 1 << 15;  // multiply-adds per parallel chunk of clips

using lanes::axpy;
using lanes::dot;

// LayerNorm of one row: x (the input, overwritten with x_hat) -> out = x_hat g + b; returns
// 1 / sqrt(var + eps) (biased variance, as torch::nn::LayerNorm).
float layer_norm_row(float* x, const float* g, const float* b, float* out, std::int64_t n,
                     float eps) {
  const float mean = lanes::sum(x, n) / static_cast<float>(n);
  for (std::int64_t c = 0; c < n; ++c) x[c] -= mean;
  const float r = 1.0f / std::sqrt(dot(x, x, n) / static_cast<float>(n) + eps);
  for (std::int64_t c = 0; c < n; ++c) {
    x[c] *= r;
    out[c] = x[c] * g[c] + b[c];
  }
  return r;
}

// Its backward: d out -> d x (dx), accumulating d g and d b; scratch holds n floats.
void layer_norm_row_backward(const float* dout, const float* xhat, float rstd, const float* g,
                             float* dg, float* db, float* dx, float* scratch, std::int64_t n) {
  for (std::int64_t c = 0; c < n; ++c) {
    scratch[c] = dout[c] * g[c];
    dg[c] += dout[c] * xhat[c];
    db[c] += dout[c];
  }
  const float s1 = lanes::sum(scratch, n) / static_cast<float>(n);
  const float s2 = dot(scratch, xhat, n) / static_cast<float>(n);
  for (std::int64_t c = 0; c < n; ++c) dx[c] = rstd * (scratch[c] - s1 - xhat[c] * s2);
}

// f(t0, t1) over ranges of the clips [0, b), in parallel.
template <class F>
void each_clips(std::int64_t b, std::int64_t work_per_clip, const F& f) {
  const std::int64_t grain = kClipWork / std::max<std::int64_t>(1, work_per_clip);
  at::parallel_for(0, b, std::max<std::int64_t>(1, grain), f);
}

// f(begin, length) for the blocks of `block` of [0, n), blocks in parallel. Grad mode and
// inference mode are thread-local: LibTorch sets them for a Function's forward and backward (and
// the caller for inference) on the calling thread only, so the blocks in worker threads run under
// the caller's inference mode and without grad mode.
template <class F>
void each_block(std::int64_t n, std::int64_t block, const F& f) {
  const bool inference = c10::InferenceMode::is_enabled();
  at::parallel_for(0, (n + block - 1) / block, 1, [&](std::int64_t b0, std::int64_t b1) {
    c10::InferenceMode im(inference);
    torch::NoGradGuard ng;
    for (std::int64_t b = b0; b < b1; ++b) f(b * block, std::min(block, n - b * block));
  });
}

// out = a b, by fixed blocks of rows of a and out in parallel (a [N,I], b [I,O], out [N,O]).
void rows_mm(torch::Tensor& out, const torch::Tensor& a, const torch::Tensor& b) {
  each_block(a.size(0), kRowBlock, [&](std::int64_t r, std::int64_t n) {
    auto o = out.narrow(0, r, n);
    at::mm_out(o, a.narrow(0, r, n), b);
  });
}

// A weight's gradient dy^T x (dy [N,O], x [N,I] -> [O,I]), by fixed blocks of its rows in
// parallel.
torch::Tensor weight_grad(const torch::Tensor& dy, const torch::Tensor& x) {
  auto dw = torch::empty({dy.size(1), x.size(1)}, x.options());
  each_block(dy.size(1), kWeightRowBlock, [&](std::int64_t r, std::int64_t n) {
    auto o = dw.narrow(0, r, n);
    at::mm_out(o, dy.narrow(1, r, n).t(), x);
  });
  return dw;
}

// Column sums of per-clip or per-block partials [N,M] -> [M], the rows added in order: parameter
// gradients that do not depend on how the rows were split over the threads.
torch::Tensor column_sums(const torch::Tensor& partials) {
  const std::int64_t n = partials.size(0), m = partials.size(1);
  auto out = torch::empty({m}, partials.options());
  const float* p = partials.data_ptr<float>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, m, 64, [&](std::int64_t c0, std::int64_t c1) {
    for (std::int64_t c = c0; c < c1; ++c) {
      float s = 0.0f;
      for (std::int64_t t = 0; t < n; ++t) s += p[t * m + c];
      o[c] = s;
    }
  });
  return out;
}

// The dropout of one op call: drawn in forward (same order as hashed_dropout), kept for backward.
struct Dropout {
  bool on = false;
  std::uint64_t base = 0;
  DropoutKeep keep;

  // clip_elements: the elements of one clip in the output (keys the masks in data-parallel
  // training, hashed_dropout.h).
  static Dropout draw(double p, bool training, std::int64_t clip_elements) {
    Dropout d;
    d.on = training && p > 0.0;
    d.base =
        d.on ? draw_dropout_base() + dropout_share_shift(DropoutRows::kClips, clip_elements) : 0;
    d.keep = dropout_keep(d.on ? p : 0.0);
    return d;
  }
  void save(torch::autograd::AutogradContext* ctx) const {
    ctx->saved_data["drop"] = on;
    ctx->saved_data["base"] = static_cast<std::int64_t>(base);
    ctx->saved_data["keep_below"] = static_cast<std::int64_t>(keep.below);
    ctx->saved_data["keep_scale"] = static_cast<double>(keep.scale);
  }
  static Dropout load(torch::autograd::AutogradContext* ctx) {
    Dropout d;
    d.on = ctx->saved_data["drop"].toBool();
    d.base = static_cast<std::uint64_t>(ctx->saved_data["base"].toInt());
    d.keep = {static_cast<std::uint32_t>(ctx->saved_data["keep_below"].toInt()),
              static_cast<float>(ctx->saved_data["keep_scale"].toDouble())};
    return d;
  }
  // Factors (keep scale or 0) for the elements [q0, q0 + n); left as they are (1) when off.
  void mask(float* out, std::int64_t q0, std::int64_t n) const {
    if (on) dropout_mask(out, base, q0, q0 + n, keep.below, keep.scale);
  }
};

// Per node, the 2S+1 scores that are linear in z: e_dst (S), e_src (S) and u . z (fusion).
// sc = z P^T with P = [att_dst; att_src; fuse_u] [2S+1,H].
struct Saved {
  torch::Tensor z, sc, alpha, beta, elu, xhat, rstd;
};

class FusedGatLayer : public torch::autograd::Function<FusedGatLayer> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& h_in,
                               const torch::Tensor& adjacency_in, const torch::Tensor& log_w_in,
                               const torch::Tensor& w_proj, const torch::Tensor& att_src,
                               const torch::Tensor& att_dst, const torch::Tensor& fuse_u,
                               const torch::Tensor& fuse_b, const torch::Tensor& ln_weight,
                               const torch::Tensor& ln_bias, double ln_eps, double dropout,
                               bool training) {
    const auto h = h_in.contiguous();
    const auto adjacency = adjacency_in.contiguous();
    const auto log_w = log_w_in.contiguous();
    const auto w = w_proj.contiguous();
    const auto proj = torch::cat({att_dst, att_src, fuse_u.unsqueeze(0)}).contiguous();
    const auto fb = fuse_b.contiguous();
    const auto g = ln_weight.contiguous(), lb = ln_bias.contiguous();
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2), ns = att_src.size(0);
    const std::int64_t np = 2 * ns + 1;
    const auto opt = h.options();
    Saved sv;
    sv.z = torch::empty({bs, k, hd}, opt);
    sv.sc = torch::empty({bs * k, np}, opt);
    const auto z2 = sv.z.view({bs * k, hd}), h2 = h.view({bs * k, hd});
    each_block(bs * k, kRowBlock, [&](std::int64_t r, std::int64_t n) {
      auto o = z2.narrow(0, r, n);
      at::mm_out(o, h2.narrow(0, r, n), w.t());
      auto so = sv.sc.narrow(0, r, n);
      at::mm_out(so, o, proj.t());
    });
    sv.alpha = torch::empty({bs, ns, k, k}, opt);
    sv.beta = torch::empty({bs, ns, k}, opt);
    sv.elu = torch::empty({bs, k, hd}, opt);
    sv.xhat = torch::empty({bs, k, hd}, opt);
    sv.rstd = torch::empty({bs, k}, opt);
    auto out = torch::empty({bs, k, hd}, opt);
    const auto drop = Dropout::draw(dropout, training, k * hd);

    const float *hp = h.data_ptr<float>(), *zp = sv.z.data_ptr<float>(),
                *scp = sv.sc.data_ptr<float>();
    const bool* adj = adjacency.data_ptr<bool>();
    const float *lw = log_w.data_ptr<float>(), *fbp = fb.data_ptr<float>(),
                *gp = g.data_ptr<float>(), *lbp = lb.data_ptr<float>();
    float *al = sv.alpha.data_ptr<float>(), *be = sv.beta.data_ptr<float>(),
          *ep = sv.elu.data_ptr<float>(), *xh = sv.xhat.data_ptr<float>(),
          *rs = sv.rstd.data_ptr<float>(), *op = out.data_ptr<float>();
    const float eps = static_cast<float>(ln_eps);
    each_clips(bs, 2 * k * k * hd, [&](std::int64_t t0, std::int64_t t1) {
      const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
      std::vector<float> f(sz(ns * k)), mixed(sz(k * k)), row(sz(k));
      for (std::int64_t t = t0; t < t1; ++t) {
        const float* zt = zp + t * k * hd;
        const float* sct = scp + t * k * np;  // node i: e_dst sct[i np + s], e_src [.. + S + s]
        float* alt = al + t * ns * k * k;
        float* bet = be + t * ns * k;
        // Attention per scale and node: masked softmax over the neighbourhood.
        for (std::int64_t s = 0; s < ns; ++s)
          for (std::int64_t i = 0; i < k; ++i) {
            const bool* allow = adj + ((t * ns + s) * k + i) * k;
            const float* lwi = lw + (t * k + i) * k;
            float* a = alt + (s * k + i) * k;
            const float edi = sct[i * np + s];
            float mx = -std::numeric_limits<float>::infinity();
            for (std::int64_t j = 0; j < k; ++j) {
              if (!allow[j]) continue;
              const float pre = edi + sct[j * np + ns + s];
              row[sz(j)] = (pre > 0.0f ? pre : kSlope * pre) + lwi[j];
              mx = std::max(mx, row[sz(j)]);
            }
            float sum = 0.0f;
            for (std::int64_t j = 0; j < k; ++j) {
              a[j] = allow[j] ? std::exp(row[sz(j)] - mx) : 0.0f;
              sum += a[j];
            }
            float fi = 0.0f;
            for (std::int64_t j = 0; j < k; ++j) {
              a[j] /= sum;
              fi += a[j] * sct[j * np + 2 * ns];
            }
            f[sz(s * k + i)] = fi + fbp[s];
          }
        // Scale weights: softmax over the scales per node; the fused attention matrix.
        std::fill(mixed.begin(), mixed.end(), 0.0f);
        for (std::int64_t i = 0; i < k; ++i) {
          float mx = -std::numeric_limits<float>::infinity();
          for (std::int64_t s = 0; s < ns; ++s) mx = std::max(mx, f[sz(s * k + i)]);
          float sum = 0.0f;
          for (std::int64_t s = 0; s < ns; ++s)
            sum += (bet[s * k + i] = std::exp(f[sz(s * k + i)] - mx));
          for (std::int64_t s = 0; s < ns; ++s) {
            bet[s * k + i] /= sum;
            axpy(bet[s * k + i], alt + (s * k + i) * k, mixed.data() + i * k, k);
          }
        }
        // m = mixed z (ELU applied below).
        float* et = ep + t * k * hd;
        std::fill(et, et + k * hd, 0.0f);
        for (std::int64_t i = 0; i < k; ++i)
          for (std::int64_t j = 0; j < k; ++j) axpy(mixed[sz(i * k + j)], zt + j * hd, et + i * hd, hd);
      }
    });
    {
      // ELU over the whole batch with ATen's kernel (vectorized exp, chosen for the CPU at run
      // time; one libm call per element was a third of this op). Kept for the backward.
      torch::NoGradGuard ng;
      at::elu_(sv.elu);
    }
    each_clips(bs, k * hd * 8, [&](std::int64_t t0, std::int64_t t1) {
      std::vector<float> mask(static_cast<std::size_t>(k * hd), 1.0f);
      for (std::int64_t t = t0; t < t1; ++t) {
        // Dropout; residual; LayerNorm.
        const float* et = ep + t * k * hd;
        drop.mask(mask.data(), t * k * hd, k * hd);
        for (std::int64_t i = 0; i < k; ++i) {
          const float* hi = hp + (t * k + i) * hd;
          const float* ei = et + i * hd;
          const float* mi = mask.data() + i * hd;
          float* xi = xh + (t * k + i) * hd;
          for (std::int64_t c = 0; c < hd; ++c) xi[c] = hi[c] + ei[c] * mi[c];
          rs[t * k + i] = layer_norm_row(xi, gp, lbp, op + (t * k + i) * hd, hd, eps);
        }
      }
    });
    ctx->save_for_backward({h, adjacency, w, proj, g, sv.z, sv.sc, sv.alpha, sv.beta, sv.elu,
                            sv.xhat, sv.rstd});
    drop.save(ctx);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &adjacency = saved[1], &w = saved[2], &proj = saved[3],
               &g = saved[4], &z = saved[5], &sc = saved[6], &alpha = saved[7],
               &beta = saved[8], &elu = saved[9], &xhat = saved[10], &rstd = saved[11];
    const auto dout = grads[0].contiguous();
    const auto drop = Dropout::load(ctx);
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2);
    const std::int64_t np = proj.size(0), ns = (np - 1) / 2;
    const auto opt = h.options();
    // Per-clip gradients of the LayerNorm weight [H] and bias [H] and of fuse_b [S], summed over
    // the clips afterwards in a fixed order.
    const std::int64_t o_lb = hd, o_fb = 2 * hd, npg = 2 * hd + ns;
    auto pg = torch::zeros({bs, npg}, opt);
    auto dh = torch::empty({bs, k, hd}, opt);
    auto dz = torch::empty({bs, k, hd}, opt);
    auto dsc = torch::empty({bs * k, np}, opt);  // d loss / d sc

    const float *dop = dout.data_ptr<float>(), *zp = z.data_ptr<float>(),
                *scp = sc.data_ptr<float>(), *al = alpha.data_ptr<float>(),
                *be = beta.data_ptr<float>(), *ep = elu.data_ptr<float>(),
                *xh = xhat.data_ptr<float>(), *rs = rstd.data_ptr<float>(),
                *gp = g.data_ptr<float>();
    const bool* adj = adjacency.data_ptr<bool>();
    float *pgp = pg.data_ptr<float>(), *dhp = dh.data_ptr<float>(), *dzp = dz.data_ptr<float>(),
          *dscp = dsc.data_ptr<float>();
    each_clips(bs, 3 * k * k * hd, [&](std::int64_t t0, std::int64_t t1) {
      const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
      std::vector<float> dm(sz(k * hd)), mask(sz(k * hd), 1.0f), mixed(sz(k * k)),
          dmixed(sz(k * k)), dalpha(sz(ns * k * k)), dbeta(sz(ns * k)), dx(sz(hd));
      for (std::int64_t t = t0; t < t1; ++t) {
        float* pgt = pgp + t * npg;
        const float* zt = zp + t * k * hd;
        const float* sct = scp + t * k * np;
        float* dsct = dscp + t * k * np;
        const float* alt = al + t * ns * k * k;
        const float* bet = be + t * ns * k;
        float* dzt = dzp + t * k * hd;
        drop.mask(mask.data(), t * k * hd, k * hd);
        // LayerNorm, residual, dropout and ELU (slope 1, or elu + 1 = exp(m) where m <= 0).
        for (std::int64_t i = 0; i < k; ++i) {
          const float* doi = dop + (t * k + i) * hd;
          const float* xi = xh + (t * k + i) * hd;
          const float* ei = ep + (t * k + i) * hd;
          const float* mi = mask.data() + i * hd;
          float* dhi = dhp + (t * k + i) * hd;
          float* dmi = dm.data() + i * hd;
          layer_norm_row_backward(doi, xi, rs[t * k + i], gp, pgt, pgt + o_lb, dhi, dx.data(), hd);
          for (std::int64_t c = 0; c < hd; ++c)
            dmi[c] = dhi[c] * mi[c] * (ei[c] > 0.0f ? 1.0f : ei[c] + 1.0f);
        }
        // m = mixed z.
        std::fill(mixed.begin(), mixed.end(), 0.0f);
        for (std::int64_t s = 0; s < ns; ++s)
          for (std::int64_t i = 0; i < k; ++i)
            axpy(bet[s * k + i], alt + (s * k + i) * k, mixed.data() + i * k, k);
        std::fill(dzt, dzt + k * hd, 0.0f);
        for (std::int64_t i = 0; i < k; ++i)
          for (std::int64_t j = 0; j < k; ++j) {
            dmixed[sz(i * k + j)] = dot(dm.data() + i * hd, zt + j * hd, hd);
            axpy(mixed[sz(i * k + j)], dm.data() + i * hd, dzt + j * hd, hd);
          }
        // mixed = sum_s beta alpha; beta = softmax_s(f); f = alpha zu + b.
        for (std::int64_t s = 0; s < ns; ++s)
          for (std::int64_t i = 0; i < k; ++i) {
            const float* a = alt + (s * k + i) * k;
            float db = 0.0f;
            for (std::int64_t j = 0; j < k; ++j) db += dmixed[sz(i * k + j)] * a[j];
            dbeta[sz(s * k + i)] = db;
          }
        std::fill(dsct, dsct + k * np, 0.0f);
        for (std::int64_t i = 0; i < k; ++i) {
          float sb = 0.0f;
          for (std::int64_t s = 0; s < ns; ++s) sb += bet[s * k + i] * dbeta[sz(s * k + i)];
          for (std::int64_t s = 0; s < ns; ++s) {
            const float b = bet[s * k + i];
            const float dfi = b * (dbeta[sz(s * k + i)] - sb);
            pgt[o_fb + s] += dfi;
            const float* a = alt + (s * k + i) * k;
            float* da = dalpha.data() + (s * k + i) * k;
            for (std::int64_t j = 0; j < k; ++j) {
              da[j] = b * dmixed[sz(i * k + j)] + dfi * sct[j * np + 2 * ns];
              dsct[j * np + 2 * ns] += dfi * a[j];
            }
          }
        }
        // alpha = masked softmax_j(leaky(e_dst,i + e_src,j) + log_w).
        for (std::int64_t s = 0; s < ns; ++s)
          for (std::int64_t i = 0; i < k; ++i) {
            const float* a = alt + (s * k + i) * k;
            const float* da = dalpha.data() + (s * k + i) * k;
            const bool* allow = adj + ((t * ns + s) * k + i) * k;
            float sd = 0.0f;
            for (std::int64_t j = 0; j < k; ++j) sd += a[j] * da[j];
            for (std::int64_t j = 0; j < k; ++j) {
              if (!allow[j]) continue;
              const float pre = sct[i * np + s] + sct[j * np + ns + s];
              const float de = a[j] * (da[j] - sd) * (pre > 0.0f ? 1.0f : kSlope);
              dsct[i * np + s] += de;
              dsct[j * np + ns + s] += de;
            }
          }
      }
    });
    // sc = z P^T: dz += dsc P, dP = dsc^T z. z = h w^T: dh += dz w, dw = dz^T h.
    const auto dz2 = dz.view({bs * k, hd}), h2 = h.view({bs * k, hd}), z2 = z.view({bs * k, hd});
    auto dh2 = dh.view({bs * k, hd});
    each_block(bs * k, kRowBlock, [&](std::int64_t r, std::int64_t n) {
      auto dzb = dz2.narrow(0, r, n);
      dzb.addmm_(dsc.narrow(0, r, n), proj);
      dh2.narrow(0, r, n).addmm_(dzb, w);
    });
    const auto dw = weight_grad(dz2, h2);
    const auto dproj = weight_grad(dsc, z2);  // [2S+1,H]
    const auto pgs = column_sums(pg);          // LayerNorm and fuse_b gradients
    return {dh,
            torch::Tensor(),
            torch::Tensor(),
            dw,
            dproj.narrow(0, ns, ns).clone(),   // att_src
            dproj.narrow(0, 0, ns).clone(),    // att_dst
            dproj[2 * ns].clone(),             // fuse_u
            pgs.narrow(0, o_fb, ns).clone(),
            pgs.narrow(0, 0, hd).clone(),
            pgs.narrow(0, o_lb, hd).clone(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

// dropout(LayerNorm(x w^T + b)) over rows, in fixed row blocks.
class FusedInputLayer : public torch::autograd::Function<FusedInputLayer> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x_in,
                               const torch::Tensor& w_in, const torch::Tensor& b_in,
                               const torch::Tensor& ln_weight, const torch::Tensor& ln_bias,
                               double ln_eps, double dropout, bool training) {
    const auto x = x_in.contiguous(), w = w_in.contiguous(), b = b_in.contiguous();
    const auto g = ln_weight.contiguous(), lb = ln_bias.contiguous();
    const std::int64_t m = x.numel() / x.size(-1), d = x.size(-1), hd = w.size(0);
    const auto x2 = x.view({m, d});
    auto xhat = torch::empty({m, hd}, x.options());
    auto rstd = torch::empty({m}, x.options());
    auto out = torch::empty({m, hd}, x.options());
    const auto drop = Dropout::draw(dropout, training, x.size(0) > 0 ? m / x.size(0) * hd : 0);
    float *xh = xhat.data_ptr<float>(), *rs = rstd.data_ptr<float>(), *op = out.data_ptr<float>();
    const float *gp = g.data_ptr<float>(), *lbp = lb.data_ptr<float>();
    const auto eps = static_cast<float>(ln_eps);
    each_block(m, kRowBlock, [&](std::int64_t r, std::int64_t n) {
      auto pre = xhat.narrow(0, r, n);
      at::addmm_out(pre, b, x2.narrow(0, r, n), w.t());
      std::vector<float> mask(static_cast<std::size_t>(n * hd), 1.0f);
      drop.mask(mask.data(), r * hd, n * hd);
      for (std::int64_t i = r; i < r + n; ++i) {
        float* oi = op + i * hd;
        rs[i] = layer_norm_row(xh + i * hd, gp, lbp, oi, hd, eps);
        const float* mi = mask.data() + (i - r) * hd;
        for (std::int64_t c = 0; c < hd; ++c) oi[c] *= mi[c];
      }
    });
    ctx->save_for_backward({x, w, g, xhat, rstd});
    drop.save(ctx);
    auto sizes = x.sizes().vec();
    sizes.back() = hd;
    return out.view(sizes);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &x = saved[0], &w = saved[1], &g = saved[2], &xhat = saved[3], &rstd = saved[4];
    const auto drop = Dropout::load(ctx);
    const std::int64_t m = xhat.size(0), d = x.size(-1), hd = w.size(0);
    const auto dout = grads[0].contiguous().view({m, hd});
    const auto x2 = x.view({m, d});
    auto dpre = torch::empty({m, hd}, x.options());
    // Per row block: d LayerNorm weight, d LayerNorm bias, d linear bias; summed in block order.
    const std::int64_t nblocks = (m + kRowBlock - 1) / kRowBlock;
    auto pg = torch::zeros({nblocks, 3 * hd}, x.options());
    const float *dop = dout.data_ptr<float>(), *xh = xhat.data_ptr<float>(),
                *rs = rstd.data_ptr<float>(), *gp = g.data_ptr<float>();
    float *dp = dpre.data_ptr<float>(), *pgp = pg.data_ptr<float>();
    each_block(m, kRowBlock, [&](std::int64_t r, std::int64_t n) {
      std::vector<float> mask(static_cast<std::size_t>(n * hd), 1.0f), dy(static_cast<std::size_t>(hd)),
          scratch(static_cast<std::size_t>(hd));
      drop.mask(mask.data(), r * hd, n * hd);
      float* pgb = pgp + (r / kRowBlock) * 3 * hd;
      for (std::int64_t i = r; i < r + n; ++i) {
        const float* mi = mask.data() + (i - r) * hd;
        for (std::int64_t c = 0; c < hd; ++c) dy[static_cast<std::size_t>(c)] = dop[i * hd + c] * mi[c];
        float* di = dp + i * hd;
        layer_norm_row_backward(dy.data(), xh + i * hd, rs[i], gp, pgb, pgb + hd, di,
                                scratch.data(), hd);
        for (std::int64_t c = 0; c < hd; ++c) pgb[2 * hd + c] += di[c];
      }
    });
    const auto dw = weight_grad(dpre, x2);
    torch::Tensor dx;
    if (ctx->needs_input_grad(0)) {
      dx = torch::empty({m, d}, x.options());
      rows_mm(dx, dpre, w);
      dx = dx.view(x.sizes());
    }
    const auto sums = column_sums(pg);
    return {dx,
            dw,
            sums.narrow(0, 2 * hd, hd).clone(),
            sums.narrow(0, 0, hd).clone(),
            sums.narrow(0, hd, hd).clone(),
            torch::Tensor(),
            torch::Tensor(),
            torch::Tensor()};
  }
};

// MMGAT's class-specific attention pooling. Per clip, S = h [q; w]^T ([K,2C], one product over
// the batch's rows); per class c: alpha_ic = softmax over the clip's nodes of S_ic, node logit
// n_ic = S_i(C+c) + b_c, clip logit sum_i alpha_ic n_ic.
class FusedClassPooling : public torch::autograd::Function<FusedClassPooling> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                const torch::Tensor& h_in,
                                                const torch::Tensor& mask_in,
                                                const torch::Tensor& q, const torch::Tensor& w,
                                                const torch::Tensor& b_in) {
    const auto h = h_in.contiguous(), mask = mask_in.contiguous(), b = b_in.contiguous();
    const auto proj = torch::cat({q, w}).contiguous();  // [2C,H]
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2), nc = q.size(0);
    const auto opt = h.options();
    auto sc = torch::empty({bs * k, 2 * nc}, opt);
    rows_mm(sc, h.view({bs * k, hd}), proj.t());
    auto logits = torch::empty({bs, nc}, opt);
    auto alpha = torch::empty({bs, k, nc}, opt);
    auto node = torch::empty({bs, k, nc}, opt);
    const float *scp = sc.data_ptr<float>(), *bp = b.data_ptr<float>();
    const bool* mp = mask.data_ptr<bool>();
    float *lp = logits.data_ptr<float>(), *ap = alpha.data_ptr<float>(),
          *np = node.data_ptr<float>();
    each_clips(bs, 4 * k * nc, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t) {
        const bool* mt = mp + t * k;
        for (std::int64_t c = 0; c < nc; ++c) {
          float mx = -std::numeric_limits<float>::infinity();
          for (std::int64_t i = 0; i < k; ++i)
            if (mt[i]) mx = std::max(mx, scp[(t * k + i) * 2 * nc + c]);
          float sum = 0.0f;
          for (std::int64_t i = 0; i < k; ++i) {
            float& a = ap[(t * k + i) * nc + c];
            a = mt[i] ? std::exp(scp[(t * k + i) * 2 * nc + c] - mx) : 0.0f;
            sum += a;
          }
          float logit = 0.0f;
          for (std::int64_t i = 0; i < k; ++i) {
            float& a = ap[(t * k + i) * nc + c];
            if (sum > 0.0f) a /= sum;
            float& n = np[(t * k + i) * nc + c];
            n = scp[(t * k + i) * 2 * nc + nc + c] + bp[c];
            logit += a * n;
          }
          lp[t * nc + c] = logit;
        }
      }
    });
    ctx->save_for_backward({h, proj, alpha, node});
    return {logits, alpha, node};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &h = saved[0], &proj = saved[1], &alpha = saved[2], &node = saved[3];
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2), nc = proj.size(0) / 2;
    const auto opt = h.options();
    const auto dlog = grads[0].defined() ? grads[0].contiguous() : torch::Tensor();
    const auto dal = grads[1].defined() ? grads[1].contiguous() : torch::Tensor();
    const auto dnode = grads[2].defined() ? grads[2].contiguous() : torch::Tensor();
    auto dsc = torch::empty({bs * k, 2 * nc}, opt);
    auto pg = torch::empty({bs, nc}, opt);  // per clip: d b
    const float *ap = alpha.data_ptr<float>(), *np = node.data_ptr<float>(),
                *dlp = dlog.defined() ? dlog.data_ptr<float>() : nullptr,
                *dap = dal.defined() ? dal.data_ptr<float>() : nullptr,
                *dnp = dnode.defined() ? dnode.data_ptr<float>() : nullptr;
    float *dsp = dsc.data_ptr<float>(), *pgp = pg.data_ptr<float>();
    each_clips(bs, 4 * k * nc, [&](std::int64_t t0, std::int64_t t1) {
      std::vector<float> da(static_cast<std::size_t>(k));
      for (std::int64_t t = t0; t < t1; ++t)
        for (std::int64_t c = 0; c < nc; ++c) {
          const float dl = dlp ? dlp[t * nc + c] : 0.0f;
          float sd = 0.0f, db = 0.0f;
          for (std::int64_t i = 0; i < k; ++i) {
            const std::int64_t e = (t * k + i) * nc + c;
            const float d = dl * np[e] + (dap ? dap[e] : 0.0f);
            da[static_cast<std::size_t>(i)] = d;
            sd += ap[e] * d;
            const float dn = dl * ap[e] + (dnp ? dnp[e] : 0.0f);
            dsp[(t * k + i) * 2 * nc + nc + c] = dn;
            db += dn;
          }
          for (std::int64_t i = 0; i < k; ++i) {
            const std::int64_t e = (t * k + i) * nc + c;
            dsp[(t * k + i) * 2 * nc + c] = ap[e] * (da[static_cast<std::size_t>(i)] - sd);
          }
          pgp[t * nc + c] = db;
        }
    });
    // S = h P^T: dh = dS P, dP = dS^T h.
    const auto h2 = h.view({bs * k, hd});
    auto dh = torch::empty({bs * k, hd}, opt);
    rows_mm(dh, dsc, proj);
    const auto dproj = weight_grad(dsc, h2);
    const auto db = column_sums(pg);
    return {dh.view(h.sizes()), torch::Tensor(), dproj.narrow(0, 0, nc).clone(),
            dproj.narrow(0, nc, nc).clone(), db};
  }
};

// MMGAT's class center distances over the positive pairs (b,c) only: F_bc = sum_i alpha_bic h_bi,
// d2_bc = |F_bc - center_c|^2 / 2 (0 for the other pairs); with the per-class sums of F - center
// over the positives, for the center update.
class FusedCenterDistances : public torch::autograd::Function<FusedCenterDistances> {
 public:
  static torch::autograd::variable_list forward(torch::autograd::AutogradContext* ctx,
                                                const torch::Tensor& alpha_in,
                                                const torch::Tensor& h_in,
                                                const torch::Tensor& pos_in,
                                                const torch::Tensor& centers_in) {
    const auto alpha = alpha_in.contiguous(), h = h_in.contiguous();
    const auto pos = pos_in.contiguous(), centers = centers_in.contiguous();
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2), nc = alpha.size(2);
    const auto opt = h.options();
    auto d2 = torch::zeros({bs, nc}, opt);
    auto diff = torch::zeros({bs, nc, hd}, opt);  // F - center, positive pairs only
    const float *ap = alpha.data_ptr<float>(), *hp = h.data_ptr<float>(),
                *pp = pos.data_ptr<float>(), *cp = centers.data_ptr<float>();
    float *dp = d2.data_ptr<float>(), *fp = diff.data_ptr<float>();
    each_clips(bs, k * hd * 2, [&](std::int64_t t0, std::int64_t t1) {
      for (std::int64_t t = t0; t < t1; ++t)
        for (std::int64_t c = 0; c < nc; ++c) {
          if (pp[t * nc + c] <= 0.0f) continue;
          float* f = fp + (t * nc + c) * hd;
          for (std::int64_t i = 0; i < k; ++i)
            axpy(ap[(t * k + i) * nc + c], hp + (t * k + i) * hd, f, hd);
          for (std::int64_t j = 0; j < hd; ++j) f[j] -= cp[c * hd + j];
          dp[t * nc + c] = 0.5f * dot(f, f, hd);
        }
    });
    auto sums = torch::zeros({nc, hd}, opt);
    float* sp = sums.data_ptr<float>();
    for (std::int64_t t = 0; t < bs; ++t)
      for (std::int64_t c = 0; c < nc; ++c)
        if (pp[t * nc + c] > 0.0f) axpy(1.0f, fp + (t * nc + c) * hd, sp + c * hd, hd);
    ctx->save_for_backward({alpha, h, pos, diff});
    ctx->mark_non_differentiable({sums});
    return {d2, sums};
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto &alpha = saved[0], &h = saved[1], &pos = saved[2], &diff = saved[3];
    const std::int64_t bs = h.size(0), k = h.size(1), hd = h.size(2), nc = alpha.size(2);
    auto dalpha = torch::zeros_like(alpha);
    auto dh = torch::zeros_like(h);
    if (grads[0].defined()) {
      const auto dd = grads[0].contiguous();
      const float *ap = alpha.data_ptr<float>(), *hp = h.data_ptr<float>(),
                  *pp = pos.data_ptr<float>(), *fp = diff.data_ptr<float>(),
                  *ddp = dd.data_ptr<float>();
      float *dap = dalpha.data_ptr<float>(), *dhp = dh.data_ptr<float>();
      // dF_bc = g_bc (F_bc - center_c); d alpha_bic = dF_bc . h_bi; d h_bi += alpha_bic dF_bc.
      each_clips(bs, k * hd * 2, [&](std::int64_t t0, std::int64_t t1) {
        std::vector<float> df(static_cast<std::size_t>(hd));
        for (std::int64_t t = t0; t < t1; ++t)
          for (std::int64_t c = 0; c < nc; ++c) {
            const float g = ddp[t * nc + c];
            if (pp[t * nc + c] <= 0.0f || g == 0.0f) continue;
            const float* f = fp + (t * nc + c) * hd;
            for (std::int64_t j = 0; j < hd; ++j) df[static_cast<std::size_t>(j)] = g * f[j];
            for (std::int64_t i = 0; i < k; ++i) {
              const std::int64_t e = (t * k + i) * nc + c;
              dap[e] = dot(df.data(), hp + (t * k + i) * hd, hd);
              axpy(ap[e], df.data(), dhp + (t * k + i) * hd, hd);
            }
          }
      });
    }
    return {dalpha, dh, torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

bool can_fuse_gat(const torch::Tensor& h) {
  return h.device().is_cpu() && h.scalar_type() == torch::kFloat32;
}

torch::Tensor fused_gat_layer(const torch::Tensor& h, const torch::Tensor& adjacency,
                              const torch::Tensor& log_w, const GatLayerParams& p, double dropout,
                              bool training) {
  TORCH_CHECK(can_fuse_gat(h) && h.dim() == 3 && adjacency.dim() == 4 &&
                  adjacency.scalar_type() == torch::kBool && log_w.dim() == 3,
              "fused_gat_layer: h ", h.sizes(), ", adjacency ", adjacency.sizes(), ", log_w ",
              log_w.sizes());
  return FusedGatLayer::apply(h, adjacency, log_w.detach(), p.w_proj, p.att_src, p.att_dst,
                              p.fuse_u, p.fuse_b, p.ln_weight, p.ln_bias, p.ln_eps, dropout,
                              training);
}

torch::Tensor fused_input_layer(const torch::Tensor& x, const InputLayerParams& p, double dropout,
                                bool training) {
  TORCH_CHECK(can_fuse_gat(x) && x.dim() >= 2 && x.size(-1) == p.weight.size(1),
              "fused_input_layer: x ", x.sizes(), ", weight ", p.weight.sizes());
  return FusedInputLayer::apply(x, p.weight, p.bias, p.ln_weight, p.ln_bias, p.ln_eps, dropout,
                                training);
}

ClassPooling fused_class_pooling(const torch::Tensor& h, const torch::Tensor& mask,
                                 const torch::Tensor& queries, const torch::Tensor& cls_w,
                                 const torch::Tensor& cls_b) {
  TORCH_CHECK(can_fuse_gat(h) && h.dim() == 3 && mask.sizes() == h.sizes().slice(0, 2) &&
                  mask.scalar_type() == torch::kBool && queries.dim() == 2 &&
                  queries.size(1) == h.size(2) && cls_w.sizes() == queries.sizes() &&
                  cls_b.dim() == 1 && cls_b.size(0) == queries.size(0),
              "fused_class_pooling: h ", h.sizes(), ", mask ", mask.sizes(), ", queries ",
              queries.sizes(), ", cls_w ", cls_w.sizes(), ", cls_b ", cls_b.sizes());
  auto out = FusedClassPooling::apply(h, mask, queries, cls_w, cls_b);
  return {out[0], out[1], out[2]};
}

CenterDistances fused_center_distances(const torch::Tensor& alpha, const torch::Tensor& h,
                                       const torch::Tensor& pos, const torch::Tensor& centers) {
  TORCH_CHECK(can_fuse_gat(h) && h.dim() == 3 && alpha.dim() == 3 &&
                  alpha.sizes().slice(0, 2) == h.sizes().slice(0, 2) &&
                  pos.sizes() == at::IntArrayRef({h.size(0), alpha.size(2)}) &&
                  pos.scalar_type() == torch::kFloat32 &&
                  centers.sizes() == at::IntArrayRef({alpha.size(2), h.size(2)}),
              "fused_center_distances: alpha ", alpha.sizes(), ", h ", h.sizes(), ", pos ",
              pos.sizes(), ", centers ", centers.sizes());
  auto out = FusedCenterDistances::apply(alpha, h, pos.detach(), centers.detach());
  return {out[0], out[1]};
}

}  // namespace tutti::models
