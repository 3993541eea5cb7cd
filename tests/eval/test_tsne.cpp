// Exact t-SNE against scikit-learn 1.2 (tests/fixtures/tsne/sklearn_tsne.json, made by
// tools/fixtures/make_tsne_fixture.py): joint probabilities, KL and gradient to 1e-6,
// trustworthiness exactly, cluster preservation, determinism, and the error paths.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/eval/tsne.h"

namespace tutti::eval {
namespace {

using tutti::testing::error_of;

const core::Json& ref() {
  static const core::Json j =
      core::read_json_file(tutti::testing::fixture("tsne/sklearn_tsne.json"));
  return j;
}

template <typename T>
std::vector<T> vec(const core::Json& a) {
  return a.get<std::vector<T>>();
}

TEST(Tsne, JointProbabilitiesMatchSklearn) {
  for (const auto& c : ref()["p_cases"]) {
    const std::int64_t n = c["n"], d = c["d"];
    const auto x = vec<float>(c["x"]);
    const auto p = joint_probabilities(squared_distances(x, n, d), n, c["perplexity"]);
    const auto want = vec<double>(c["p_condensed"]);
    std::size_t idx = 0;
    double total = 0;
    for (std::int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(p[i * n + i], 0.0);
      for (std::int64_t j = i + 1; j < n; ++j, ++idx) {
        ASSERT_NEAR(p[i * n + j], want[idx], 1e-6) << "n=" << n << " pair " << i << "," << j;
        // Relative agreement too: the values are ~1/N^2.
        EXPECT_NEAR(p[i * n + j], want[idx], 1e-4 * want[idx] + 1e-12);
        EXPECT_EQ(p[i * n + j], p[j * n + i]);
        total += 2 * p[i * n + j];
      }
    }
    EXPECT_NEAR(total, 1.0, 1e-9);
  }
}

TEST(Tsne, KlDivergenceAndGradientMatchSklearn) {
  const auto& c0 = ref()["p_cases"][0];
  const std::int64_t n = c0["n"], d = c0["d"];
  const auto p = joint_probabilities(squared_distances(vec<float>(c0["x"]), n, d), n,
                                     c0["perplexity"]);
  const auto& k = ref()["kl_case"];
  const auto y = vec<double>(k["y"]);
  std::vector<double> grad;
  const double kl = kl_divergence(p, y, n, &grad);
  EXPECT_NEAR(kl, k["kl"].get<double>(), 1e-6);
  const auto want = vec<double>(k["grad"]);
  ASSERT_EQ(grad.size(), want.size());
  for (std::size_t i = 0; i < grad.size(); ++i) EXPECT_NEAR(grad[i], want[i], 1e-6) << i;
  // Without a gradient buffer: the same value.
  EXPECT_DOUBLE_EQ(kl_divergence(p, y, n, nullptr), kl);
}

TEST(Tsne, TrustworthinessMatchesSklearn) {
  const auto& c = ref()["trust_case"];
  const auto x = vec<float>(c["x"]);
  const auto y = vec<double>(c["y"]);
  EXPECT_NEAR(trustworthiness(x, c["d"], y, c["e"], c["n"], c["k"]),
              c["trustworthiness"].get<double>(), 1e-12);
  // The input space itself (as a 2-d embedding of 2-d data) is perfectly trustworthy.
  std::vector<float> x2 = {0, 0, 1, 0, 0, 1, 5, 5, 6, 5, 5, 6, 9, 0, 10, 1, 9, 1, 3, 7, 2, 8};
  std::vector<double> y2(x2.begin(), x2.end());
  EXPECT_DOUBLE_EQ(trustworthiness(x2, 2, y2, 2, 11, 2), 1.0);
}

TEST(Tsne, WellSeparatedClustersStaySeparated) {
  const auto& c = ref()["clusters"];
  const std::int64_t n = c["n"], d = c["d"];
  const auto x = vec<float>(c["x"]);
  const auto labels = vec<int>(c["labels"]);
  TsneConfig cfg;
  cfg.perplexity = c["perplexity"];
  const auto r = tsne(x, n, d, cfg);
  ASSERT_EQ(r.embedding.size(), static_cast<std::size_t>(2 * n));
  EXPECT_DOUBLE_EQ(r.learning_rate, 50.0);  // auto: max(80 / 12 / 4, 50)
  EXPECT_GT(r.kl_divergence, 0.0);
  EXPECT_LT(r.kl_divergence, 2.0);
  const double t = trustworthiness(x, d, r.embedding, 2, n, 5);
  EXPECT_GE(t, c["sklearn_trustworthiness_k5"].get<double>() - 0.02);
  // Every point's nearest neighbour in the embedding is from its own cluster.
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t best = -1;
    double best_d = INFINITY;
    for (std::int64_t j = 0; j < n; ++j) {
      if (j == i) continue;
      const double dx = r.embedding[2 * i] - r.embedding[2 * j];
      const double dy = r.embedding[2 * i + 1] - r.embedding[2 * j + 1];
      if (dx * dx + dy * dy < best_d) best_d = dx * dx + dy * dy, best = j;
    }
    EXPECT_EQ(labels[best], labels[i]) << "point " << i;
  }
  // Random initialisation reaches the same quality.
  cfg.init = "random";
  const auto rr = tsne(x, n, d, cfg);
  EXPECT_GE(trustworthiness(x, d, rr.embedding, 2, n, 5),
            c["sklearn_trustworthiness_k5"].get<double>() - 0.02);
}

TEST(Tsne, DeterministicForASeed) {
  const auto& c = ref()["p_cases"][0];
  const auto x = vec<float>(c["x"]);
  TsneConfig cfg;
  cfg.perplexity = 5;
  cfg.iterations = 300;
  cfg.init = "random";
  cfg.seed = 7;
  const auto a = tsne(x, c["n"], c["d"], cfg);
  const auto b = tsne(x, c["n"], c["d"], cfg);
  EXPECT_EQ(a.embedding, b.embedding);
  EXPECT_EQ(a.kl_divergence, b.kl_divergence);
  cfg.seed = 8;
  EXPECT_NE(tsne(x, c["n"], c["d"], cfg).embedding, a.embedding);
  cfg.init = "pca";  // no randomness at all
  EXPECT_EQ(tsne(x, c["n"], c["d"], cfg).embedding, tsne(x, c["n"], c["d"], cfg).embedding);
}

TEST(Tsne, Errors) {
  std::vector<float> x(10 * 3, 0.5f);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7);
  TsneConfig cfg;  // perplexity 30 >= 10 points
  EXPECT_NE(error_of([&] { tsne(x, 10, 3, cfg); }).find("less than the number of points (10)"),
            std::string::npos);
  cfg.perplexity = 3;
  EXPECT_NE(error_of([&] { tsne(std::span<const float>(x).first(3), 1, 3, cfg); })
                .find("at least 2"),
            std::string::npos);
  cfg.iterations = 100;
  EXPECT_NE(error_of([&] { cfg.validate(); }).find("at least 250"), std::string::npos);
  cfg.iterations = 1000;
  cfg.perplexity = -1;
  EXPECT_NE(error_of([&] { cfg.validate(); }).find("perplexity -1"), std::string::npos);
  cfg.perplexity = 3;
  cfg.init = "spectral";
  EXPECT_THROW(cfg.validate(), UsageError);
  cfg.init = "pca";
  cfg.early_exaggeration = 0.5;
  EXPECT_THROW(cfg.validate(), UsageError);
  cfg.early_exaggeration = 12;
  x[4] = NAN;
  EXPECT_NE(error_of([&] { tsne(x, 10, 3, cfg); }).find("NaN"), std::string::npos);
  std::vector<double> y(20, 0.0);
  EXPECT_THROW(trustworthiness(x, 3, y, 2, 10, 5), UsageError);  // k must be < N/2
  EXPECT_THROW(trustworthiness(x, 3, y, 2, 10, 0), UsageError);
  EXPECT_THROW(joint_probabilities(std::vector<double>(4, 0.0), 2, 0.0), UsageError);
}

