// Model files written by an earlier tutti (tests/fixtures/compat, made by
// tools/fixtures/make_compat_fixtures.sh with that tutti) still load and predict the scores that
// tutti predicted for them then (the stored <name>-pred.npz).
#include <gtest/gtest.h>

#include <cmath>
#include <ostream>
#include <string>

#include "test_util.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"
#include "tutti/infer/predictor.h"

using namespace tutti;
using tutti::testing::fixture;

namespace {

struct Case {
  const char* name;   // <name>.tutti and <name>-pred.npz
  const char* model;  // spec name recorded in the file
  const char* data;   // the data it predicted on
  bool instances;     // the stored predictions have instance outputs
};

std::vector<float> f32(const data::NpyArray& a, const std::string& what) { return a.as_f32(what); }

void expect_same(const std::vector<float>& got, const std::vector<float>& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  std::size_t bad = 0;
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d = std::abs(static_cast<double>(got[i]) - want[i]);
    worst = std::max(worst, d);
    if (d > 1e-6) ++bad;
  }
  EXPECT_EQ(bad, 0u) << what << ": largest difference " << worst;
}

// Names the case in test output (gtest would print the struct's bytes).
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class Compat : public ::testing::TestWithParam<Case> {};

TEST_P(Compat, OldModelFileLoadsAndPredictsTheSameScores) {
  const Case& c = GetParam();
  const auto dir = fixture("compat");
  const auto p = infer::Predictor::load(dir / (std::string(c.name) + ".tutti"));
  EXPECT_EQ(p.info().spec.name, c.model);
  EXPECT_EQ(p.info().format_version, 2);
  const auto ds = data::load_bags(fixture(std::string("train/") + c.data));
  const auto pred = p.predict(ds, c.instances, 1);
  const auto want = data::read_npz(dir / (std::string(c.name) + "-pred.npz"));
  expect_same(pred.scores, f32(want.at("scores"), "scores"), std::string(c.name) + " scores");
  if (c.instances) {
    expect_same(pred.instance, f32(want.at("instance_prob"), "instance_prob"),
                std::string(c.name) + " instance_prob");
    if (want.count("attention"))
      expect_same(pred.attention, f32(want.at("attention"), "attention"),
                  std::string(c.name) + " attention");
  }
}

INSTANTIATE_TEST_SUITE_P(
    EarlierTutti, Compat,
    ::testing::Values(
        Case{"att", "att", "test_small.npz", true}, Case{"fc_t", "fc_t", "test_small.npz", true},
        Case{"rnn", "rnn", "test_small.npz", true}, Case{"fc", "fc", "train_fixed.npz", false},
        Case{"rf", "rf", "test_small.npz", false}, Case{"mmgat", "mmgat", "test_small.npz", true},
        Case{"mmgat-single", "mmgat-single", "test_small.npz", true},
        Case{"mmgat-principal", "mmgat-principal", "test_small.npz", true},
        Case{"mmgat-graph", "mmgat-graph", "test_small.npz", true}),
    [](const auto& info) {
      std::string n = info.param.name;
      for (auto& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

}  // namespace
