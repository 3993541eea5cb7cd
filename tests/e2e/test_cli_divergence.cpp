// `tutti train` on a run that diverges, or on float features holding 0-255: one line naming the
// problem, exit 1, no model file and no staging file.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/data/bag_io.h"

namespace fs = std::filesystem;
using tutti::testing::count_lines;
using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

TEST(CliDivergence, HugeLearningRateEndsInOneLineAndNoModel) {
  TempDir dir;
  // Not ATT: on these 160 clips its probabilities saturate at 0 or 1 at this rate instead of
  // reaching NaN (tests/train/test_divergence.cpp has ATT diverging on 120 of them).
  for (const char* model : {"rnn", "fc_t"}) {
    const auto out = (dir / (std::string(model) + ".tutti")).string();
    const auto r = run_cli({"train", fixture("train/train_small.npz").string(), "--model", model,
                            "--lr", "1e30", "--epochs", "3", "--seed", "7", "--batch-size", "32",
                            "--threads", "2", "-o", out});
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_EQ(r.err.rfind(
                  std::string("tutti: error: train: ") + model + ": loss became NaN at epoch ", 0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("(learning rate 1e+30): lower --lr or check the features"),
              std::string::npos)
        << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
  EXPECT_TRUE(fs::is_empty(dir.path()));
}

TEST(CliDivergence, Float0To255FeaturesAreRefusedNamingTheFile) {
  TempDir dir;
  auto ds = tutti::data::load_bags(fixture("train/train_small.npz"));
  ds.feature_type = tutti::data::FeatureType::kFloat32;
  ds.x_f32.assign(ds.x_u8.begin(), ds.x_u8.end());
  ds.x_u8.clear();
  const auto data = (dir / "f255.npz").string();
  tutti::data::save_bags(data, ds);
  const auto out = (dir / "m.tutti").string();
  const auto r = run_cli({"train", data, "-o", out});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(data + ": X is float32 with values up to "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("divide them by 255"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}
