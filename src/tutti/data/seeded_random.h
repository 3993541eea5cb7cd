// Portable seeded random draws on top of std::mt19937_64.
//
// std::uniform_int_distribution and friends are implementation-defined (libstdc++ and libc++ give
// different sequences), so results that must be the same on every machine for a seed (data
// concat, test-time noise, t-SNE initialisation) use these instead. mt19937_64 itself is fully
// specified by the standard.
#pragma once

#include <cmath>
#include <cstdint>
#include <random>

namespace tutti::data {

using SeededRng = std::mt19937_64;

// Uniform in [0, 1) with 53 random bits.
inline double uniform01(SeededRng& rng) {
  return static_cast<double>(rng() >> 11) * 0x1.0p-53;
}

// Uniform integer in [0, n), n >= 1 (Lemire's multiply-shift; the bias is below n / 2^64).
inline std::uint64_t uniform_index(SeededRng& rng, std::uint64_t n) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(rng()) * n) >> 64);
}

// Standard normal by the Box-Muller transform (one value per call; two uniforms consumed).
inline double standard_normal(SeededRng& rng) {
  const double u1 = 1.0 - uniform01(rng);  // (0, 1]: log is finite
  const double u2 = uniform01(rng);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

}  // namespace tutti::data
