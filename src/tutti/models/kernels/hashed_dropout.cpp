#include "tutti/models/kernels/hashed_dropout.h"

#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tutti/core/error.h"

namespace tutti::models {

void dropout_mask(float* mask, std::uint64_t base, std::int64_t q0, std::int64_t q1,
                  std::uint32_t keep_below, float keep_scale) {
  const auto one = [&](std::int64_t q) {
    mask[q - q0] = hash_kept(base, q, keep_below) ? keep_scale : 0.0f;
  };
  using v4f = float __attribute__((vector_size(16)));
  std::int64_t q = q0;
  for (; q < q1 && (q & 3) != 0; ++q) one(q);
  const HashLanes below = {keep_below, keep_below, keep_below, keep_below};
  const v4f scale = {keep_scale, keep_scale, keep_scale, keep_scale};
  for (; q + 4 <= q1; q += 4) {
    const v4f m = reinterpret_cast<v4f>(reinterpret_cast<HashLanes>(scale) &
                                        reinterpret_cast<HashLanes>(hash_lanes(base, q) < below));
    std::memcpy(mask + (q - q0), &m, sizeof m);
  }
  for (; q < q1; ++q) one(q);
}

std::uint64_t draw_dropout_base() {
  return static_cast<std::uint64_t>(
      torch::randint(std::numeric_limits<std::int64_t>::max(), {1}, torch::kInt64)
          .item<std::int64_t>());
}

DropoutKeep dropout_keep(double p) {
  const double keep = 1.0 - p;
  return {static_cast<std::uint32_t>(std::llround(keep * 65536.0)),
          keep > 0 ? static_cast<float>(1.0 / keep) : 0.0f};
}

DropoutShare& dropout_share() {
  thread_local DropoutShare share;
  return share;
}

std::uint64_t dropout_share_shift(DropoutRows kind, std::int64_t row_elements) {
  const DropoutShare& s = dropout_share();
  if (!s.active) return 0;
  const std::int64_t rows = kind == DropoutRows::kClips ? s.clip_offset : s.instance_offset;
  check(rows == 0 || row_elements % 4 == 0,
        "dropout: data-parallel masks need rows of a multiple of 4 elements, got {}", row_elements);
  return static_cast<std::uint64_t>(rows * row_elements);
}

torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training, DropoutRows rows) {
  if (!training || p <= 0.0) return x;
  if (!x.device().is_cpu() || x.scalar_type() != torch::kFloat32)
    return torch::dropout(x, p, training);
  const auto [keep_below, scale] = dropout_keep(p);
  const auto base =
      draw_dropout_base() + dropout_share_shift(rows, x.size(0) > 0 ? x.numel() / x.size(0) : 0);
  auto mask = torch::empty(x.sizes(), x.options().requires_grad(false));
  float* m = mask.data_ptr<float>();
  // Chunks start at multiples of 4, so every hash serves one chunk.
  at::parallel_for(0, (mask.numel() + 3) / 4, 1 << 13, [&](std::int64_t g0, std::int64_t g1) {
    dropout_mask(m + 4 * g0, base, 4 * g0, std::min(4 * g1, mask.numel()), keep_below, scale);
  });
  return x * mask;
}

}  // namespace tutti::models
