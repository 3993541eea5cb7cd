// RF_BR: clip statistics against numpy, mAP against scikit-learn's RandomForestClassifier on the
// same data, determinism, model blobs round trip, error paths.
#include <gtest/gtest.h>

#include <cmath>

#include "train_test_util.h"
#include "tutti/core/error.h"
#include "tutti/models/random_forest.h"
#include "tutti/train/train.h"
#include "tutti/train/validation.h"

using namespace tutti;
using tutti::testing::train_fixture;
using tutti::testing::train_reference;

TEST(ClipStatistics, MatchNumpyMeanAndPopulationStd) {
  const auto test = train_fixture("test_small.npz");
  const auto ref = train_reference().at("clip_stats");
  const auto mean = models::clip_statistics(test, "mean");
  const auto both = models::clip_statistics(test, "mean_std");
  const std::int64_t d = test.dim;
  ASSERT_EQ(mean.size(), static_cast<std::size_t>(test.size() * d));
  ASSERT_EQ(both.size(), static_cast<std::size_t>(test.size() * 2 * d));
  for (std::size_t i = 0; i < ref.size(); ++i) {
    for (std::int64_t j = 0; j < d; ++j) {
      const double m = ref[i]["mean"][j].get<double>(), s = ref[i]["std"][j].get<double>();
      EXPECT_NEAR(mean[i * d + j], m, 1e-6) << i << "," << j;
      EXPECT_NEAR(both[i * 2 * d + j], m, 1e-6);
      EXPECT_NEAR(both[i * 2 * d + d + j], s, 1e-5);
    }
  }
  EXPECT_THROW(models::clip_statistics(test, "median"), Error);
}

TEST(ClipStatistics, ClipWithoutInstancesIsZero) {
  auto ds = data::BagDataset::zeros(2, 3, 2, {"a"}, data::FeatureType::kUint8);
  ds.n_instances = {0, 1};
  ds.x_u8 = {9, 9, 9, 9, 9, 9, 255, 51, 0, 0, 0, 0};
  const auto s = models::clip_statistics(ds, "mean");
  EXPECT_EQ(s[0], 0.0f);
  EXPECT_EQ(s[1], 0.0f);
  EXPECT_FLOAT_EQ(s[2], 1.0f);
  EXPECT_FLOAT_EQ(s[3], 0.2f);
}

TEST(RandomForest, MatchesScikitLearnMapOnTheSameData) {
  const auto train_ds = train_fixture("train_small.npz");
  const auto test = train_fixture("test_small.npz");
  auto cfg = train::TrainConfig::for_model("rf");
  cfg.threads = 2;
  const auto rf = models::RandomForestBR::fit(train_ds, train::forest_options(cfg));
  ASSERT_EQ(rf.num_classes(), 3);
  const auto scores = rf.predict(test, 2);
  for (float s : scores) ASSERT_TRUE(s >= 0.0f && s <= 1.0f);
  const double map = train::macro_average_precision(test, scores);
  const double sk = train_reference().at("sklearn_rf").at("test_map").get<double>();
  // Different tree learners (histogram splits, averaged Newton leaves vs averaged class
  // frequencies); the forest must not be worse than scikit-learn's by more than 0.05.
  EXPECT_GT(map, sk - 0.05) << "tutti rf mAP " << map << " sklearn " << sk;
  EXPECT_GT(rf.total_nodes(), 100);
}

TEST(RandomForest, SameSeedSameForestAndBlobsRoundTrip) {
  const auto train_ds = train_fixture("train_small.npz");
  const auto test = train_fixture("test_small.npz");
  auto cfg = train::TrainConfig::for_model("rf");
  cfg.rf_trees = 20;
  cfg.rf_features = "mean_std";
  const auto a = models::RandomForestBR::fit(train_ds, train::forest_options(cfg));
  const auto b = models::RandomForestBR::fit(train_ds, train::forest_options(cfg));
  const auto pa = a.predict(test, 1);
  EXPECT_EQ(pa, b.predict(test, 2));
  cfg.seed = 2;
  EXPECT_NE(pa, models::RandomForestBR::fit(train_ds, train::forest_options(cfg)).predict(test, 1));

  const auto blobs = a.to_blobs();
  ASSERT_EQ(blobs.size(), 3u);
  const auto back = models::RandomForestBR::from_blobs(blobs, 3, "mean_std", "m.tutti");
  EXPECT_EQ(back.predict(test, 1), pa);

  auto broken = blobs;
  broken["forest-1.ubj"].resize(10);
  try {
    models::RandomForestBR::from_blobs(broken, 3, "mean_std", "m.tutti");
    ADD_FAILURE() << "truncated forest accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("forest-1.ubj"), std::string::npos) << e.what();
  }
}

TEST(RandomForest, RejectsEmptyDataAndClassesWithoutKnownLabels) {
  auto cfg = train::TrainConfig::for_model("rf");
  auto empty = data::BagDataset::zeros(0, 10, 16, {"a"}, data::FeatureType::kUint8);
  EXPECT_THROW(models::RandomForestBR::fit(empty, train::forest_options(cfg)), Error);
  const auto bad = train_fixture("bad_noknown.npz");
  try {
    models::RandomForestBR::fit(bad, train::forest_options(cfg));
    ADD_FAILURE() << "class without labels accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'c2'"), std::string::npos) << e.what();
  }
}
