// `tutti experiment` started as two ranks: the (model, seed) runs and the ensembles' extra members
// are split across the ranks and gathered by rank 0, whose results.json holds what one process's
// holds (costs aside) and whose model files are the same bytes.
#include <gtest/gtest.h>

#include "dist/dist_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"

using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

std::vector<std::string> experiment_args(const std::string& out) {
  return {"experiment",
          "--train",
          fixture("train/train_small.npz").string(),
          "--test",
          fixture("train/test_small.npz").string(),
          "--models",
          "att,fc_t,rf",
          "--ensembles",
          "att+att+att",
          "--seeds",
          "2",
          "--epochs",
          "2",
          "--rf-trees",
          "10",
          "--threads",
          "1",
          "-o",
          out};
}

// A run without its costs (seconds, throughput).
tutti::core::Json comparable(tutti::core::Json run) {
  for (const char* k : {"train_seconds", "seconds_per_epoch", "infer_clips_per_s"}) run.erase(k);
  return run;
}

}  // namespace

TEST(DistExperiment, TwoRanksSplitTheRunsAndWriteTheOneProcessResults) {
  TempDir dir;
  const auto one = dir / "one", two = dir / "two";
  const auto r1 = run_cli(experiment_args(one.string()));
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  auto launch =
      std::vector<std::string>{"launch", "--nproc-per-node", "2", "--timeout", "60", "--"};
  const auto a2 = experiment_args(two.string());
  launch.insert(launch.end(), a2.begin(), a2.end());
  const auto r2 = run_cli(launch);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.err.find("[8/8] att+att+att seed 2: test mAP"), std::string::npos) << r2.err;

  const auto j1 = tutti::core::read_json_file(one / "results.json");
  const auto j2 = tutti::core::read_json_file(two / "results.json");
  ASSERT_EQ(j1.at("runs").size(), 8u);
  ASSERT_EQ(j2.at("runs").size(), 8u);
  for (std::size_t i = 0; i < 8; ++i) {
    const auto& a = j1.at("runs")[i];
    const auto& b = j2.at("runs")[i];
    SCOPED_TRACE(a.at("model").get<std::string>() + " seed " + a.at("seed").dump());
    EXPECT_EQ(comparable(a), comparable(b));
    const auto file = a.at("model_file").get<std::string>();
    const auto fa = tutti::testing::model_file_content(one / file);
    const auto fb = tutti::testing::model_file_content(two / file);
    EXPECT_TRUE(fa.entries == fb.entries) << file;
    EXPECT_EQ(fa.meta, fb.meta) << file;
  }
  // The extra members (seed s + 1000 i), trained by either rank, are the one process's bytes.
  for (const char* file : {"att-seed1-m1.tutti", "att-seed1-m2.tutti", "att-seed2-m1.tutti",
                           "att-seed2-m2.tutti"}) {
    const auto fa = tutti::testing::model_file_content(one / file);
    const auto fb = tutti::testing::model_file_content(two / file);
    EXPECT_TRUE(fa.entries == fb.entries) << file;
    EXPECT_EQ(fa.meta, fb.meta) << file;
  }
  for (const char* m : {"att", "fc_t", "rf", "att+att+att"})
    EXPECT_EQ(j1.at("summary").at(m).at("mAP"), j2.at("summary").at(m).at("mAP")) << m;
  EXPECT_TRUE(std::filesystem::exists(two / "report.html"));

  // Rerun as two ranks: every run is done, nothing is trained again.
  const auto r3 = run_cli(launch);
  ASSERT_EQ(r3.exit_code, 0) << r3.err;
  EXPECT_NE(r3.err.find("[8/8] att+att+att seed 2: done earlier, skipped"), std::string::npos)
      << r3.err;
}
