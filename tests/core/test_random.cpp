// core/random.h: engines and draws against reference values computed independently in Python
// (tools/fixtures/make_random_reference.py: MT19937-64, xoshiro256**, SplitMix64 and libstdc++'s
// shuffle algorithm written out), and against libstdc++'s std:: versions when built with it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "tutti/core/random.h"

namespace tutti::core {
namespace {

TEST(Random, SplitMix64AndDerivedSeedsMatchTheReference) {
  EXPECT_EQ(splitmix64(0), 0xE220A8397B1DCDAFull);  // Vigna's published first output
  std::uint64_t state = 0;
  EXPECT_EQ(splitmix64_next(state), 0xE220A8397B1DCDAFull);
  EXPECT_EQ(splitmix64_next(state), 0x6E789E6AA1B965F4ull);
  EXPECT_EQ(derive_seed(1, 17, 2), 0xd55a57cde6b67613ull);
  EXPECT_NE(derive_seed(1, 0, 0), derive_seed(1, 1, 0));
  EXPECT_NE(derive_seed(1, 0, 0), derive_seed(1, 0, 1));
  EXPECT_NE(derive_seed(1, 0, 0), derive_seed(2, 0, 0));
}

TEST(Random, Xoshiro256ssMatchesTheReference) {
  Xoshiro256ss g(42);
  EXPECT_EQ(g(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(g(), 0x6104d9866d113a7eull);
  EXPECT_EQ(g(), 0xae17533239e499a1ull);
  EXPECT_EQ(g(), 0xecb8ad4703b360a1ull);
  Rng r(42);
  EXPECT_EQ(r.next(), 0x15780b2e0c2ec716ull);
}

TEST(Random, Mt19937_64IsTheStandardEngine) {
  std::mt19937_64 g;  // the standard's check value: the 10000th output for the default seed
  g.discard(9999);
  EXPECT_EQ(g(), 9981545732273789042ull);
}

TEST(Random, UniformDrawsMatchTheReference) {
  std::mt19937_64 g(11);
  EXPECT_DOUBLE_EQ(uniform01(g), 0.16571311260445665);
  EXPECT_EQ(uniform_index(g, 1000), 773u);
  std::mt19937_64 f(3);
  EXPECT_EQ(uniform_float01(f), 0x1.1e1694p-1f);
  EXPECT_EQ(uniform_float01(f), 0x1.90ec96p-3f);
  EXPECT_EQ(uniform_float01(f), 0x1.2e341ap-1f);
  EXPECT_EQ(uniform_float01(f), 0x1.62ae88p-2f);
}

// An engine that returns fixed values: the edges of the draws.
struct FixedEngine {
  using result_type = std::uint64_t;
  std::vector<std::uint64_t> values;
  std::size_t next = 0;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~std::uint64_t{0}; }
  result_type operator()() { return values.at(next++); }
};

TEST(Random, DrawsStayInRangeAtTheEngineExtremes) {
  FixedEngine top{{~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0}, ~std::uint64_t{0},
                   ~std::uint64_t{0}, ~std::uint64_t{0}}};
  EXPECT_LT(uniform01(top), 1.0);
  // 2^64 - 1 rounds up to 2^64 as a float: the largest float below 1, as libstdc++ returns.
  EXPECT_EQ(uniform_float01(top), std::nextafter(1.0f, 0.0f));
  EXPECT_EQ(uniform_index(top, 10), 9u);
  EXPECT_EQ(uniform_int(top, -3, 4), 4);
  EXPECT_TRUE(std::isfinite(standard_normal(top)));
  FixedEngine zero{{0, 0, 0, 0, 0}};
  EXPECT_EQ(uniform01(zero), 0.0);
  EXPECT_EQ(uniform_float01(zero), 0.0f);
  EXPECT_EQ(uniform_int(zero, -3, 4), -3);
  EXPECT_TRUE(std::isfinite(standard_normal_clamped(zero)));  // log(1e-300), not log(0)
}

TEST(Random, CategoricalFollowsTheWeights) {
  Xoshiro256ss g(5);
  const std::vector<double> w = {1.0, 0.0, 3.0};
  int count[3] = {0, 0, 0};
  for (int i = 0; i < 40000; ++i) ++count[categorical(g, w)];
  EXPECT_EQ(count[1], 0);
  EXPECT_NEAR(count[2] / 40000.0, 0.75, 0.01);
}

TEST(Random, ShuffleMatchesTheReference) {
  std::vector<int> v(10);
  std::iota(v.begin(), v.end(), 0);
  std::mt19937_64 g(1);
  shuffle(v.begin(), v.end(), g);
  EXPECT_EQ(v, (std::vector<int>{6, 9, 4, 8, 1, 3, 2, 5, 0, 7}));
  std::vector<int> u(7);
  std::iota(u.begin(), u.end(), 0);
  std::mt19937_64 h(7);
  shuffle(u.begin(), u.end(), h);
  EXPECT_EQ(u, (std::vector<int>{5, 2, 1, 4, 6, 0, 3}));
}

TEST(Random, ShuffleByIndexIsAPermutation) {
  std::vector<int> v(50);
  std::iota(v.begin(), v.end(), 0);
  Rng r(9);
  r.shuffle(v);
  std::vector<int> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
  EXPECT_NE(v, sorted);
}

#ifdef __GLIBCXX__
// The portable versions reproduce libstdc++, so results recorded with std::shuffle and
// std::uniform_real_distribution<float> stay the same.
TEST(Random, ShuffleIsLibstdcxxShuffle) {
  for (std::uint64_t seed = 0; seed < 40; ++seed) {
    for (std::size_t n : {0, 1, 2, 3, 4, 5, 8, 17, 100, 1001, 4096}) {
      std::vector<std::int64_t> a(n), b(n);
      std::iota(a.begin(), a.end(), 0);
      b = a;
      std::mt19937_64 ga(seed), gb(seed);
      shuffle(a.begin(), a.end(), ga);
      std::shuffle(b.begin(), b.end(), gb);
      ASSERT_EQ(a, b) << "seed " << seed << " n " << n;
      ASSERT_EQ(ga(), gb()) << "the engines must have advanced alike";
    }
  }
}

TEST(Random, UniformFloat01IsLibstdcxxUniformRealFloat) {
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::mt19937_64 ga(seed), gb(seed);
    std::uniform_real_distribution<float> d(0.0f, 1.0f);
    for (int i = 0; i < 2000; ++i) ASSERT_EQ(uniform_float01(ga), d(gb)) << seed << " " << i;
  }
}
#endif

}  // namespace
}  // namespace tutti::core
