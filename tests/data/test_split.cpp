#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "tutti/core/error.h"
#include "tutti/data/split.h"

namespace tutti::data {
namespace {

// n clips, c classes; class k is positive with probability p_k (rare classes included).
BagDataset random_multilabel(std::int64_t n, std::int64_t c, std::uint64_t seed) {
  std::vector<std::string> classes;
  for (std::int64_t k = 0; k < c; ++k) classes.push_back("c" + std::to_string(k));
  auto ds = BagDataset::zeros(n, 1, 1, classes, FeatureType::kUint8);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = "clip" + std::to_string(i);
    ds.n_instances[i] = 1;
    for (std::int64_t k = 0; k < c; ++k) {
      const double p = 0.02 + 0.3 * static_cast<double>(k) / static_cast<double>(c);
      ds.y_mask[i * c + k] = u(rng) < 0.8;
      ds.y_true[i * c + k] = u(rng) < p ? 1.0f : 0.0f;
    }
  }
  return ds;
}

std::int64_t positives(const BagDataset& ds, const std::vector<std::int64_t>& rows,
                       std::int64_t k) {
  std::int64_t n = 0;
  for (auto i : rows) n += ds.positive(i, k);
  return n;
}

TEST(Split, PartitionsAllClipsOnce) {
  const auto ds = random_multilabel(500, 8, 1);
  const auto s = stratified_split(ds, 0.2, 7);
  std::vector<std::int64_t> all = s.train;
  all.insert(all.end(), s.test.begin(), s.test.end());
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), 500u);
  for (std::int64_t i = 0; i < 500; ++i) EXPECT_EQ(all[i], i);
  EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
  EXPECT_TRUE(std::is_sorted(s.test.begin(), s.test.end()));
}

TEST(Split, RespectsFractionOverallAndPerClass) {
  const auto ds = random_multilabel(2000, 10, 2);
  const auto s = stratified_split(ds, 0.2, 3);
  EXPECT_NEAR(static_cast<double>(s.test.size()), 400.0, 12.0);
  for (std::int64_t k = 0; k < 10; ++k) {
    const double total = static_cast<double>(positives(ds, s.train, k) + positives(ds, s.test, k));
    // Stratification keeps each class's share within a clip or two of the target.
    EXPECT_NEAR(static_cast<double>(positives(ds, s.test, k)), 0.2 * total, 2.0) << "class " << k;
  }
}

TEST(Split, RareClassesKeepPositivesOnBothSides) {
  auto ds = random_multilabel(300, 4, 4);
  // Class 0 has exactly two positives: both sides must get one.
  for (std::int64_t i = 0; i < 300; ++i) ds.y_true[i * 4 + 0] = 0.0f;
  ds.y_true[10 * 4] = ds.y_true[200 * 4] = 1.0f;
  ds.y_mask[10 * 4] = ds.y_mask[200 * 4] = 1;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    const auto s = stratified_split(ds, 0.2, seed);
    EXPECT_EQ(positives(ds, s.train, 0), 1) << "seed " << seed;
    EXPECT_EQ(positives(ds, s.test, 0), 1) << "seed " << seed;
  }
}

TEST(Split, DeterministicForASeedAndDifferentAcrossSeeds) {
  const auto ds = random_multilabel(400, 6, 5);
  const auto a = stratified_split(ds, 0.25, 11);
  const auto b = stratified_split(ds, 0.25, 11);
  const auto c = stratified_split(ds, 0.25, 12);
  EXPECT_EQ(a.test, b.test);
  EXPECT_NE(a.test, c.test);
}

TEST(Split, UnknownLabelsDoNotCountAsPositives) {
  auto ds = random_multilabel(200, 3, 6);
  for (auto& m : ds.y_mask) m = 0;  // nothing known: split by fraction only
  const auto s = stratified_split(ds, 0.5, 1);
  EXPECT_EQ(s.test.size(), 100u);
}

TEST(Split, RejectsImpossibleFractionsAndTinyData) {
  const auto ds = random_multilabel(10, 2, 7);
  EXPECT_THROW(stratified_split(ds, 0.0, 1), UsageError);
  EXPECT_THROW(stratified_split(ds, 1.0, 1), UsageError);
  EXPECT_THROW(stratified_split(ds, -0.1, 1), UsageError);
  const auto one = random_multilabel(1, 2, 7);
  EXPECT_THROW(stratified_split(one, 0.2, 1), UsageError);
}

}  // namespace
}  // namespace tutti::data