data::BagDataset labelled(const std::vector<std::vector<int>>& positives, int classes) {
  auto ds = data::BagDataset::zeros(static_cast<std::int64_t>(positives.size()), 1, 2,
                                    {"a", "b", "c"}, data::FeatureType::kUint8);
  ds.classes.resize(classes);
  for (std::size_t i = 0; i < positives.size(); ++i) {
    ds.keys[i] = fmt::format("k{}", i);
    for (const int c : positives[i]) ds.y_true[i * 3 + c] = 1.0f;
    for (int c = 0; c < 3; ++c) ds.y_mask[i * 3 + c] = 1;
  }
  return ds;
}

TEST(TsnePoints, SingleLabelClipsOnlyWithCounts) {
  auto ds = labelled({{0}, {0, 1}, {}, {2}, {1}, {1, 2}, {2}}, 3);
  ds.y_mask[4 * 3 + 1] = 0;  // clip 4's only positive is unknown: counts as none
  const auto p = single_label_points(ds, 100, 0);
  EXPECT_EQ(p.rows, (std::vector<std::int64_t>{0, 3, 6}));
  EXPECT_EQ(p.labels, (std::vector<std::string>{"a", "c", "c"}));
  EXPECT_EQ(p.single_label, 3);
  EXPECT_EQ(p.omitted_multi, 2);
  EXPECT_EQ(p.omitted_none, 2);
  EXPECT_EQ(p.subsampled_out, 0);
}

TEST(TsnePoints, CapSubsamplesDeterministically) {
  std::vector<std::vector<int>> pos;
  for (int i = 0; i < 50; ++i) pos.push_back({i % 3});
  const auto ds = labelled(pos, 3);
  const auto a = single_label_points(ds, 10, 3);
  EXPECT_EQ(a.rows.size(), 10u);
  EXPECT_EQ(a.subsampled_out, 40);
  EXPECT_TRUE(std::is_sorted(a.rows.begin(), a.rows.end()));
  EXPECT_EQ(single_label_points(ds, 10, 3).rows, a.rows);
  EXPECT_NE(single_label_points(ds, 10, 4).rows, a.rows);
  for (std::size_t i = 0; i < a.rows.size(); ++i)
    EXPECT_EQ(a.labels[i], ds.classes[a.rows[i] % 3]);
}

TEST(TsnePoints, NoSingleLabelClipIsAnError) {
  const auto ds = labelled({{0, 1}, {}, {1, 2}}, 3);
  const auto msg = error_of([&] { single_label_points(ds, 10, 0, "x.npz"); });
  EXPECT_NE(msg.find("x.npz: no clip with exactly one positive class among 3 clips (2 with "
                     "several, 1 with none)"),
            std::string::npos)
      << msg;
  EXPECT_THROW(single_label_points(ds, 1, 0), UsageError);
}

}  // namespace
}  // namespace tutti::eval
