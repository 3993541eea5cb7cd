// evaluate / choose_thresholds / summarize_runs against the scikit-learn fixture
// (tests/fixtures/metrics/sklearn_cases.json, multiclass_case and runs_case) to 1e-6.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>

#include "sklearn_cases.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/eval/evaluate.h"

namespace tutti::eval {
namespace {

constexpr double kTol = 1e-6;

struct Split {
  data::BagDataset ds;
  std::vector<float> scores;
};

Split load_split(const core::Json& mc, const char* which) {
  const auto& j = mc[which];
  const auto classes = mc["classes"].get<std::vector<std::string>>();
  Split s;
  s.ds = data::BagDataset::zeros(j["n"].get<std::int64_t>(), 1, 1, classes,
                                 data::FeatureType::kFloat32);
  for (std::int64_t i = 0; i < s.ds.size(); ++i) s.ds.keys[i] = fmt::format("clip{:03d}", i);
  s.ds.y_true.clear();
  s.ds.y_mask.clear();
  for (const auto& v : j["y_true"]) s.ds.y_true.push_back(static_cast<float>(v.get<double>()));
  for (const auto& v : j["y_mask"]) s.ds.y_mask.push_back(v.get<std::uint8_t>());
  for (const auto& v : j["scores"]) s.scores.push_back(static_cast<float>(v.get<double>()));
  return s;
}

void expect_num(const core::Json& expected, double actual, const std::string& what) {
  if (expected.is_null())
    EXPECT_TRUE(std::isnan(actual)) << what << " should be NaN, is " << actual;
  else
    EXPECT_NEAR(actual, expected.get<double>(), kTol) << what;
}

TEST(Evaluate, ThresholdsChosenOnValidationMatchBruteForce) {
  const auto& mc = cases()["multiclass_case"];
  const auto val = load_split(mc, "val");
  const auto thr = choose_thresholds(val.ds, val.scores);
  const auto expected = mc["thresholds"].get<std::vector<double>>();
  ASSERT_EQ(thr.size(), expected.size());
  for (std::size_t c = 0; c < thr.size(); ++c)
    EXPECT_FLOAT_EQ(thr[c], static_cast<float>(expected[c])) << "class " << c;
  EXPECT_FLOAT_EQ(thr[4], 0.5f);  // 'voice' has no positive in validation
}

TEST(Evaluate, MatchesSklearnPerClassMacroMicro) {
  const auto& mc = cases()["multiclass_case"];
  const auto test = load_split(mc, "test");
  const auto thr = mc["thresholds"].get<std::vector<float>>();
  const auto r = evaluate(test.ds, test.scores, thr);
  const auto& ex = mc["report"];

  expect_num(ex["mAP"], r.mAP, "mAP");
  expect_num(ex["auc"], r.auc, "auc");
  expect_num(ex["precision_pos"], r.precision_pos, "precision_pos");
  expect_num(ex["recall_pos"], r.recall_pos, "recall_pos");
  expect_num(ex["f1_pos"], r.f1_pos, "f1_pos");
  expect_num(ex["f1_pos_05"], r.f1_pos_05, "f1_pos_05");
  expect_num(ex["f1_attmic"], r.f1_attmic, "f1_attmic");
  expect_num(ex["micro"]["ap"], r.micro.ap, "micro.ap");
  expect_num(ex["micro"]["auc"], r.micro.auc, "micro.auc");
  expect_num(ex["micro"]["f1"], r.micro.f1, "micro.f1");
  EXPECT_EQ(r.skipped, ex["skipped"].get<std::vector<std::string>>());

  ASSERT_EQ(r.per_class.size(), 5u);
  for (const auto& m : r.per_class) {
    SCOPED_TRACE(m.name);
    const auto& e = ex["per_class"][m.name];
    EXPECT_EQ(m.n_known, e["n_known"].get<std::int64_t>());
    EXPECT_EQ(m.n_pos, e["n_pos"].get<std::int64_t>());
    expect_num(e["ap"], m.ap, "ap");
    expect_num(e["auc"], m.auc, "auc");
    expect_num(e["precision"], m.precision, "precision");
    expect_num(e["recall"], m.recall, "recall");
    expect_num(e["f1"], m.f1, "f1");
    expect_num(e["precision_05"], m.precision_05, "precision_05");
    expect_num(e["recall_05"], m.recall_05, "recall_05");
    expect_num(e["f1_05"], m.f1_05, "f1_05");
    expect_num(e["f1_attmic"], m.f1_attmic, "f1_attmic");
    expect_num(e["threshold"], m.threshold, "threshold");
  }
  EXPECT_EQ(r.per_class[2].skip_reason, "no negative label among 58 known");
  EXPECT_EQ(r.per_class[3].skip_reason, "no positive label among 61 known");
  EXPECT_FALSE(r.per_class[0].skipped);
}

TEST(Evaluate, JsonHasExactlyTheAgreedKeys) {
  const auto& mc = cases()["multiclass_case"];
  const auto test = load_split(mc, "test");
  const auto j = evaluate(test.ds, test.scores).to_json();
  std::set<std::string> top;
  for (const auto& [k, _] : j.items()) top.insert(k);
  EXPECT_EQ(top, (std::set<std::string>{"mAP", "auc", "precision_pos", "recall_pos", "f1_pos",
                                        "f1_pos_05", "f1_attmic", "micro", "skipped",
                                        "skip_reasons", "per_class"}));
  EXPECT_EQ(j["micro"].size(), 3u);
  EXPECT_TRUE(j["micro"].contains("ap") && j["micro"].contains("auc") && j["micro"].contains("f1"));
  std::set<std::string> pc;
  for (const auto& [k, _] : j["per_class"]["bass"].items()) pc.insert(k);
  EXPECT_EQ(pc, (std::set<std::string>{"ap", "auc", "precision", "recall", "f1", "precision_05",
                                       "recall_05", "f1_05", "f1_attmic", "threshold", "n_known",
                                       "n_pos"}));
  EXPECT_TRUE(j["per_class"]["flute"]["ap"].is_null());  // NaN written as null
  EXPECT_EQ(j["skip_reasons"]["flute"], "no positive label among 61 known");
  EXPECT_EQ(j.dump().find("NaN"), std::string::npos);
  EXPECT_EQ(j["per_class"]["bass"]["threshold"].get<double>(), 0.5);  // empty thresholds = 0.5
}

TEST(Evaluate, DefaultThresholdIsHalf) {
  const auto& mc = cases()["multiclass_case"];
  const auto test = load_split(mc, "test");
  const auto r = evaluate(test.ds, test.scores);
  EXPECT_NEAR(r.f1_pos, mc["report"]["f1_pos_05"].get<double>(), kTol);
  EXPECT_DOUBLE_EQ(r.f1_pos, r.f1_pos_05);
}

TEST(Evaluate, JsonRoundTrip) {
  const auto& mc = cases()["multiclass_case"];
  const auto test = load_split(mc, "test");
  const auto r = evaluate(test.ds, test.scores, mc["thresholds"].get<std::vector<float>>());
  const auto back = EvalReport::from_json(core::Json::parse(r.to_json().dump()));
  EXPECT_EQ(back.to_json(), r.to_json());
  EXPECT_TRUE(back.per_class[3].skipped);  // 'flute' (alphabetical order = class order here)
  EXPECT_EQ(back.per_class[3].skip_reason, r.per_class[3].skip_reason);
  auto broken = r.to_json();
  broken["per_class"]["bass"].erase("f1");
  try {
    EvalReport::from_json(broken);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "EvalReport::from_json: per_class.bass has no key 'f1'");
  }
}

TEST(Evaluate, OnlyKnownEntriesCount) {
  auto test = load_split(cases()["multiclass_case"], "test");
  const auto before = evaluate(test.ds, test.scores);
  // Changing scores and labels of unknown entries changes nothing.
  const auto nc = test.ds.num_classes();
  for (std::size_t j = 0; j < test.scores.size(); ++j) {
    if (!test.ds.y_mask[j]) {
      test.scores[j] = (j % 2) ? 1.0f : 0.0f;
      test.ds.y_true[j] = (j % 3) ? 1.0f : 0.0f;
    }
  }
  const auto after = evaluate(test.ds, test.scores);
  EXPECT_EQ(after.to_json(), before.to_json());
  // Masking one more known entry does change the counts.
  for (std::size_t j = 0; j < test.scores.size(); j += static_cast<std::size_t>(nc)) {
    if (test.ds.y_mask[j]) {
      test.ds.y_mask[j] = 0;
      break;
    }
  }
  EXPECT_EQ(evaluate(test.ds, test.scores).per_class[0].n_known, before.per_class[0].n_known - 1);
}

TEST(Evaluate, AllClassesSkippedGivesNaNMacro) {
  auto ds = data::BagDataset::zeros(3, 1, 1, {"a", "b"}, data::FeatureType::kFloat32);
  ds.keys = {"x", "y", "z"};
  ds.y_mask = {1, 0, 1, 0, 1, 0};  // b never known; a all negative
  const std::vector<float> scores = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f};
  const auto r = evaluate(ds, scores);
  EXPECT_TRUE(std::isnan(r.mAP));
  EXPECT_TRUE(std::isnan(r.f1_pos));
  EXPECT_TRUE(std::isnan(r.micro.ap));
  EXPECT_TRUE(std::isnan(r.micro.f1));
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(r.per_class[1].skip_reason, "no known labels");
  EXPECT_EQ(r.to_json()["mAP"], nullptr);
}

