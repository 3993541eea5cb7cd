// Localization metrics: instance-level AP/AUC against scikit-learn, segment-based metrics against
// the independent Python implementation of sed_eval's algorithm in
// tools/fixtures/make_metrics_fixtures.py, plus hand-checked tiny cases and error paths.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "sklearn_cases.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/eval/localization.h"

namespace tutti::eval {
namespace {

constexpr double kTol = 1e-6;

struct InstanceCase {
  std::vector<float> scores;
  std::vector<std::uint8_t> y, clip_pos;
  std::vector<std::int32_t> n_inst;
  std::vector<std::string> classes;
  std::int64_t K = 0;
};

InstanceCase load_instances() {
  const auto& j = cases()["instance_case"];
  InstanceCase c;
  for (const auto& v : j["scores"]) c.scores.push_back(static_cast<float>(v.get<double>()));
  c.y = j["y_instance"].get<std::vector<std::uint8_t>>();
  c.clip_pos = j["clip_positive"].get<std::vector<std::uint8_t>>();
  c.n_inst = j["n_instances"].get<std::vector<std::int32_t>>();
  c.classes = j["classes"].get<std::vector<std::string>>();
  c.K = j["K"].get<std::int64_t>();
  return c;
}

TEST(InstanceMetrics, MatchSklearnInsidePositiveClips) {
  const auto c = load_instances();
  const auto& ex = cases()["instance_case"];
  const auto r = evaluate_instances(c.scores, c.y, c.n_inst, c.clip_pos, c.K, c.classes);
  EXPECT_NEAR(r.mAP, ex["mAP"].get<double>(), kTol);
  EXPECT_NEAR(r.auc, ex["auc"].get<double>(), kTol);
  EXPECT_EQ(r.skipped, ex["skipped"].get<std::vector<std::string>>());
  for (const auto& m : r.per_class) {
    SCOPED_TRACE(m.name);
    const auto& e = ex["per_class"][m.name];
    EXPECT_EQ(m.n_instances, e["n_instances"].get<std::int64_t>());
    EXPECT_EQ(m.n_pos, e["n_pos"].get<std::int64_t>());
    if (e["ap"].is_null()) {
      EXPECT_TRUE(std::isnan(m.ap));
      EXPECT_TRUE(std::isnan(m.auc));
      EXPECT_TRUE(m.skipped);
    } else {
      EXPECT_NEAR(m.ap, e["ap"].get<double>(), kTol);
      EXPECT_NEAR(m.auc, e["auc"].get<double>(), kTol);
    }
  }
  const auto j = r.to_json();
  EXPECT_TRUE(j["per_class"]["organ"]["ap"].is_null());
  EXPECT_EQ(j["skip_reasons"]["organ"], "no inactive instance among 20");
}

TEST(InstanceMetrics, BagDatasetOverloadUsesKnownPositiveClips) {
  const auto c = load_instances();
  const auto n = static_cast<std::int64_t>(c.n_inst.size());
  auto ds = data::BagDataset::zeros(n, c.K, 1, c.classes, data::FeatureType::kFloat32);
  for (std::int64_t i = 0; i < n; ++i) ds.keys[i] = fmt::format("c{}", i);
  ds.n_instances = c.n_inst;
  ds.y_instance = c.y;
  // Clip positive = known and relevance >= 0.5; a known negative and an unknown positive-looking
  // entry both count as "not present".
  for (std::size_t j = 0; j < c.clip_pos.size(); ++j) {
    ds.y_true[j] = c.clip_pos[j] ? 0.5f : (j % 2 ? 0.9f : 0.2f);
    ds.y_mask[j] = c.clip_pos[j] ? 1 : static_cast<std::uint8_t>(j % 2 == 0);
  }
  const auto a = evaluate_instances(ds, c.scores);
  const auto b = evaluate_instances(c.scores, c.y, c.n_inst, c.clip_pos, c.K, c.classes);
  EXPECT_EQ(a.to_json(), b.to_json());
  ds.y_instance.clear();
  try {
    evaluate_instances(ds, c.scores);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "eval::evaluate_instances: the dataset has no instance labels (Y_instance)");
  }
}

TEST(InstanceMetrics, HandCheckedAndPaddingIgnored) {
  // 2 clips, K = 3, one class. Clip 0 (present) has 2 real instances; clip 1 is absent.
  const std::vector<float> scores = {0.9f, 0.2f, 0.99f, /*clip 1*/ 0.95f, 0.95f, 0.95f};
  const std::vector<std::uint8_t> y = {1, 0, 1, 0, 0, 0};
  const std::vector<std::int32_t> n_inst = {2, 3};
  const std::vector<std::uint8_t> clip_pos = {1, 0};
  const std::vector<std::string> classes = {"piano"};
  const auto r = evaluate_instances(scores, y, n_inst, clip_pos, 3, classes);
  EXPECT_EQ(r.per_class[0].n_instances, 2);
  EXPECT_DOUBLE_EQ(r.per_class[0].ap, 1.0);
  EXPECT_DOUBLE_EQ(r.per_class[0].auc, 1.0);
  EXPECT_DOUBLE_EQ(r.mAP, 1.0);
}

TEST(InstanceMetrics, ErrorsNameTheProblem) {
  auto c = load_instances();
  auto short_scores = c.scores;
  short_scores.pop_back();
  try {
    evaluate_instances(short_scores, c.y, c.n_inst, c.clip_pos, c.K, c.classes);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "eval::evaluate_instances: 215 scores, expected N*K*C = 12*6*3");
  }
  auto nan_scores = c.scores;
  nan_scores[0] = std::numeric_limits<float>::quiet_NaN();  // clip 0 is positive for every class
  try {
    evaluate_instances(nan_scores, c.y, c.n_inst, c.clip_pos, c.K, c.classes);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "eval::evaluate_instances: score of clip 0 instance 0 class 'piano' is nan");
  }
  auto bad_n = c.n_inst;
  bad_n[3] = 7;
  EXPECT_THROW(evaluate_instances(c.scores, c.y, bad_n, c.clip_pos, c.K, c.classes), Error);
  auto short_flags = c.clip_pos;
  short_flags.pop_back();
  EXPECT_THROW(evaluate_instances(c.scores, c.y, c.n_inst, short_flags, c.K, c.classes), Error);
  auto bad_flags = c.clip_pos;
  bad_flags[0] = 3;
  EXPECT_THROW(evaluate_instances(c.scores, c.y, c.n_inst, bad_flags, c.K, c.classes), Error);
}

