// data::filter_bags: instance-count and label conditions, class columns, K trimming, errors.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/data/filter.h"

namespace tutti::data {
namespace {

using tutti::testing::error_of;

// 5 clips, K = 4, D = 1 float; clip i has len[i] instances valued 10*i + t; classes a, b, c.
BagDataset five() {
  const std::vector<int> len = {4, 2, 4, 0, 3};
  const std::vector<std::vector<int>> pos = {{0}, {1}, {0, 2}, {}, {2}};
  auto ds = BagDataset::zeros(5, 4, 1, {"a", "b", "c"}, FeatureType::kFloat32);
  ds.y_instance.assign(5 * 4 * 3, 0);
  for (int i = 0; i < 5; ++i) {
    ds.keys[i] = fmt::format("k{}", i);
    ds.n_instances[i] = len[i];
    for (int t = 0; t < len[i]; ++t) {
      ds.x_f32[i * 4 + t] = static_cast<float>(10 * i + t);
      ds.y_instance[(i * 4 + t) * 3 + (t % 3)] = 1;
    }
    for (int c = 0; c < 3; ++c) ds.y_mask[i * 3 + c] = 1;
    for (const int c : pos[i]) ds.y_true[i * 3 + c] = 1.0f;
  }
  ds.y_mask[4 * 3 + 2] = 0;  // clip 4's c is unknown: not a positive
  return ds;
}

TEST(Filter, ExactInstanceCount) {
  FilterOptions o;
  o.instances = 4;
  const auto r = filter_bags(five(), o);
  EXPECT_EQ(r.data.keys, (std::vector<std::string>{"k0", "k2"}));
  EXPECT_EQ(r.kept, 2);
  EXPECT_EQ(r.dropped, 3);
  EXPECT_EQ(r.dropped_by.at("instances"), 3);
  EXPECT_TRUE(r.data.fixed_length());
  EXPECT_EQ(r.data.x_f32[4], 20.0f);  // clip k2's first instance
  EXPECT_EQ(r.to_json()["dropped"], 3);
}

TEST(Filter, BoundsAndTrimK) {
  FilterOptions o;
  o.min_instances = 1;
  o.max_instances = 3;
  o.trim_k = true;
  const auto r = filter_bags(five(), o);
  EXPECT_EQ(r.data.keys, (std::vector<std::string>{"k1", "k4"}));
  EXPECT_EQ(r.dropped_by.at("min_instances"), 1);
  EXPECT_EQ(r.dropped_by.at("max_instances"), 2);
  EXPECT_EQ(r.data.max_instances, 3);
  EXPECT_EQ(r.data.x_f32, (std::vector<float>{10, 11, 0, 40, 41, 42}));
  ASSERT_EQ(r.data.y_instance.size(), 2u * 3 * 3);
  EXPECT_EQ(r.data.y_instance[(1 * 3 + 2) * 3 + 2], 1);  // k4, instance 2, class c
  EXPECT_NO_THROW(r.data.validate("r"));
  o.trim_k = false;
  EXPECT_EQ(filter_bags(five(), o).data.max_instances, 4);
}

TEST(Filter, LabelConditionsUseKnownPositives) {
  FilterOptions o;
  o.with_any = {"c"};
  auto r = filter_bags(five(), o);
  EXPECT_EQ(r.data.keys, (std::vector<std::string>{"k2"}));  // k4's c is unknown
  o.with_any = {};
  o.without_any = {"a", "b"};
  r = filter_bags(five(), o);
  EXPECT_EQ(r.data.keys, (std::vector<std::string>{"k3", "k4"}));
  EXPECT_EQ(r.dropped_by.at("without_any"), 3);
}

TEST(Filter, WithoutKeysDropsThoseClips) {
  FilterOptions o;
  o.without_keys = {"k1", "k3", "not-there"};
  const auto r = filter_bags(five(), o);
  EXPECT_EQ(r.data.keys, (std::vector<std::string>{"k0", "k2", "k4"}));
  EXPECT_EQ(r.dropped_by.at("without_keys"), 2);
  EXPECT_EQ(r.data.x_f32[4], 20.0f);  // k2's first instance, rows kept in order
}

TEST(Filter, ClassColumnsInTheGivenOrder) {
  FilterOptions o;
  o.classes = {"c", "a"};
  const auto r = filter_bags(five(), o);
  EXPECT_EQ(r.kept, 5);
  EXPECT_EQ(r.data.classes, (std::vector<std::string>{"c", "a"}));
  // k2 = {a, c} -> (1, 1); k0 = {a} -> (0, 1); k4: c unknown -> mask 0.
  EXPECT_EQ(r.data.y_true[0], 0.0f);
  EXPECT_EQ(r.data.y_true[1], 1.0f);
  EXPECT_EQ(r.data.y_true[2 * 2], 1.0f);
  EXPECT_EQ(r.data.y_mask[4 * 2], 0);
  EXPECT_EQ(r.data.y_mask[4 * 2 + 1], 1);
  // Instance labels follow: k0 instance 2 had class c (t % 3 == 2) -> new column 0.
  EXPECT_EQ(r.data.y_instance[(0 * 4 + 2) * 2 + 0], 1);
  EXPECT_EQ(r.data.y_instance[(0 * 4 + 0) * 2 + 1], 1);
  EXPECT_NO_THROW(r.data.validate("r"));
}

TEST(Filter, KeepsTheEmbedderRecord) {
  auto ds = five();
  ds.embedder = "logmel-stats";
  FilterOptions rows, cols;
  rows.min_instances = 3;
  cols.classes = {"b"};
  EXPECT_EQ(filter_bags(ds, rows).data.embedder, "logmel-stats");
  EXPECT_EQ(filter_bags(ds, cols).data.embedder, "logmel-stats");
}

TEST(Filter, NothingKeptIsAnEmptyDataset) {
  FilterOptions o;
  o.instances = 7;
  const auto r = filter_bags(five(), o);
  EXPECT_EQ(r.kept, 0);
  EXPECT_EQ(r.data.size(), 0);
}

TEST(Filter, Errors) {
  FilterOptions o;
  o.classes = {"a", "piano"};
  const auto msg = error_of([&] { filter_bags(five(), o, "x.npz"); });
  EXPECT_NE(msg.find("filter: x.npz: no class 'piano' (classes: a, b, c)"), std::string::npos)
      << msg;
  o.classes = {"a", "a"};
  EXPECT_THROW(filter_bags(five(), o), UsageError);
  o.classes = {};
  o.with_any = {"zz"};
  EXPECT_THROW(filter_bags(five(), o), UsageError);
  FilterOptions b;
  b.min_instances = 5;
  b.max_instances = 2;
  EXPECT_THROW(filter_bags(five(), b), UsageError);
  b = {};
  b.instances = -3;
  EXPECT_THROW(b.validate(), UsageError);
  b = {};
  b.min_instances = -1;
  EXPECT_THROW(b.validate(), UsageError);
}

}  // namespace
}  // namespace tutti::data
