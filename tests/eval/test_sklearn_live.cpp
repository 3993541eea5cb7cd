// Live cross-check: a fresh seeded random case is generated here, scikit-learn evaluates it in a
// subprocess (/usr/bin/python3 tools/fixtures/make_metrics_fixtures.py --evaluate IN OUT, the same
// reference code that made the fixtures) and choose_thresholds + evaluate must agree to 1e-6.
// Skips when /usr/bin/python3 with scikit-learn is not available.
// Seeds: 101, 202, 303 by default; TUTTI_EVAL_LIVE_SEED=<n> checks that seed instead.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <random>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/eval/evaluate.h"

namespace tutti::eval {
namespace {

constexpr double kTol = 1e-6;
constexpr const char* kPython = "/usr/bin/python3";

bool sklearn_available() {
  if (!std::filesystem::exists(kPython)) return false;
  const std::string cmd = std::string(kPython) + " -c 'import sklearn, numpy' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Uniform [0, 1) from the raw engine bits (std distributions differ between standard libraries).
double uniform(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1.0p-53; }

struct Split {
  data::BagDataset ds;
  std::vector<float> scores;
};

Split make_split(std::mt19937_64& rng, std::int64_t n, const std::vector<std::string>& classes) {
  const auto nc = static_cast<std::int64_t>(classes.size());
  Split s;
  s.ds = data::BagDataset::zeros(n, 1, 1, classes, data::FeatureType::kFloat32);
  for (std::int64_t i = 0; i < n; ++i) s.ds.keys[i] = fmt::format("k{}", i);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t c = 0; c < nc; ++c) {
      const auto j = static_cast<std::size_t>(i * nc + c);
      float rel = static_cast<float>(std::round(uniform(rng) * 100.0) / 100.0);
      if (uniform(rng) < 0.1) rel = 0.5f;
      s.ds.y_true[j] = rel;
      s.ds.y_mask[j] = uniform(rng) < 0.6 ? 1 : 0;
      const double noise = (uniform(rng) + uniform(rng) + uniform(rng) - 1.5) * 2.5;
      double score = 1.0 / (1.0 + std::exp(-((rel >= 0.5f ? 1.2 : -1.2) + noise)));
      if (c % 3 == 1) score = std::round(score * 20.0) / 20.0;    // heavy ties
      if (c % 3 == 2) score = std::round(score * 255.0) / 255.0;  // uint8-like
      s.scores.push_back(static_cast<float>(score));
    }
  }
  return s;
}

core::Json split_json(const Split& s) {
  core::Json j;
  j["n"] = s.ds.size();
  j["y_true"] = core::Json::array();
  for (float v : s.ds.y_true) j["y_true"].push_back(static_cast<double>(v));
  j["y_mask"] = s.ds.y_mask;
  j["scores"] = core::Json::array();
  for (float v : s.scores) j["scores"].push_back(static_cast<double>(v));
  return j;
}

void expect_num(const core::Json& e, double actual, const std::string& what) {
  if (e.is_null())
    EXPECT_TRUE(std::isnan(actual)) << what;
  else
    EXPECT_NEAR(actual, e.get<double>(), kTol) << what;
}

void check_seed(std::uint64_t seed) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  std::mt19937_64 rng(seed);
  const std::vector<std::string> classes = {"c0", "c1", "c2", "c3", "c4", "c5"};
  const auto val = make_split(rng, 150, classes);
  const auto test = make_split(rng, 220, classes);

  tutti::testing::TempDir dir;
  core::write_json_file(
      dir / "case.json",
      {{"classes", classes}, {"val", split_json(val)}, {"test", split_json(test)}});
  const auto script = tutti::testing::source_dir() / "tools/fixtures/make_metrics_fixtures.py";
  const std::string cmd = fmt::format("{} -W ignore {} --evaluate {} {} 2>{}", kPython,
                                      script.string(), (dir / "case.json").string(),
                                      (dir / "out.json").string(), (dir / "err.txt").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "reference script failed: " << cmd;
  const auto ref = core::read_json_file(dir / "out.json");

  const auto thr = choose_thresholds(val.ds, val.scores);
  const auto ref_thr = ref["thresholds"].get<std::vector<double>>();
  ASSERT_EQ(thr.size(), ref_thr.size());
  for (std::size_t c = 0; c < thr.size(); ++c)
    EXPECT_FLOAT_EQ(thr[c], static_cast<float>(ref_thr[c])) << classes[c];

  const auto r = evaluate(test.ds, test.scores, thr);
  const auto& e = ref["report"];
  for (const char* k :
       {"mAP", "auc", "precision_pos", "recall_pos", "f1_pos", "f1_pos_05", "f1_attmic"})
    expect_num(e[k], r.to_json()[k].is_null() ? std::nan("") : r.to_json()[k].get<double>(), k);
  expect_num(e["micro"]["ap"], r.micro.ap, "micro.ap");
  expect_num(e["micro"]["auc"], r.micro.auc, "micro.auc");
  expect_num(e["micro"]["f1"], r.micro.f1, "micro.f1");
  for (const auto& m : r.per_class) {
    const auto& pc = e["per_class"][m.name];
    expect_num(pc["ap"], m.ap, m.name + ".ap");
    expect_num(pc["auc"], m.auc, m.name + ".auc");
    expect_num(pc["precision"], m.precision, m.name + ".precision");
    expect_num(pc["recall"], m.recall, m.name + ".recall");
    expect_num(pc["f1"], m.f1, m.name + ".f1");
    expect_num(pc["f1_05"], m.f1_05, m.name + ".f1_05");
    expect_num(pc["f1_attmic"], m.f1_attmic, m.name + ".f1_attmic");
    EXPECT_EQ(m.n_known, pc["n_known"].get<std::int64_t>()) << m.name;
    EXPECT_EQ(m.n_pos, pc["n_pos"].get<std::int64_t>()) << m.name;
  }
}

TEST(SklearnLive, FreshRandomCasesAgree) {
  if (!sklearn_available())
    GTEST_SKIP() << kPython << " with scikit-learn not available; live cross-check skipped";
  if (const char* env = std::getenv("TUTTI_EVAL_LIVE_SEED"); env && *env) {
    check_seed(std::strtoull(env, nullptr, 10));
    return;
  }
  for (std::uint64_t seed : {101u, 202u, 303u}) check_seed(seed);
}

}  // namespace
}  // namespace tutti::eval
