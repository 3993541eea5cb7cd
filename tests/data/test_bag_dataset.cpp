#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tutti/core/error.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/data/summary.h"

namespace tutti::data {
namespace {

BagDataset small() {
  auto ds = BagDataset::zeros(3, 4, 2, {"a", "b"}, FeatureType::kUint8);
  ds.keys = {"k0", "k1", "k2"};
  ds.n_instances = {4, 2, 0};
  for (std::size_t j = 0; j < ds.x_u8.size(); ++j) ds.x_u8[j] = static_cast<std::uint8_t>(j);
  ds.y_true = {1.0f, 0.0f, 0.6f, 0.4f, 0.0f, 1.0f};
  ds.y_mask = {1, 1, 1, 0, 0, 1};
  return ds;
}

TEST(BagDataset, InstanceFeaturesScaleUint8To01) {
  const auto ds = small();
  std::vector<float> f(2);
  ds.instance_features(1, 1, f);
  // clip 1, instance 1 -> flat offset (1*4+1)*2 = 10.
  EXPECT_FLOAT_EQ(f[0], 10.0f / 255.0f);
  EXPECT_FLOAT_EQ(f[1], 11.0f / 255.0f);
}

TEST(BagDataset, PositiveNeedsKnownAndHalfRelevance) {
  const auto ds = small();
  EXPECT_TRUE(ds.positive(0, 0));
  EXPECT_FALSE(ds.positive(0, 1));
  EXPECT_TRUE(ds.positive(1, 0));   // 0.6 known
  EXPECT_FALSE(ds.positive(1, 1));  // 0.4 and unknown
  EXPECT_FALSE(ds.positive(2, 0));  // unknown
  EXPECT_FALSE(ds.fixed_length());
}

TEST(BagDataset, SubsetCopiesRowsInOrder) {
  const auto ds = small();
  const std::vector<std::int64_t> idx = {2, 0};
  const auto s = ds.subset(idx);
  ASSERT_EQ(s.size(), 2);
  EXPECT_EQ(s.keys, (std::vector<std::string>{"k2", "k0"}));
  EXPECT_EQ(s.n_instances, (std::vector<std::int32_t>{0, 4}));
  EXPECT_EQ(s.x_u8[0], 16);  // first value of clip 2
  EXPECT_EQ(s.x_u8[8], 0);   // first value of clip 0
  EXPECT_FLOAT_EQ(s.label(1, 0), 1.0f);
  EXPECT_NO_THROW(s.validate("subset"));
  const std::vector<std::int64_t> bad = {3};
  EXPECT_THROW(ds.subset(bad), Error);
}

TEST(BagDataset, ValidateNamesEachProblem) {
  auto expect_error = [](BagDataset ds, const std::string& needle) {
    try {
      ds.validate("file.npz");
      FAIL() << "expected an error containing " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("file.npz"), std::string::npos) << e.what();
    }
  };
  EXPECT_NO_THROW(small().validate("ok"));
  auto a = small();
  a.x_u8.pop_back();
  expect_error(a, "X holds");
  auto b = small();
  b.n_instances[1] = 5;
  expect_error(b, "n_instances=5");
  auto c = small();
  c.y_true[2] = 1.5f;
  expect_error(c, "outside [0, 1]");
  auto d = small();
  d.y_mask.pop_back();
  expect_error(d, "Y_mask");
  auto e = small();
  e.classes = {"a", "a"};
  expect_error(e, "appears twice");
  auto f = BagDataset::zeros(1, 1, 1, {"a"}, FeatureType::kFloat32);
  f.keys = {"x"};
  f.x_f32[0] = std::numeric_limits<float>::quiet_NaN();
  expect_error(f, "NaN");
}

TEST(DatasetSummary, CountsKnownAndPositivePerClass) {
  const auto s = summarize(small());
  EXPECT_EQ(s.clips, 3);
  EXPECT_EQ(s.instances_histogram.at(4), 1);
  EXPECT_EQ(s.instances_histogram.at(0), 1);
  ASSERT_EQ(s.classes.size(), 2u);
  EXPECT_EQ(s.classes[0].known, 2);
  EXPECT_EQ(s.classes[0].positive, 2);
  EXPECT_EQ(s.classes[1].known, 2);
  EXPECT_EQ(s.classes[1].positive, 1);
  const auto j = s.to_json();
  EXPECT_EQ(j["per_class"]["b"]["positive"], 1);
  EXPECT_EQ(j["instances_histogram"]["2"], 1);
}

}  // namespace
}  // namespace tutti::data
