// pipelines::localize_predictions against scikit-learn (tools/fixtures/make_localize_fixtures.py),
// the baselines, the example timelines, the seed summary and every error path.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/models/model_spec.h"
#include "tutti/pipelines/localize.h"

namespace tutti::pipelines {
namespace {

using tutti::testing::error_of;

struct Case {
  core::Json j;
  data::BagDataset ds;
  infer::Predictions p;
};

Case load_case() {
  Case c;
  c.j = core::read_json_file(tutti::testing::fixture("localize/small.json"));
  const auto& j = c.j;
  const std::int64_t n = j["N"], k = j["K"], nc = j["C"];
  c.ds = data::BagDataset::zeros(n, k, 2, j["classes"].get<std::vector<std::string>>(),
                                 data::FeatureType::kFloat32);
  c.ds.n_instances = j["n_instances"].get<std::vector<std::int32_t>>();
  c.ds.y_true = j["y_true"].get<std::vector<float>>();
  for (std::size_t x = 0; x < c.ds.y_mask.size(); ++x) c.ds.y_mask[x] = j["y_mask"][x].get<int>();
  c.ds.y_instance = j["y_instance"].get<std::vector<std::uint8_t>>();
  for (std::int64_t i = 0; i < n; ++i) c.ds.keys[i] = "clip" + std::to_string(i);
  c.p.n = n, c.p.k = k, c.p.c = nc;
  c.p.instance = j["frame"].get<std::vector<float>>();
  c.p.attention = j["attention"].get<std::vector<float>>();
  c.p.scores.assign(static_cast<std::size_t>(n * nc), 0.25f);
  c.p.scores[1] = 0.9f;  // clip 0, class 1 -> shown in the examples
  return c;
}

void expect_method(const LocalizationReport& r, const std::string& name, const core::Json& exp) {
  SCOPED_TRACE(name);
  const auto& m = r.method(name);
  EXPECT_NEAR(m.report.mAP, exp["mAP"].get<double>(), 1e-6);
  EXPECT_NEAR(m.report.auc, exp["auc"].get<double>(), 1e-6);
  EXPECT_NEAR(m.map_mean, exp["mAP"].get<double>(), 1e-6);
  for (const auto& pc : m.report.per_class) {
    const auto& e = exp["per_class"][pc.name];
    if (e.is_null()) {
      EXPECT_TRUE(pc.skipped) << pc.name;
      continue;
    }
    EXPECT_FALSE(pc.skipped) << pc.name;
    EXPECT_NEAR(pc.ap, e["ap"].get<double>(), 1e-6) << pc.name;
    EXPECT_NEAR(pc.auc, e["auc"].get<double>(), 1e-6) << pc.name;
    EXPECT_EQ(pc.n_instances, e["n_instances"].get<std::int64_t>()) << pc.name;
    EXPECT_EQ(pc.n_pos, e["n_pos"].get<std::int64_t>()) << pc.name;
  }
}

TEST(Localize, MatchesScikitLearnForEveryMethod) {
  auto c = load_case();
  LocalizeOptions o;
  o.random_draws = 50;
  const auto r = localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "small");
  ASSERT_EQ(r.methods.size(), 5u);
  EXPECT_EQ(r.methods[0].name, "attention");
  EXPECT_EQ(r.methods[1].name, "frame");
  EXPECT_EQ(r.methods[2].name, "product");
  EXPECT_EQ(r.methods[3].name, "uniform");
  EXPECT_EQ(r.methods[4].name, "random");
  for (const char* m : {"attention", "frame", "product", "uniform"})
    expect_method(r, m, c.j["expected"][m]);
  EXPECT_NEAR(r.positive_rate, c.j["positive_rate"].get<double>(), 1e-12);
  EXPECT_EQ(r.clips, 6);
}

TEST(Localize, UniformIsThePositiveRateAndHalfAuc) {
  auto c = load_case();
  const auto r = localize_predictions(c.p, c.ds, c.ds.classes, "att", {}, "small");
  const auto& u = r.method("uniform");
  EXPECT_DOUBLE_EQ(u.report.auc, 0.5);
  for (const auto& pc : u.report.per_class) {
    if (!pc.skipped) {
      EXPECT_NEAR(pc.ap, static_cast<double>(pc.n_pos) / static_cast<double>(pc.n_instances),
                  1e-12);
    }
  }
}

TEST(Localize, RandomBaselineIsSeededAndNearChance) {
  auto c = load_case();
  LocalizeOptions o;
  o.random_draws = 400;
  o.seed = 3;
  const auto a = localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "small");
  const auto b = localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "small");
  o.seed = 4;
  const auto d = localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "small");
  const auto& ra = a.method("random");
  EXPECT_EQ(ra.n, 400);
  EXPECT_EQ(ra.map_mean, b.method("random").map_mean);
  EXPECT_EQ(ra.auc_std, b.method("random").auc_std);
  EXPECT_NE(ra.map_mean, d.method("random").map_mean);
  // Expected AUC of random scores is 0.5; the std of the mean over 400 draws is std/20.
  EXPECT_GT(ra.auc_std, 0.05);
  EXPECT_NEAR(ra.auc_mean, 0.5, 4 * ra.auc_std / 20);
  // Expected AP of random scores is above the positive rate on small sets, and below 1.
  EXPECT_GT(ra.map_mean, a.method("uniform").map_mean - 0.05);
  EXPECT_LT(ra.map_mean, 0.9);
}

