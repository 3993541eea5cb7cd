// A small deterministic random generator for the synthesizer (xoshiro256**, seeded by
// splitmix64). The standard library's distributions are implementation-defined, so every draw
// here is computed by this file: the same seed gives the same pieces with any compiler or
// standard library. Reference: Blackman & Vigna, "Scrambled linear pseudorandom number
// generators" (2021), https://prng.di.unimi.it/.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace tutti::synth {

// splitmix64 step: also used to derive independent per-clip seeds from (seed, clip index).
inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// A seed for stream `stream` of item `index` under `seed` (e.g. the composer of clip 17).
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  std::uint64_t s = seed;
  std::uint64_t a = splitmix64(s);
  s = a ^ (index * 0xD1342543DE82EF95ULL);
  std::uint64_t b = splitmix64(s);
  s = b ^ (stream * 0xA0761D6478BD642FULL);
  return splitmix64(s);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    std::uint64_t s = seed;
    for (auto& w : s_) w = splitmix64(s);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, 1).
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [lo, hi] (inclusive); lo <= hi. Lemire's multiply-shift (tiny bias is
  // irrelevant here and keeps it branch-free and portable).
  int uniform_int(int lo, int hi) {
    const std::uint64_t span = static_cast<std::uint64_t>(hi - lo) + 1;
    const auto r =
        static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * span) >> 64);
    return lo + static_cast<int>(r);
  }
  bool bernoulli(double p) { return uniform() < p; }
  // Standard normal (Box-Muller; one value per call for simplicity).
  double normal() {
    double u1 = uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Index drawn with probability proportional to weights (all >= 0, sum > 0).
  int categorical(std::span<const double> weights) {
    double total = 0;
    for (double w : weights) total += w;
    double u = uniform() * total;
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (u < weights[i]) return static_cast<int>(i);
      u -= weights[i];
    }
    for (std::size_t i = weights.size(); i-- > 0;)
      if (weights[i] > 0) return static_cast<int>(i);
    return 0;
  }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(uniform_int(0, static_cast<int>(v.size()) - 1))];
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      const auto j = static_cast<std::size_t>(uniform_int(0, static_cast<int>(i) - 1));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

}  // namespace tutti::synth
