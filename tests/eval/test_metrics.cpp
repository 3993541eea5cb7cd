// Binary metrics against scikit-learn 1.2 (tests/fixtures/metrics/sklearn_cases.json, made by
// tools/fixtures/make_metrics_fixtures.py) to 1e-6, hand-computed cases, edge cases, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "sklearn_cases.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/eval/metrics.h"

namespace tutti::eval {
namespace {

constexpr double kTol = 1e-6;
constexpr float kNaNf = std::numeric_limits<float>::quiet_NaN();

struct Binary {
  std::vector<std::uint8_t> y;
  std::vector<float> s;
};

Binary load(const core::Json& c) {
  Binary b;
  for (const auto& v : c["y"]) b.y.push_back(v.get<std::uint8_t>());
  for (const auto& v : c["scores"]) b.s.push_back(static_cast<float>(v.get<double>()));
  return b;
}

TEST(Metrics, FixtureHasAllBinaryCases) {
  ASSERT_EQ(cases()["binary_cases"].size(), 7u);
  EXPECT_EQ(cases()["sklearn_version"].get<std::string>().substr(0, 3), "1.2");
}

TEST(Metrics, MatchSklearnOnEveryBinaryCase) {
  for (const auto& c : cases()["binary_cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto b = load(c);
    EXPECT_NEAR(average_precision(b.y, b.s), c["ap"].get<double>(), kTol);
    EXPECT_NEAR(roc_auc(b.y, b.s), c["auc"].get<double>(), kTol);
    const auto rm = ranking_metrics(b.y, b.s);
    EXPECT_NEAR(rm.ap, c["ap"].get<double>(), kTol);
    EXPECT_NEAR(rm.auc, c["auc"].get<double>(), kTol);

    const auto cm05 = confusion_at(b.y, b.s, 0.5f);
    EXPECT_NEAR(precision(cm05), c["precision_05"].get<double>(), kTol);
    EXPECT_NEAR(recall(cm05), c["recall_05"].get<double>(), kTol);
    EXPECT_NEAR(f1(cm05), c["f1_05"].get<double>(), kTol);
    EXPECT_NEAR(f1_macro(cm05), c["f1_macro_05"].get<double>(), kTol);

    const auto t2 = static_cast<float>(c["threshold2"].get<double>());
    const auto cm2 = confusion_at(b.y, b.s, t2);
    EXPECT_NEAR(precision(cm2), c["precision_t2"].get<double>(), kTol);
    EXPECT_NEAR(recall(cm2), c["recall_t2"].get<double>(), kTol);
    EXPECT_NEAR(f1(cm2), c["f1_t2"].get<double>(), kTol);
    EXPECT_NEAR(f1_macro(cm2), c["f1_macro_t2"].get<double>(), kTol);

    const auto best = best_f1_threshold(b.y, b.s);
    EXPECT_FLOAT_EQ(best.threshold, static_cast<float>(c["best_threshold"].get<double>()));
    EXPECT_NEAR(best.f1, c["best_f1"].get<double>(), kTol);
    // The returned threshold reproduces the best F1 on the same data.
    EXPECT_NEAR(f1(confusion_at(b.y, b.s, best.threshold)), best.f1, 1e-12);
  }
}

TEST(Metrics, HandComputedExample) {
  const std::vector<std::uint8_t> y = {1, 0, 1, 0};
  const std::vector<float> s = {0.9f, 0.8f, 0.4f, 0.1f};
  // PR points: (R=.5,P=1), (R=.5,P=.5), (R=1,P=2/3) -> AP = .5*1 + .5*2/3.
  EXPECT_NEAR(average_precision(y, s), 0.5 + 1.0 / 3.0, 1e-12);
  // Positive-negative pairs ranked right: (.9,.8) (.9,.1) (.4,.1) of 4.
  EXPECT_NEAR(roc_auc(y, s), 0.75, 1e-12);
  const auto cm = confusion_at(y, s, 0.5f);
  EXPECT_EQ(cm.tp, 1);
  EXPECT_EQ(cm.fp, 1);
  EXPECT_EQ(cm.fn, 1);
  EXPECT_EQ(cm.tn, 1);
  EXPECT_DOUBLE_EQ(f1(cm), 0.5);
  EXPECT_DOUBLE_EQ(f1_negative(cm), 0.5);
}

TEST(Metrics, TiesEarnHalfCreditAndOneOperatingPoint) {
  // One positive and one negative tied at 0.5, one positive above: AUC = (1 + 0.5) / 2.
  const std::vector<std::uint8_t> y = {1, 1, 0};
  const std::vector<float> s = {0.9f, 0.5f, 0.5f};
  EXPECT_NEAR(roc_auc(y, s), 0.75, 1e-12);
  // AP: (R=.5,P=1), then the tie as one point (R=1,P=2/3): .5 + .5*2/3, not .5 + .5*1.
  EXPECT_NEAR(average_precision(y, s), 0.5 + 1.0 / 3.0, 1e-12);
}

TEST(Metrics, ThresholdIsInclusive) {
  const std::vector<std::uint8_t> y = {1, 0};
  const std::vector<float> s = {0.5f, 0.49999997f};
  const auto cm = confusion_at(y, s, 0.5f);
  EXPECT_EQ(cm.tp, 1);
  EXPECT_EQ(cm.fp, 0);
}

TEST(Metrics, UndefinedCasesAreNaN) {
  const std::vector<std::uint8_t> neg = {0, 0, 0}, pos = {1, 1, 1};
  const std::vector<float> s = {0.1f, 0.5f, 0.9f};
  EXPECT_TRUE(std::isnan(average_precision(neg, s)));
  EXPECT_TRUE(std::isnan(roc_auc(neg, s)));
  EXPECT_TRUE(std::isnan(roc_auc(pos, s)));
  EXPECT_DOUBLE_EQ(average_precision(pos, s), 1.0);  // as sklearn
  EXPECT_TRUE(std::isnan(average_precision({}, {})));
  EXPECT_TRUE(std::isnan(f1_macro(Confusion{})));
  const auto none = best_f1_threshold(neg, s, 0.5f);
  EXPECT_FLOAT_EQ(none.threshold, 0.5f);
  EXPECT_TRUE(std::isnan(none.f1));
}

TEST(Metrics, ZeroDivisionGivesZero) {
  Confusion c;
  c.tn = 5;  // nothing predicted positive, no positive label
  EXPECT_EQ(precision(c), 0.0);
  EXPECT_EQ(recall(c), 0.0);
  EXPECT_EQ(f1(c), 0.0);
  // sklearn f1_score(average='macro') sees only label 0 here: its F1 is 1.
  EXPECT_DOUBLE_EQ(f1_macro(c), 1.0);
  c = Confusion{0, 0, 3, 4};  // positives exist but none predicted
  EXPECT_EQ(f1(c), 0.0);
  EXPECT_NEAR(f1_negative(c), 8.0 / 11.0, 1e-12);
  EXPECT_NEAR(f1_macro(c), 4.0 / 11.0, 1e-12);
}

TEST(Metrics, BestThresholdMidpointAndTieBreak) {
  // Scores .9(1) .7(0) .6(1) .2(0): F1 at .9 = 2/3, at .6 = 4/5, at .2 = 2/3 -> .6 wins,
  // midpoint to the next lower score .2 -> .4.
  const std::vector<std::uint8_t> y = {1, 0, 1, 0};
  const std::vector<float> s = {0.9f, 0.7f, 0.6f, 0.2f};
  auto b = best_f1_threshold(y, s);
  EXPECT_FLOAT_EQ(b.threshold, 0.4f);
  EXPECT_NEAR(b.f1, 0.8, 1e-12);
  // Equal F1 (2/3) at .8 (1 TP, 0 FP of 2 pos) and at .1 (2 TP, 2 FP... = 4/6): the higher wins.
  const std::vector<std::uint8_t> y2 = {1, 0, 1, 0};
  const std::vector<float> s2 = {0.8f, 0.3f, 0.1f, 0.5f};
  b = best_f1_threshold(y2, s2);
  EXPECT_FLOAT_EQ(b.threshold, 0.65f);  // midpoint of .8 and .5
  EXPECT_NEAR(b.f1, 2.0 / 3.0, 1e-12);
  // Adjacent floats: the midpoint rounds onto one of them; never onto the lower one.
  const float hi = 0.5f, lo = std::nextafter(0.5f, 0.0f);
  const std::vector<std::uint8_t> y3 = {1, 0};
  const std::vector<float> s3 = {hi, lo};
  b = best_f1_threshold(y3, s3);
  EXPECT_GT(b.threshold, lo);
  EXPECT_DOUBLE_EQ(b.f1, 1.0);
  // The lowest score wins (everything positive): the threshold is that score.
  const std::vector<std::uint8_t> y4 = {1, 1, 1};
  const std::vector<float> s4 = {0.3f, 0.2f, 0.1f};
  EXPECT_FLOAT_EQ(best_f1_threshold(y4, s4).threshold, 0.1f);
}

TEST(Metrics, ErrorsNameTheProblem) {
  const std::vector<std::uint8_t> y = {1, 0, 1};
  const std::vector<float> s2 = {0.1f, 0.2f};
  const std::vector<float> s_nan = {0.1f, kNaNf, 0.3f};
  const std::vector<float> s_inf = {0.1f, std::numeric_limits<float>::infinity(), 0.3f};
  const std::vector<std::uint8_t> y_bad = {1, 2, 0};
  const std::vector<float> s3 = {0.1f, 0.2f, 0.3f};
  try {
    average_precision(y, s2);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::average_precision: 3 labels but 2 scores");
  }
  try {
    roc_auc(y, s_nan);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::roc_auc: score[1] = nan is not finite");
  }
  EXPECT_THROW(roc_auc(y, s_inf), Error);
  EXPECT_THROW(confusion_at(y, s2, 0.5f), Error);
  EXPECT_THROW(confusion_at(y, s3, kNaNf), Error);
  EXPECT_THROW(best_f1_threshold(y, s_nan), Error);
  EXPECT_THROW(best_f1_threshold(y, s3, kNaNf), Error);
  try {
    average_precision(y_bad, s3);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::average_precision: label[1] = 2 is not 0 or 1");
  }
}

TEST(Metrics, IndependentOfInputOrder) {
  const auto b = load(cases()["binary_cases"][0]);
  auto y = b.y;
  auto s = b.s;
  std::reverse(y.begin(), y.end());
  std::reverse(s.begin(), s.end());
  EXPECT_DOUBLE_EQ(average_precision(y, s), average_precision(b.y, b.s));
  EXPECT_DOUBLE_EQ(roc_auc(y, s), roc_auc(b.y, b.s));
  EXPECT_EQ(best_f1_threshold(y, s).threshold, best_f1_threshold(b.y, b.s).threshold);
}

}  // namespace
}  // namespace tutti::eval
