// Portable seeded random numbers: the same seed gives the same values with any compiler and any
// standard library.
//
//   std::mt19937_64 rng(seed);                         // or core::Xoshiro256ss rng(seed)
//   double u = core::uniform01(rng);                   // [0, 1), 53 random bits
//   auto i = core::uniform_index(rng, n);              // [0, n)
//   core::shuffle(order.begin(), order.end(), rng);    // what libstdc++'s std::shuffle does
//
// Why: the engines std::mt19937_64 (and every other std engine) are fully specified by the
// standard, but the distributions (std::uniform_int_distribution, std::uniform_real_distribution,
// std::normal_distribution) and std::shuffle are not: libstdc++ and libc++ give different
// sequences for the same engine. Every draw here is computed by this file instead.
//
// Two draws reproduce libstdc++ 12 exactly (so results recorded before they existed, made with
// std::shuffle and std::uniform_real_distribution<float>, stay bit-identical): `shuffle`
// (bits/stl_algo.h std::shuffle, two swap positions per engine call via __gen_two_uniform_ints)
// and `uniform_float01` (bits/random.tcc generate_canonical<float, 24>). Both need an engine
// whose output spans all 64 bits, as std::mt19937_64 and Xoshiro256ss do.
//
// Engines: splitmix64 (Vigna; also a 64-bit hash) and xoshiro256** (Blackman & Vigna,
// "Scrambled linear pseudorandom number generators", 2021, https://prng.di.unimi.it/).
#pragma once

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace tutti::core {

// ---- engines ---------------------------------------------------------------------------------

// The SplitMix64 output for state x (the state advanced once): a fast, well-mixed 64-bit hash.
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// One SplitMix64 step: returns the next output and advances `state`.
inline std::uint64_t splitmix64_next(std::uint64_t& state) {
  const std::uint64_t out = splitmix64(state);
  state += 0x9E3779B97F4A7C15ull;
  return out;
}

// A seed for stream `stream` of item `index` under `seed` (e.g. the composer of clip 17), so that
// items can be generated independently and in any order.
inline std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t index, std::uint64_t stream) {
  std::uint64_t s = seed;
  const std::uint64_t a = splitmix64_next(s);
  s = a ^ (index * 0xD1342543DE82EF95ull);
  const std::uint64_t b = splitmix64_next(s);
  s = b ^ (stream * 0xA0761D6478BD642Full);
  return splitmix64_next(s);
}

