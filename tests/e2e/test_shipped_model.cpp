// The shipped model models/as20.tutti (docs/models/as20.md): it loads, has the 20 OpenMIC
// instruments, is found by name (`--model as20`), and scores the test mAP its card records on the
// 80/20 split of the AudioSet OpenMIC-20 data (skipped without ../shared/data).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/infer/predictor.h"

using namespace tutti;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

const std::filesystem::path kModel = tutti::testing::source_dir() / "models" / "as20.tutti";
// docs/models/as20.md: `tutti eval models/as20.tutti as20-test.npz`.
constexpr double kRecordedTestMap = 0.4953351997088785;

}  // namespace

TEST(ShippedModel, LoadsWithTheOpenMicInstruments) {
  const auto p = infer::Predictor::load(kModel);
  const std::vector<std::string> openmic = {
      "accordion", "banjo",   "bass",    "cello",     "clarinet",
      "cymbals",   "drums",   "flute",   "guitar",    "mallet_percussion",
      "mandolin",  "organ",   "piano",   "saxophone", "synthesizer",
      "trombone",  "trumpet", "ukulele", "violin",    "voice"};
  EXPECT_EQ(p.info().classes, openmic);
  EXPECT_EQ(p.info().spec.name, "att");
  EXPECT_EQ(p.info().features.dim, 128);
  EXPECT_EQ(p.info().features.embedder, "vggish");
  EXPECT_LE(std::filesystem::file_size(kModel), 10u << 20);
}

TEST(ShippedModel, ReproducesItsRecordedTestMap) {
  const auto shared = tutti::testing::shared_data_dir();
  if (shared.empty()) GTEST_SKIP() << "../shared/data is absent: no AudioSet embeddings";
  TempDir dir;
  const std::string all = (dir / "as20.npz").string(), test = (dir / "as20-test.npz").string();
  auto r = run_cli({"data", "convert", "audioset", (shared / "audioset" / "bal_train").string(),
                    "--taxonomy", "openmic20", "-o", all});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"data", "split", all, "--test-fraction", "0.2", "--seed", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"eval", kModel.string(), test, "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NEAR(core::Json::parse(r.out)["mAP"].get<double>(), kRecordedTestMap, 1e-6);
  // By name, as `tutti predict --model as20` finds it next to the program (build/tutti -> models/).
  const std::string pred = (dir / "pred.npz").string();
  r = run_cli({"predict", "--model", "as20", test, "-o", pred, "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("predicted 1786 clips x 20 classes"), std::string::npos) << r.err;
}

TEST(ShippedModel, AnUnknownNameIsAUsageError) {
  const auto r = run_cli({"predict", "--model", "no_such_model", "x.npz", "-o", "y.npz"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("no shipped model no_such_model.tutti in"), std::string::npos) << r.err;
}