TEST(Localize, FrameOnlyModelsHaveNoAttentionMethods) {
  auto c = load_case();
  c.p.attention.clear();
  const auto r = localize_predictions(c.p, c.ds, c.ds.classes, "fc_t", {}, "small");
  EXPECT_FALSE(r.has("attention"));
  EXPECT_FALSE(r.has("product"));
  expect_method(r, "frame", c.j["expected"]["frame"]);
  EXPECT_TRUE(r.has("uniform"));
  EXPECT_TRUE(r.has("random"));
}

TEST(Localize, JsonFitsTheReportSchema) {
  auto c = load_case();
  LocalizeOptions o;
  o.examples = 2;
  const auto j = localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "small").to_json();
  EXPECT_EQ(j["model"], "att");
  EXPECT_NEAR(j["methods"]["frame"]["mAP"].get<double>(),
              c.j["expected"]["frame"]["mAP"].get<double>(), 1e-6);
  EXPECT_TRUE(j["methods"]["random"]["mAP"].contains("mean"));
  EXPECT_TRUE(j["methods"]["random"]["auc"].contains("std"));
  ASSERT_EQ(j["examples"].size(), 2u);
  const auto& ex = j["examples"][0];
  const auto ncls = ex["classes"].size();
  EXPECT_EQ(ex["prob"].size(), ncls);
  EXPECT_EQ(ex["attention"].size(), ncls);
  EXPECT_EQ(ex["clip_scores"].size(), ncls);
  EXPECT_DOUBLE_EQ(ex["hop_s"].get<double>(), 0.96);
}

TEST(Localize, ExampleTruthSegmentsAreMergedActiveInstances) {
  auto c = load_case();
  // clip 0, class 0 (bass): make its truth 1,1,0,1,1 and ensure it is the first example.
  const std::int64_t k = 5, nc = 4;
  for (int t = 0; t < 5; ++t) c.ds.y_instance[(0 * k + t) * nc + 0] = t == 2 ? 0 : 1;
  c.ds.y_true[0] = 1, c.ds.y_true[1] = 1;
  const auto ex = localization_examples(c.p, c.ds, 10, 1.0);
  ASSERT_FALSE(ex.empty());
  const report::TimelineExample* clip0 = nullptr;
  for (const auto& e : ex)
    if (e.clip == "clip0") clip0 = &e;
  ASSERT_NE(clip0, nullptr);
  ASSERT_TRUE(clip0->truth.has_value());
  const auto segs = clip0->truth->at("bass");
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_DOUBLE_EQ(segs[0][0], 0.0);
  EXPECT_DOUBLE_EQ(segs[0][1], 2.0);
  EXPECT_DOUBLE_EQ(segs[1][0], 3.0);
  EXPECT_DOUBLE_EQ(segs[1][1], 5.0);
  // Every clip drawn has at least two present classes.
  for (const auto& e : ex) EXPECT_GE(e.truth->size(), 2u);
}

// A run's localization as results.json holds it: deterministic methods as bare numbers, random
// as {"mean", ...}.
report::RunLocalization run_localization(double frame_map, double frame_auc, double random_map) {
  report::RunLocalization r;
  r.model = "att";
  r.random_draws = 7;
  r.methods["frame"].mAP = report::Stat::number(frame_map);
  r.methods["frame"].auc = report::Stat::number(frame_auc);
  r.methods["random"].mAP = report::Stat{random_map, 0.01, 7};
  r.methods["random"].auc = report::Stat::number(0.5);
  return r;
}

TEST(Localize, SummaryOverSeedsIsMeanAndSampleStd) {
  const auto a = run_localization(0.5, 0.7, 0.3);
  const auto b = run_localization(0.7, std::nan(""), 0.5);
  auto s = summarize_localization({a, b});
  EXPECT_DOUBLE_EQ(s["frame"].mAP->mean, 0.6);
  EXPECT_NEAR(s["frame"].mAP->std, std::sqrt(0.02), 1e-12);  // numpy.std([0.5, 0.7], ddof=1)
  EXPECT_EQ(s["frame"].mAP->n, 2);
  EXPECT_EQ(s["frame"].auc->n, 1);
  EXPECT_TRUE(std::isnan(s["frame"].auc->std));
  EXPECT_DOUBLE_EQ(s["random"].mAP->mean, 0.4);
  // Written as {"mean", "std", "n"} (std null for one value), never as bare numbers.
  const core::Json j = s["frame"].to_json();
  EXPECT_EQ(j, core::Json::parse(R"({"mAP": {"mean": 0.6, "std": 0.14142135623730948, "n": 2},
                                     "auc": {"mean": 0.7, "std": null, "n": 1}})"));
}

