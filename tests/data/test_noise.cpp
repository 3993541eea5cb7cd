// data::add_instance_noise: replacement rate, only real instances, pool sampling, coupling across
// probabilities, determinism, errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <map>

#include "test_util.h"
#include "tutti/data/noise.h"

namespace tutti::data {
namespace {

using tutti::testing::error_of;

// n clips, K = 5, D = 2 uint8; clip i has 1 + i % 5 instances, feature (1 + i % 200, t + 1).
BagDataset data_set(int n) {
  auto ds = BagDataset::zeros(n, 5, 2, {"a", "b"}, FeatureType::kUint8);
  for (int i = 0; i < n; ++i) {
    ds.keys[i] = fmt::format("d{}", i);
    ds.n_instances[i] = 1 + i % 5;
    for (int t = 0; t < ds.n_instances[i]; ++t) {
      ds.x_u8[(i * 5 + t) * 2] = static_cast<std::uint8_t>(1 + i % 200);
      ds.x_u8[(i * 5 + t) * 2 + 1] = static_cast<std::uint8_t>(t + 1);
    }
    ds.y_mask[i * 2] = ds.y_mask[i * 2 + 1] = 1;
    ds.y_true[i * 2] = static_cast<float>(i % 2);
  }
  return ds;
}

// Pool: 3 clips (1, 2 and 3 real instances, K = 4), features (250, 200 + 10*j + t); other
// classes (a pool need not share the class list).
BagDataset pool() {
  auto p = BagDataset::zeros(3, 4, 2, {"noise"}, FeatureType::kUint8);
  for (int j = 0; j < 3; ++j) {
    p.keys[j] = fmt::format("p{}", j);
    p.n_instances[j] = j + 1;
    for (int t = 0; t < 4; ++t) {  // padding is filled with 99 to catch wrong draws
      p.x_u8[(j * 4 + t) * 2] = t < j + 1 ? 250 : 99;
      p.x_u8[(j * 4 + t) * 2 + 1] = static_cast<std::uint8_t>(200 + 10 * j + t);
    }
  }
  return p;
}

TEST(Noise, ZeroAndOneProbability) {
  const auto d = data_set(40);
  NoiseStats st;
  auto out = add_instance_noise(d, pool(), {0.0, 1}, "d", "p", &st);
  EXPECT_EQ(out.x_u8, d.x_u8);
  EXPECT_EQ(st.replaced, 0);
  EXPECT_EQ(st.instances, 120);  // 8 x (1 + 2 + 3 + 4 + 5)
  EXPECT_EQ(st.pool_clips, 3);
  EXPECT_EQ(st.pool_instances, 6);
  out = add_instance_noise(d, pool(), {1.0, 1}, "d", "p", &st);
  EXPECT_EQ(st.replaced, 120);
  std::map<int, int> drawn;
  for (int i = 0; i < 40; ++i)
    for (int t = 0; t < 5; ++t) {
      const auto f0 = out.x_u8[(i * 5 + t) * 2], f1 = out.x_u8[(i * 5 + t) * 2 + 1];
      if (t < d.n_instances[i]) {
        EXPECT_EQ(f0, 250) << "real instance not replaced, or padding of the pool drawn";
        ++drawn[f1];
      } else {
        EXPECT_EQ(f0, 0);  // padding untouched
        EXPECT_EQ(f1, 0);
      }
    }
  // Only the 6 real pool instances occur: 200 | 210 211 | 220 221 222.
  for (const auto& [v, count] : drawn) {
    const int j = (v - 200) / 10, t = (v - 200) % 10;
    EXPECT_LT(t, j + 1) << v;
    EXPECT_GT(count, 5);  // each of 6 values, 120 draws: expect ~20
  }
  EXPECT_EQ(drawn.size(), 6u);
  EXPECT_EQ(out.n_instances, d.n_instances);
  EXPECT_EQ(out.y_true, d.y_true);
}

TEST(Noise, RateIsCloseToTheProbability) {
  const auto d = data_set(2000);  // 6,000 instances
  NoiseStats st;
  add_instance_noise(d, pool(), {0.2, 3}, "d", "p", &st);
  // Binomial(6000, 0.2): sd = 31; 5 sd.
  EXPECT_NEAR(static_cast<double>(st.replaced), 1200.0, 155.0);
  EXPECT_EQ(st.to_json()["replaced"], st.replaced);
}

TEST(Noise, CoupledAcrossProbabilitiesAndDeterministic) {
  const auto d = data_set(300);
  const auto lo = add_instance_noise(d, pool(), {0.1, 9});
  const auto hi = add_instance_noise(d, pool(), {0.2, 9});
  int changed_lo = 0, changed_hi = 0;
  for (std::size_t v = 0; v < d.x_u8.size(); v += 2) {
    const bool l = lo.x_u8[v] != d.x_u8[v] || lo.x_u8[v + 1] != d.x_u8[v + 1];
    const bool h = hi.x_u8[v] != d.x_u8[v] || hi.x_u8[v + 1] != d.x_u8[v + 1];
    changed_lo += l;
    changed_hi += h;
    if (l) {  // replaced at 0.1 -> replaced at 0.2 by the same pool instance
      EXPECT_TRUE(h);
      EXPECT_EQ(lo.x_u8[v + 1], hi.x_u8[v + 1]);
    }
  }
  EXPECT_GT(changed_hi, changed_lo);
  EXPECT_GT(changed_lo, 0);
  EXPECT_EQ(add_instance_noise(d, pool(), {0.1, 9}).x_u8, lo.x_u8);
  EXPECT_NE(add_instance_noise(d, pool(), {0.1, 10}).x_u8, lo.x_u8);
}

TEST(Noise, StrongLabelsOfReplacedInstancesAreCleared) {
  auto d = data_set(10);
  d.y_instance.assign(10 * 5 * 2, 1);
  const auto out = add_instance_noise(d, pool(), {1.0, 0});
  for (int i = 0; i < 10; ++i)
    for (int t = 0; t < 5; ++t)
      EXPECT_EQ(out.y_instance[(i * 5 + t) * 2], t < d.n_instances[i] ? 0 : 1);
}

TEST(Noise, FloatFeatures) {
  auto d = BagDataset::zeros(1, 2, 1, {"a"}, FeatureType::kFloat32);
  d.keys = {"x"};
  d.n_instances = {2};
  d.x_f32 = {1.0f, 2.0f};
  auto p = BagDataset::zeros(1, 1, 1, {"n"}, FeatureType::kFloat32);
  p.keys = {"n"};
  p.n_instances = {1};
  p.x_f32 = {-7.0f};
  EXPECT_EQ(add_instance_noise(d, p, {1.0, 0}).x_f32, (std::vector<float>{-7.0f, -7.0f}));
}

TEST(Noise, Errors) {
  const auto d = data_set(5);
  for (double bad : {-0.1, 1.5, std::nan("")}) {
    const auto msg = error_of([&] { add_instance_noise(d, pool(), {bad, 0}); });
    EXPECT_NE(msg.find("outside [0, 1]"), std::string::npos) << msg;
    EXPECT_THROW(add_instance_noise(d, pool(), {bad, 0}), UsageError);
  }
  auto p = pool();
  p.n_instances = {0, 0, 0};
  auto msg = error_of([&] { add_instance_noise(d, p, {0.1, 0}, "t.npz", "pool.npz"); });
  EXPECT_NE(msg.find("pool.npz: the noise pool has no instances (3 clips)"), std::string::npos)
      << msg;
  const auto empty = BagDataset::zeros(0, 4, 2, {"n"}, FeatureType::kUint8);
  EXPECT_THROW(add_instance_noise(d, empty, {0.1, 0}), Error);
  const auto wide = BagDataset::zeros(1, 4, 3, {"n"}, FeatureType::kUint8);
  msg = error_of([&] { add_instance_noise(d, wide, {0.1, 0}, "t.npz", "pool.npz"); });
  EXPECT_NE(msg.find("t.npz and pool.npz have different feature dimensions: D = 2 vs 3"),
            std::string::npos)
      << msg;
  const auto f32 = BagDataset::zeros(1, 4, 2, {"n"}, FeatureType::kFloat32);
  msg = error_of([&] { add_instance_noise(d, f32, {0.1, 0}, "t.npz", "pool.npz"); });
  EXPECT_NE(msg.find("different feature types: uint8 vs float32"), std::string::npos) << msg;
}

}  // namespace
}  // namespace tutti::data