TEST(Evaluate, ErrorsNameTheProblem) {
  auto test = load_split(cases()["multiclass_case"], "test");
  const std::vector<float> short_scores(test.scores.begin(), test.scores.end() - 1);
  try {
    evaluate(test.ds, short_scores);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::evaluate: 499 scores for 100 clips x 5 classes (expected 500)");
  }
  auto nan_scores = test.scores;
  nan_scores[7] = std::numeric_limits<float>::quiet_NaN();
  try {
    evaluate(test.ds, nan_scores);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::evaluate: score of clip 1 ('clip001') for class 'drums' is nan");
  }
  EXPECT_THROW(choose_thresholds(test.ds, nan_scores), Error);
  EXPECT_THROW(choose_thresholds(test.ds, short_scores), Error);
  const std::vector<float> two = {0.5f, 0.5f};
  try {
    evaluate(test.ds, test.scores, two);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::evaluate: 2 thresholds for 5 classes (pass none for 0.5)");
  }
  std::vector<float> bad_thr(5, 0.5f);
  bad_thr[1] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(evaluate(test.ds, test.scores, bad_thr), Error);
  test.ds.y_mask.pop_back();  // inconsistent truth
  EXPECT_THROW(evaluate(test.ds, test.scores), Error);
}

// ---- summarize_runs ----------------------------------------------------------------------------

