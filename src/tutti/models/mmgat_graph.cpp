// build_instance_graph for float32 CPU tensors: one loop over the clips in parallel, instead of
// ~25 small tensor ops per batch (similarity, masks, top-k, scatter, hop products) that ran on one
// thread. Same definition as the tensor-op path in mmgat.cpp (still used for other devices and
// dtypes); tests/models/test_mmgat_graph.cpp compares the two and test_mmgat_reference.cpp checks
// this one against the PyTorch reference.
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "tutti/models/kernels/lane_ops.h"
#include "tutti/models/mmgat.h"

namespace tutti::models {

using lanes::dot;

InstanceGraph build_instance_graph_cpu(const torch::Tensor& x_in, const torch::Tensor& mask_in,
                                       const GraphOptions& o) {
  const auto x = x_in.contiguous();
  const auto mask = mask_in.to(torch::kBool).contiguous();
  const std::int64_t b = x.size(0), k = x.size(1), d = x.size(2), ns = o.scales;
  InstanceGraph g;
  g.weight = torch::empty({b, k, k}, x.options());
  g.adjacency = torch::empty({b, ns, k, k}, x.options().dtype(torch::kBool));
  const float* xp = x.data_ptr<float>();
  const bool* mp = mask.data_ptr<bool>();
  float* wp = g.weight.data_ptr<float>();
  bool* ap = g.adjacency.data_ptr<bool>();
  const bool cosine = o.similarity == "cosine";
  const bool topk = o.sparsify == "topk";
  const std::int64_t kk = std::min<std::int64_t>(o.top_k, k - 1);
  const auto center = static_cast<float>(o.center);
  const auto thr = static_cast<float>(o.threshold);
  const auto sigma = static_cast<float>(o.emd_sigma);
  const auto sz = [](std::int64_t n) { return static_cast<std::size_t>(n); };
  at::parallel_for(0, b, 8, [&](std::int64_t t0, std::int64_t t1) {
    std::vector<float> v(sz(k * d));  // per node: normalized centred vector, or its CDF
    std::vector<std::int64_t> order(sz(k));
    std::vector<char> adj(sz(k * k)), reach(sz(k * k)), next(sz(k * k));
    for (std::int64_t t = t0; t < t1; ++t) {
      const bool* real = mp + t * k;
      float* w = wp + t * k * k;
      for (std::int64_t i = 0; i < k; ++i) {
        float* vi = v.data() + i * d;
        for (std::int64_t c = 0; c < d; ++c) vi[c] = real[i] ? xp[(t * k + i) * d + c] : 0.0f;
        if (cosine) {
          for (std::int64_t c = 0; c < d; ++c) vi[c] -= center;
          const float nrm = std::max(std::sqrt(dot(vi, vi, d)), 1e-8f);
          for (std::int64_t c = 0; c < d; ++c) vi[c] /= nrm;
        } else {
          // Shift to >= 0, normalize to sum 1 (uniform when all equal), cumulative sum.
          const float mn = *std::min_element(vi, vi + d);
          float sum = 0.0f;
          for (std::int64_t c = 0; c < d; ++c) sum += (vi[c] -= mn);
          float run = 0.0f;
          for (std::int64_t c = 0; c < d; ++c) {
            run += sum > 0.0f ? vi[c] / std::max(sum, 1e-30f) : 1.0f / static_cast<float>(d);
            vi[c] = run;
          }
        }
      }
      for (std::int64_t i = 0; i < k; ++i)
        for (std::int64_t j = 0; j < k; ++j) {
          float wij;
          if (i == j) {
            wij = 1.0f;
          } else if (!real[i] || !real[j]) {
            wij = 0.0f;
          } else if (cosine) {
            const float c = std::clamp(dot(v.data() + i * d, v.data() + j * d, d), -1.0f, 1.0f);
            wij = (c + 1.0f) * 0.5f;
          } else {
            float emd = 0.0f;
            for (std::int64_t c = 0; c < d; ++c) emd += std::abs(v[sz(i * d + c)] - v[sz(j * d + c)]);
            wij = std::exp(-emd / sigma);
          }
          w[i * k + j] = wij;
        }
      // Sparsify over the real off-diagonal pairs; symmetric; self-loops everywhere.
      std::fill(adj.begin(), adj.end(), 0);
      for (std::int64_t i = 0; i < k; ++i) {
        if (!real[i]) continue;
        if (topk) {
          std::int64_t n = 0;
          for (std::int64_t j = 0; j < k; ++j)
            if (j != i && real[j]) order[sz(n++)] = j;
          const std::int64_t keep = std::min(kk, n);
          // Largest weights first; ties to the lower index.
          std::partial_sort(order.begin(), order.begin() + keep, order.begin() + n,
                            [&](std::int64_t a, std::int64_t c) {
                              return w[i * k + a] > w[i * k + c] ||
                                     (w[i * k + a] == w[i * k + c] && a < c);
                            });
          for (std::int64_t q = 0; q < keep; ++q) {
            const std::int64_t j = order[sz(q)];
            adj[sz(i * k + j)] = adj[sz(j * k + i)] = 1;
          }
        } else {
          for (std::int64_t j = 0; j < k; ++j)
            if (j != i && real[j] && w[i * k + j] >= thr) adj[sz(i * k + j)] = 1;
        }
      }
      for (std::int64_t i = 0; i < k; ++i) adj[sz(i * k + i)] = 1;
      // Scale s + 1: reachable within s + 1 steps.
      reach = adj;
      for (std::int64_t s = 0; s < ns; ++s) {
        if (s > 0) {
          for (std::int64_t i = 0; i < k; ++i)
            for (std::int64_t j = 0; j < k; ++j) {
              char r = 0;
              for (std::int64_t m = 0; m < k && !r; ++m) r = reach[sz(i * k + m)] && adj[sz(m * k + j)];
              next[sz(i * k + j)] = r;
            }
          reach.swap(next);
        }
        bool* out = ap + (t * ns + s) * k * k;
        for (std::int64_t q = 0; q < k * k; ++q) out[q] = reach[sz(q)] != 0;
      }
    }
  });
  return g;
}

}  // namespace tutti::models
