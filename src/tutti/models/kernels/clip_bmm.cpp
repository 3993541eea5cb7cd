#include "tutti/models/kernels/clip_bmm.h"

#include <ATen/Parallel.h>

#include <algorithm>

#include "tutti/models/kernels/lane_ops.h"

namespace tutti::models {

namespace {

// Work (multiply-adds) per parallel chunk below which a chunk is not split further.
constexpr std::int64_t kGrainWork = 1 << 16;

// f(t) for every batch item t, items in parallel (each item's sums stay in one thread).
template <class F>
void each_item(std::int64_t bs, std::int64_t work_per_item, const F& f) {
  const std::int64_t grain =
      std::max<std::int64_t>(1, kGrainWork / std::max<std::int64_t>(1, work_per_item));
  at::parallel_for(0, bs, grain, [&](std::int64_t lo, std::int64_t hi) {
    for (std::int64_t t = lo; t < hi; ++t) f(t);
  });
}

using lanes::axpy;
using lanes::dot;

// out[t] = a[t] . b[t]: a [B,M,K], b [B,K,N], out [B,M,N], contiguous.
void bmm_nn(const float* a, const float* b, float* out, std::int64_t bs, std::int64_t m,
            std::int64_t k, std::int64_t n) {
  each_item(bs, m * k * n, [&](std::int64_t t) {
    const float* at = a + t * m * k;
    float* ot = out + t * m * n;
    std::fill(ot, ot + m * n, 0.0f);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < k; ++j) axpy(at[i * k + j], b + (t * k + j) * n, ot + i * n, n);
  });
}

// ga[t] = g[t] . b[t]^T  (g [B,M,N], b [B,K,N] -> ga [B,M,K])
void bmm_nt(const float* g, const float* b, float* ga, std::int64_t bs, std::int64_t m,
            std::int64_t k, std::int64_t n) {
  each_item(bs, m * k * n, [&](std::int64_t t) {
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < k; ++j)
        ga[(t * m + i) * k + j] = dot(g + (t * m + i) * n, b + (t * k + j) * n, n);
  });
}

// gb[t] = a[t]^T . g[t]  (a [B,M,K], g [B,M,N] -> gb [B,K,N])
void bmm_tn(const float* a, const float* g, float* gb, std::int64_t bs, std::int64_t m,
            std::int64_t k, std::int64_t n) {
  each_item(bs, m * k * n, [&](std::int64_t t) {
    const float* at = a + t * m * k;
    float* ot = gb + t * k * n;
    std::fill(ot, ot + k * n, 0.0f);
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < k; ++j) axpy(at[i * k + j], g + (t * m + i) * n, ot + j * n, n);
  });
}

class ClipBmm : public torch::autograd::Function<ClipBmm> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& a_in,
                               const torch::Tensor& b_in) {
    const auto a = a_in.contiguous(), b = b_in.contiguous();
    ctx->save_for_backward({a, b});
    const std::int64_t bs = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
    auto out = torch::empty({bs, m, n}, a.options());
    bmm_nn(a.data_ptr<float>(), b.data_ptr<float>(), out.data_ptr<float>(), bs, m, k, n);
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& a = saved[0];
    const auto& b = saved[1];
    const auto g = grads[0].contiguous();
    const std::int64_t bs = a.size(0), m = a.size(1), k = a.size(2), n = b.size(2);
    torch::Tensor ga, gb;
    if (ctx->needs_input_grad(0)) {
      ga = torch::empty_like(a);
      bmm_nt(g.data_ptr<float>(), b.data_ptr<float>(), ga.data_ptr<float>(), bs, m, k, n);
    }
    if (ctx->needs_input_grad(1)) {
      gb = torch::empty_like(b);
      bmm_tn(a.data_ptr<float>(), g.data_ptr<float>(), gb.data_ptr<float>(), bs, m, k, n);
    }
    return {ga, gb};
  }
};

}  // namespace

torch::Tensor clip_bmm(const torch::Tensor& a, const torch::Tensor& b) {
  TORCH_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
              "clip_bmm: shapes ", a.sizes(), " x ", b.sizes());
  if (!a.device().is_cpu() || !b.device().is_cpu() || a.scalar_type() != torch::kFloat32 ||
      b.scalar_type() != torch::kFloat32)
    return torch::bmm(a, b);
  return ClipBmm::apply(a, b);
}

}  // namespace tutti::models