EvalReport fake_report(double map, double f1_bass, bool skip_cello) {
  EvalReport r;
  r.mAP = map;
  r.auc = r.precision_pos = r.recall_pos = r.f1_pos = r.f1_pos_05 = r.f1_attmic = 0.5;
  r.micro = {0.6, 0.7, 0.8};
  ClassMetrics bass, cello;
  bass.name = "bass", cello.name = "cello";
  bass.ap = bass.auc = 0.9;
  bass.f1 = f1_bass;
  cello.ap = skip_cello ? std::nan("") : 0.4;
  cello.skipped = skip_cello;
  r.per_class = {bass, cello};
  if (skip_cello) r.skipped = {"cello"};
  return r;
}

TEST(SummarizeRuns, MeanAndSampleStdMatchNumpy) {
  const auto& rc = cases()["runs_case"];
  const auto vals = rc["values"].get<std::vector<double>>();
  std::vector<EvalReport> runs;
  for (std::size_t k = 0; k < vals.size(); ++k) runs.push_back(fake_report(vals[k], 0.3, k == 1));
  const auto s = summarize_runs(runs);
  EXPECT_EQ(s.n_runs, 4);
  EXPECT_NEAR(s.mean["mAP"].get<double>(), rc["mean"].get<double>(), 1e-12);
  EXPECT_NEAR(s.sd["mAP"].get<double>(), rc["std_ddof1"].get<double>(), 1e-12);
  EXPECT_NEAR(s.mean["micro"]["auc"].get<double>(), 0.7, 1e-12);
  EXPECT_NEAR(s.sd["per_class"]["bass"]["f1"].get<double>(), 0.0, 1e-12);
  // cello's AP is NaN in run 1: summarised over the 3 runs defining it.
  EXPECT_EQ(s.n["per_class"]["cello"]["ap"].get<int>(), 3);
  EXPECT_NEAR(s.mean["per_class"]["cello"]["ap"].get<double>(), 0.4, 1e-12);
  EXPECT_EQ(s.skipped, (std::vector<std::string>{"cello"}));
  const auto j = s.to_json();
  EXPECT_EQ(j["ddof"], 1);
  EXPECT_TRUE(j.contains("std"));
  EXPECT_FALSE(j["mean"].contains("skipped"));
}

TEST(SummarizeRuns, OneRunHasNoSpreadAndMismatchesThrow) {
  const std::vector<EvalReport> one = {fake_report(0.6, 0.3, false)};
  const auto s = summarize_runs(one);
  EXPECT_TRUE(s.sd["mAP"].is_null());
  EXPECT_DOUBLE_EQ(s.mean["mAP"].get<double>(), 0.6);
  EXPECT_THROW(summarize_runs(std::span<const EvalReport>{}), Error);
  std::vector<EvalReport> two = {fake_report(0.6, 0.3, false), fake_report(0.7, 0.3, false)};
  two[1].per_class[1].name = "flute";
  try {
    summarize_runs(two);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::summarize_runs: run 1 has class 'flute' where run 0 has 'cello'");
  }
}

}  // namespace
}  // namespace tutti::eval