// xoshiro256** seeded by four SplitMix64 outputs; a UniformRandomBitGenerator.
class Xoshiro256ss {
 public:
  using result_type = std::uint64_t;
  explicit Xoshiro256ss(std::uint64_t seed) {
    for (auto& w : s_) w = splitmix64_next(seed);
  }
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<result_type>::max(); }
  result_type operator()() {
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

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

// ---- draws -------------------------------------------------------------------------------------
// G: an engine whose output is uniform over all 64-bit values (std::mt19937_64, Xoshiro256ss).

namespace detail {
template <typename G>
constexpr void require_64_bit_engine() {
  static_assert(G::min() == 0 && G::max() == std::numeric_limits<std::uint64_t>::max(),
                "tutti::core draws need an engine with 64 uniform bits per call");
}
inline std::uint64_t mul_high(std::uint64_t a, std::uint64_t b) {
  return static_cast<std::uint64_t>((static_cast<unsigned __int128>(a) * b) >> 64);
}
// Unbiased integer in [0, range), range >= 1: Lemire's nearly divisionless method (ACM TOMACS 29,
// 2019), exactly as libstdc++'s uniform_int_distribution draws it from a 64-bit engine.
template <typename G>
std::uint64_t unbiased_below(G& g, std::uint64_t range) {
  auto product = static_cast<unsigned __int128>(static_cast<std::uint64_t>(g())) * range;
  auto low = static_cast<std::uint64_t>(product);
  if (low < range) {
    const std::uint64_t threshold = (0 - range) % range;
    while (low < threshold) {
      product = static_cast<unsigned __int128>(static_cast<std::uint64_t>(g())) * range;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}
}  // namespace detail

// Uniform in [0, 1) with 53 random bits.
template <typename G>
double uniform01(G& g) {
  detail::require_64_bit_engine<G>();
  return static_cast<double>(static_cast<std::uint64_t>(g()) >> 11) * 0x1.0p-53;
}

// Uniform in [lo, hi).
template <typename G>
double uniform(G& g, double lo, double hi) {
  return lo + (hi - lo) * uniform01(g);
}

// Uniform float in [0, 1): libstdc++'s std::uniform_real_distribution<float>(0, 1), i.e.
// generate_canonical<float, 24> (one engine call, rounded to float, scaled by 2^-64; a result
// that rounds up to 1 becomes the largest float below 1).
template <typename G>
float uniform_float01(G& g) {
  detail::require_64_bit_engine<G>();
  const float f = static_cast<float>(static_cast<std::uint64_t>(g())) * 0x1.0p-64f;
  return f >= 1.0f ? std::nextafter(1.0f, 0.0f) : f;
}

// Uniform integer in [0, n), n >= 1, by Lemire's multiply-shift: one engine call, branch-free;
// the bias (below n / 2^64) is irrelevant for the sizes tutti draws.
template <typename G>
std::uint64_t uniform_index(G& g, std::uint64_t n) {
  detail::require_64_bit_engine<G>();
  return detail::mul_high(static_cast<std::uint64_t>(g()), n);
}

// Uniform integer in [lo, hi] (inclusive), lo <= hi; uniform_index underneath.
template <typename G>
int uniform_int(G& g, int lo, int hi) {
  const auto span = static_cast<std::uint64_t>(static_cast<std::int64_t>(hi) - lo) + 1;
  return lo + static_cast<int>(uniform_index(g, span));
}

// True with probability p.
template <typename G>
bool bernoulli(G& g, double p) {
  return uniform01(g) < p;
}

// Standard normal by the Box-Muller transform (one value per call, two uniforms consumed), with
// u1 = 1 - U in (0, 1] so the logarithm is finite.
template <typename G>
double standard_normal(G& g) {
  const double u1 = 1.0 - uniform01(g);
  const double u2 = uniform01(g);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

// The synthesizer's Box-Muller variant: u1 = U itself, raised to 1e-300 when it is 0. A different
// sequence from standard_normal for the same engine; kept because rendered datasets depend on it.
template <typename G>
double standard_normal_clamped(G& g) {
  double u1 = uniform01(g);
  if (u1 < 1e-300) u1 = 1e-300;
  const double u2 = uniform01(g);
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// log of a Gamma(shape, 1) variate, shape > 0: Marsaglia & Tsang, "A simple method for generating
// gamma variables", ACM TOMS 26 (2000), with their boost for shape < 1 (Gamma(shape + 1) U^(1 /
// shape)). In logs because U^(1 / shape) underflows for small shapes.
template <typename G>
double log_gamma_variate(G& g, double shape) {
  if (shape < 1) {
    const double u = 1.0 - uniform01(g);  // (0, 1]
    return log_gamma_variate(g, shape + 1) + std::log(u) / shape;
  }
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double x = standard_normal(g);
    const double v1 = 1.0 + c * x;
    if (v1 <= 0) continue;
    const double v = v1 * v1 * v1;
    const double u = 1.0 - uniform01(g);
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return std::log(d * v);
  }
}

// Beta(a, b), a, b > 0: X / (X + Y) for X ~ Gamma(a), Y ~ Gamma(b), computed from their logs.
template <typename G>
double beta_variate(G& g, double a, double b) {
  const double lx = log_gamma_variate(g, a);
  const double ly = log_gamma_variate(g, b);
  return 1.0 / (1.0 + std::exp(ly - lx));
}

// Index drawn with probability proportional to `weights` (all >= 0, sum > 0).
template <typename G>
int categorical(G& g, std::span<const double> weights) {
  double total = 0;
  for (double w : weights) total += w;
  double u = uniform01(g) * total;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (u < weights[i]) return static_cast<int>(i);
    u -= weights[i];
  }
  for (std::size_t i = weights.size(); i-- > 0;)
    if (weights[i] > 0) return static_cast<int>(i);
  return 0;
}

// Permutes [first, last) as libstdc++ 12's std::shuffle does with a 64-bit engine: for ranges of
// up to 2^32 elements two swap positions come from one unbiased draw in [0, (i + 1)(i + 2)),
// after a first single draw in [0, 2) when the length is even; longer ranges draw one position
// per element.
template <typename It, typename G>
void shuffle(It first, It last, G& g) {
  detail::require_64_bit_engine<G>();
  if (first == last) return;
  const auto n = static_cast<std::uint64_t>(last - first);
  constexpr std::uint64_t kEngineRange = std::numeric_limits<std::uint64_t>::max();
  if (kEngineRange / n >= n) {
    It i = first + 1;
    if (n % 2 == 0) {
      using std::iter_swap;
      iter_swap(i++, first + static_cast<std::ptrdiff_t>(detail::unbiased_below(g, 2)));
    }
    while (i != last) {
      const auto b0 = static_cast<std::uint64_t>(i - first) + 1;
      const std::uint64_t b1 = b0 + 1;
      const std::uint64_t x = detail::unbiased_below(g, b0 * b1);
      using std::iter_swap;
      iter_swap(i++, first + static_cast<std::ptrdiff_t>(x / b1));
      iter_swap(i++, first + static_cast<std::ptrdiff_t>(x % b1));
    }
    return;
  }
  for (It i = first + 1; i != last; ++i) {
    using std::iter_swap;
    iter_swap(i, first + static_cast<std::ptrdiff_t>(
                             detail::unbiased_below(g, static_cast<std::uint64_t>(i - first) + 1)));
  }
}

// Fisher-Yates from the back with uniform_index positions: one cheap draw per element, a
// different permutation from `shuffle` for the same engine (the synthesizer's).
template <typename T, typename G>
void shuffle_by_index(std::vector<T>& v, G& g) {
  for (std::size_t i = v.size(); i > 1; --i) {
    const auto j = static_cast<std::size_t>(uniform_int(g, 0, static_cast<int>(i) - 1));
    std::swap(v[i - 1], v[j]);
  }
}

// A uniformly chosen element of a non-empty vector.
template <typename T, typename G>
const T& pick(G& g, const std::vector<T>& v) {
  return v[static_cast<std::size_t>(uniform_int(g, 0, static_cast<int>(v.size()) - 1))];
}

// The draws above as members of one xoshiro256** generator, for code that passes a generator
// around (the synthesizer's composer).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  double uniform() { return uniform01(engine_); }
  double uniform(double lo, double hi) { return core::uniform(engine_, lo, hi); }
  int uniform_int(int lo, int hi) { return core::uniform_int(engine_, lo, hi); }
  bool bernoulli(double p) { return core::bernoulli(engine_, p); }
  double normal() { return standard_normal_clamped(engine_); }
  int categorical(std::span<const double> weights) { return core::categorical(engine_, weights); }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return core::pick(engine_, v);
  }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    shuffle_by_index(v, engine_);
  }

 private:
  Xoshiro256ss engine_;
};

}  // namespace tutti::core