// ---- segment-based -----------------------------------------------------------------------------

std::vector<Event> load_events(const core::Json& list) {
  std::vector<Event> out;
  for (const auto& e : list)
    out.push_back({e["file"].get<std::string>(), e["label"].get<std::string>(),
                   e["onset"].get<double>(), e["offset"].get<double>()});
  return out;
}

TEST(SegmentMetrics, MatchIndependentPythonImplementation) {
  for (const auto& c : cases()["segment_cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto ref = load_events(c["reference"]);
    const auto est = load_events(c["estimated"]);
    const auto r = segment_based_metrics(ref, est);
    const auto& ex = c["expected"];
    EXPECT_EQ(r.counts.tp, ex["tp"].get<std::int64_t>());
    EXPECT_EQ(r.counts.fp, ex["fp"].get<std::int64_t>());
    EXPECT_EQ(r.counts.fn, ex["fn"].get<std::int64_t>());
    EXPECT_NEAR(r.precision, ex["precision"].get<double>(), kTol);
    EXPECT_NEAR(r.recall, ex["recall"].get<double>(), kTol);
    EXPECT_NEAR(r.f1, ex["f1"].get<double>(), kTol);
    EXPECT_NEAR(r.error_rate, ex["error_rate"].get<double>(), kTol);
    EXPECT_EQ(r.substitutions, ex["substitutions"].get<std::int64_t>());
    EXPECT_EQ(r.deletions, ex["deletions"].get<std::int64_t>());
    EXPECT_EQ(r.insertions, ex["insertions"].get<std::int64_t>());
    EXPECT_NEAR(r.f1_macro, ex["f1_macro"].get<double>(), kTol);
    const auto labels = ex["classes"].get<std::vector<std::string>>();
    ASSERT_EQ(r.per_class.size(), labels.size());
    for (std::size_t k = 0; k < labels.size(); ++k) {
      const auto& m = r.per_class[k];
      EXPECT_EQ(m.label, labels[k]);
      const auto& e = ex["per_class"][m.label];
      EXPECT_EQ(m.counts.tp, e["tp"].get<std::int64_t>()) << m.label;
      EXPECT_EQ(m.counts.fp, e["fp"].get<std::int64_t>()) << m.label;
      EXPECT_EQ(m.counts.fn, e["fn"].get<std::int64_t>()) << m.label;
      EXPECT_NEAR(m.f1, e["f1"].get<double>(), kTol) << m.label;
    }
  }
}

TEST(SegmentMetrics, HandChecked) {
  // Reference: piano 0-2.5 s -> segments 0,1,2. Estimate: piano 0.4-3.1 s -> segments 0..3.
  const std::vector<Event> ref = {{"a.ogg", "piano", 0.0, 2.5}};
  const std::vector<Event> est = {{"a.ogg", "piano", 0.4, 3.1}};
  auto r = segment_based_metrics(ref, est);
  EXPECT_EQ(r.counts.tp, 3);
  EXPECT_EQ(r.counts.fp, 1);
  EXPECT_EQ(r.counts.fn, 0);
  EXPECT_DOUBLE_EQ(r.f1, 6.0 / 7.0);
  EXPECT_DOUBLE_EQ(r.error_rate, 1.0 / 3.0);  // one insertion over 3 reference segments

  // Same times in another file do not match; a wrong class in a segment is a substitution.
  const std::vector<Event> ref2 = {{"a", "piano", 0, 1}, {"b", "piano", 0, 1}};
  const std::vector<Event> est2 = {{"a", "violin", 0, 1}, {"c", "piano", 0, 1}};
  r = segment_based_metrics(ref2, est2);
  EXPECT_EQ(r.counts.tp, 0);
  EXPECT_EQ(r.counts.fp, 2);
  EXPECT_EQ(r.counts.fn, 2);
  EXPECT_EQ(r.substitutions, 1);  // file a
  EXPECT_EQ(r.deletions, 1);      // file b
  EXPECT_EQ(r.insertions, 1);     // file c
  EXPECT_DOUBLE_EQ(r.error_rate, 1.5);
  EXPECT_DOUBLE_EQ(r.f1, 0.0);

  // Resolution 0.5 s; overlapping events of one class are a union; an empty class is skipped.
  const std::vector<Event> ref3 = {{"a", "x", 0.2, 1.2}, {"a", "x", 0.9, 1.4}};
  const std::vector<Event> est3 = {{"a", "x", 0.0, 0.5}};
  const std::vector<std::string> classes = {"x", "y"};
  r = segment_based_metrics(ref3, est3, classes, 0.5);
  EXPECT_EQ(r.counts.tp, 1);  // ref segments 0,1,2 (union), est segment 0
  EXPECT_EQ(r.counts.fn, 2);
  EXPECT_EQ(r.counts.fp, 0);
  EXPECT_EQ(r.skipped, (std::vector<std::string>{"y"}));
  EXPECT_DOUBLE_EQ(r.f1_macro, 0.5);  // x only: 2*1 / (2 + 0 + 2)

  // Nothing at all: no reference segment -> error rate undefined.
  r = segment_based_metrics({}, {}, classes);
  EXPECT_TRUE(std::isnan(r.error_rate));
  EXPECT_TRUE(r.to_json()["error_rate"].is_null());
}

TEST(SegmentMetrics, ErrorsNameTheProblem) {
  const std::vector<Event> ok = {{"a", "x", 0, 1}};
  const std::vector<Event> backwards = {{"a", "x", 2, 1}};
  const std::vector<Event> negative = {{"a", "x", -1, 1}};
  const std::vector<Event> nan_ev = {{"a", "x", 0, std::nan("")}};
  const std::vector<Event> huge = {{"a", "x", 0, 1e15}};
  const std::vector<std::string> only_y = {"y"};
  const std::vector<std::string> twice = {"x", "x"};
  try {
    segment_based_metrics(ok, backwards);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "eval::segment_based_metrics: estimated event 0 ('a', 'x') has onset 2 s, "
                 "offset 1 s (need 0 <= onset <= offset)");
  }
  try {
    segment_based_metrics(ok, ok, only_y);
    FAIL() << "expected tutti::Error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "eval::segment_based_metrics: reference event 0 ('a') has class 'x' not in the "
                 "class list");
  }
  EXPECT_THROW(segment_based_metrics(negative, ok), Error);
  EXPECT_THROW(segment_based_metrics(nan_ev, ok), Error);
  EXPECT_THROW(segment_based_metrics(huge, ok), Error);
  EXPECT_THROW(segment_based_metrics(ok, ok, twice), Error);
  EXPECT_THROW(segment_based_metrics(ok, ok, {}, 0.0), Error);
}

}  // namespace
}  // namespace tutti::eval