TEST(Localize, ExperimentSectionSummarizesRunsPerModel) {
  std::vector<report::Run> runs(4);
  runs[0].model = "att", runs[0].localization = run_localization(0.5, 0.7, 0.3);
  runs[1].model = "rf";  // no localization
  runs[2].model = "att", runs[2].localization = run_localization(0.7, 0.9, 0.5);
  runs[3].model = "fc_t", runs[3].localization = run_localization(0.4, 0.6, 0.3);
  report::TimelineExample ex;
  ex.clip = "c7";
  runs[2].localization->examples = {ex};
  const auto section = experiment_localization_section(runs, {{"rf", "no per-instance outputs"}});
  ASSERT_TRUE(section.has_value());
  ASSERT_EQ(section->models.size(), 2u);
  const auto& att = section->models.at("att");
  EXPECT_EQ(att.runs, 2);
  EXPECT_DOUBLE_EQ(att.methods.at("frame").auc->mean, 0.8);
  // The examples of the first run that has some.
  ASSERT_TRUE(att.examples.has_value());
  EXPECT_EQ(att.examples->at(0).clip, "c7");
  EXPECT_FALSE(section->models.at("fc_t").examples.has_value());
  EXPECT_NE(section->description->find("7 seeded draws per run"), std::string::npos);
  EXPECT_NE(section->description->find("Not localized (no per-instance outputs): rf."),
            std::string::npos);
  EXPECT_FALSE(experiment_localization_section({runs[1]}, {}).has_value());
}

TEST(Localize, Errors) {
  auto c = load_case();
  {
    auto ds = c.ds;
    ds.y_instance.clear();
    EXPECT_NE(error_of([&] { localize_predictions(c.p, ds, ds.classes, "att", {}, "x.npz"); })
                  .find("x.npz has no instance labels (Y_instance)"),
              std::string::npos);
  }
  {
    auto p = c.p;
    p.instance.clear();
    p.attention.clear();
    EXPECT_NE(error_of([&] { localize_predictions(p, c.ds, c.ds.classes, "rf", {}, "x"); })
                  .find("model 'rf' has no per-instance outputs"),
              std::string::npos);
  }
  {
    auto cls = c.ds.classes;
    std::swap(cls[0], cls[1]);
    EXPECT_NE(error_of([&] { localize_predictions(c.p, c.ds, cls, "att", {}, "x"); })
                  .find("classes differ"),
              std::string::npos);
  }
  {
    auto p = c.p;
    p.k = 4;
    EXPECT_NE(error_of([&] { localize_predictions(p, c.ds, c.ds.classes, "att", {}, "x"); })
                  .find("do not fit x"),
              std::string::npos);
  }
  {
    auto p = c.p;
    p.attention.pop_back();
    EXPECT_NE(error_of([&] { localize_predictions(p, c.ds, c.ds.classes, "att", {}, "x"); })
                  .find("attention weights"),
              std::string::npos);
  }
  {
    auto p = c.p;
    p.instance[0] = std::nanf("");
    EXPECT_NE(error_of([&] { localize_predictions(p, c.ds, c.ds.classes, "att", {}, "x"); })
                  .find("is nan"),
              std::string::npos);
  }
  LocalizeOptions o;
  o.random_draws = 0;
  EXPECT_THROW(localize_predictions(c.p, c.ds, c.ds.classes, "att", o, "x"), UsageError);
  o = {};
  o.examples = -1;
  EXPECT_THROW(o.validate(), UsageError);
  o = {};
  o.hop_s = 0;
  EXPECT_THROW(o.validate(), UsageError);
  EXPECT_THROW(c.p.n == 0 ? void() : void(LocalizationReport{}.method("frame")), Error);
}

TEST(Localize, WhichModelsHaveInstanceOutputs) {
  for (const char* m : {"att", "fc_t", "rnn", "mmgat", "mmgat-single", "mmgat-principal",
                        "mmgat-graph"})
    EXPECT_TRUE(models::has_instance_outputs(m)) << m;
  EXPECT_FALSE(models::has_instance_outputs("fc"));
  EXPECT_FALSE(models::has_instance_outputs("rf"));
}

}  // namespace
}  // namespace tutti::pipelines
