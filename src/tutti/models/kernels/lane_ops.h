// Small vector loops shared by the hand-written CPU kernels of the graph models (clip_bmm,
// gat_fused, the instance graph). Sums use kLanes interleaved partial sums added in a fixed
// order: the compiler can vectorize them without reassociating (a single running sum it cannot),
// and they give the same bits on any thread count.
#pragma once

#include <cstdint>

namespace tutti::models::lanes {

constexpr std::int64_t kLanes = 8;

// x . y
inline float dot(const float* x, const float* y, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (std::int64_t l = 0; l < kLanes; ++l) acc[l] += x[c + l] * y[c + l];
  float s = 0.0f;
  for (std::int64_t l = 0; l < kLanes; ++l) s += acc[l];
  for (; c < n; ++c) s += x[c] * y[c];
  return s;
}

// sum of x
inline float sum(const float* x, std::int64_t n) {
  float acc[kLanes] = {};
  std::int64_t c = 0;
  for (; c + kLanes <= n; c += kLanes)
    for (std::int64_t l = 0; l < kLanes; ++l) acc[l] += x[c + l];
  float s = 0.0f;
  for (std::int64_t l = 0; l < kLanes; ++l) s += acc[l];
  for (; c < n; ++c) s += x[c];
  return s;
}

// y += s x; exact zeros of s (masked attention and graph entries) are skipped.
inline void axpy(float s, const float* x, float* y, std::int64_t n) {
  if (s == 0.0f) return;
  for (std::int64_t c = 0; c < n; ++c) y[c] += s * x[c];
}

}  // namespace tutti::models::lanes
