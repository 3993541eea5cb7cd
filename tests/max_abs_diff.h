// The largest element-wise difference of two float arrays, for tests that compare outputs with
// reference values to a tolerance.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <span>

namespace tutti::testing {

// The largest |a[i] - b[i]| of two arrays of the same size (a size mismatch fails the test).
inline float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  float d = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    d = std::max(d, std::abs(a[i] - b[i]));
  return d;
}

}  // namespace tutti::testing
