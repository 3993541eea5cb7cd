// End-to-end: an experiment over several models goes on without FC when the bags vary in length.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <map>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/bag_io.h"

namespace tutti::testing {
namespace {

data::BagDataset variable_length(std::int64_t n, std::uint32_t salt) {
  auto ds = data::BagDataset::zeros(n, 4, 8, {"a", "b"}, data::FeatureType::kUint8);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = fmt::format("k{}", i);
    ds.n_instances[i] = i % 5 == 0 ? 2 : 4;  // some clips shorter than K = 4
    for (std::int64_t c = 0; c < 2; ++c) {
      const bool pos = ((i + c + salt) % 3) == 0;
      ds.y_mask[i * 2 + c] = 1;
      ds.y_true[i * 2 + c] = pos ? 1.0f : 0.0f;
      for (std::int64_t t = 0; t < ds.n_instances[i]; ++t)
        ds.x_u8[(i * 4 + t) * 8 + c] = pos ? 200 : 20;
    }
  }
  return ds;
}

TEST(CliExperiment, SkipsFixedLengthModelsOnVariableLengthBagsAndSaysWhy) {
  TempDir dir;
  data::save_bags(dir / "train.npz", variable_length(60, 0));
  data::save_bags(dir / "test.npz", variable_length(30, 1));
  const auto r = run_cli({"experiment", "--train", (dir / "train.npz").string(), "--test",
                          (dir / "test.npz").string(), "--models", "fc,rf", "--seeds", "1",
                          "--threads", "1", "-o", (dir / "exp").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("fc: skipped"), std::string::npos) << r.err;
  const auto j = core::read_json_file(dir / "exp" / "results.json");
  ASSERT_TRUE(j.contains("skipped_models"));
  EXPECT_NE(j["skipped_models"]["fc"].get<std::string>().find("K = 4"), std::string::npos);
  ASSERT_EQ(j["runs"].size(), 1u);
  EXPECT_EQ(j["runs"][0]["model"], "rf");
}

TEST(CliExperiment, TsneFilesOfTheFolderBecomeTheReportsSection) {
  TempDir dir;
  data::save_bags(dir / "train.npz", variable_length(40, 0));
  data::save_bags(dir / "test.npz", variable_length(20, 1));
  const std::vector<std::string> args = {
      "experiment", "--train", (dir / "train.npz").string(), "--test", (dir / "test.npz").string(),
      "--models", "rf", "--seeds", "1", "--threads", "1", "-o", (dir / "exp").string()};
  ASSERT_EQ(run_cli(args).exit_code, 0);
  EXPECT_FALSE(core::read_json_file(dir / "exp" / "results.json").contains("tsne"));
  // What `tutti tsne MODEL DATA --json` prints, reduced to the fields the report draws.
  std::ofstream(dir / "exp" / "tsne-att.json")
      << R"({"x": [0, 1, 2], "y": [1, 0, 2], "labels": ["a", "b", "a"], "title": "map of att"})";
  std::ofstream(dir / "exp" / "tsne-mmgat.json")
      << R"({"x": [3, 1], "y": [0, 2], "labels": ["b", "b"]})";
  auto r = run_cli(args);  // every run done: only results.json and the report are rewritten
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::read_json_file(dir / "exp" / "results.json");
  ASSERT_TRUE(j.contains("tsne"));
  EXPECT_EQ(j["tsne"]["models"]["att"]["labels"], core::Json({"a", "b", "a"}));
  EXPECT_EQ(j["tsne"]["models"]["mmgat"]["x"], core::Json({3, 1}));
  std::ifstream in(dir / "exp" / "report.html");
  const std::string html((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(html.find("Embeddings (t-SNE)"), std::string::npos);
  EXPECT_NE(html.find("map of att"), std::string::npos);

  std::ofstream(dir / "exp" / "tsne-bad.json") << R"({"x": [1]})";
  r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tsne-bad.json: not a t-SNE map"), std::string::npos) << r.err;
}

TEST(CliExperiment, EmbedderMismatchesAreRefusedBeforeAnyRun) {
  TempDir dir;
  auto train = variable_length(20, 0), test = variable_length(10, 1);
  train.embedder = "logmel-stats";
  data::save_bags(dir / "train.npz", train);
  test.embedder = "vggish";
  data::save_bags(dir / "test.npz", test);
  const std::vector<std::string> base = {"experiment", "--train", (dir / "train.npz").string(),
                                         "--models", "rf", "--seeds", "1", "-o",
                                         (dir / "exp").string()};
  auto args = base;
  args.insert(args.end(), {"--test", (dir / "test.npz").string()});
  auto r = run_cli(args);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("test.npz: made by embedder 'vggish', but"), std::string::npos) << r.err;

  args = base;
  args.insert(args.end(), {"--test", (dir / "train.npz").string(), "--embedder", "vggish"});
  r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--embedder vggish:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("was made by embedder 'logmel-stats'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "exp" / "results.json"));
}

// `--option MODEL.key=value` reaches MODEL's runs only: the ATT run is the `tutti train` run with
// that option, FC_T keeps its defaults; a model not in --models is refused before any run.
TEST(CliExperiment, ModelScopedOptionsApplyToThatModelOnly) {
  TempDir dir;
  data::save_bags(dir / "train.npz", variable_length(60, 0));
  data::save_bags(dir / "test.npz", variable_length(30, 1));
  const std::vector<std::string> common = {"--epochs", "2", "--threads", "1"};
  auto args = std::vector<std::string>{"experiment", "--train", (dir / "train.npz").string(),
                                       "--test", (dir / "test.npz").string(), "--models",
                                       "att,fc_t", "--seeds", "1", "--option", "att.num_layers=1",
                                       "-o", (dir / "exp").string()};
  args.insert(args.end(), common.begin(), common.end());
  auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const core::Json res = core::read_json_file(dir / "exp" / "results.json");
  std::map<std::string, core::Json> options;
  for (const auto& run : res["runs"]) options[run["model"]] = run["train_config"]["model_options"];
  EXPECT_EQ(options["att"], core::Json::parse(R"({"num_layers": 1})"));
  EXPECT_EQ(options["fc_t"], core::Json::object());

  for (const auto& [model, option] : {std::pair{"att", "num_layers=1"}, {"fc_t", ""}}) {
    auto train = std::vector<std::string>{"train", (dir / "train.npz").string(), "--model", model,
                                          "--seed", "1", "-o",
                                          (dir / fmt::format("{}.tutti", model)).string()};
    if (*option) train.insert(train.end(), {"--option", option});
    train.insert(train.end(), common.begin(), common.end());
    r = run_cli(train);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    core::ZipReader a(dir / fmt::format("{}.tutti", model));
    core::ZipReader b(dir / "exp" / fmt::format("{}-seed1.tutti", model));
    EXPECT_TRUE(a.read("weights.pt") == b.read("weights.pt")) << model;
    const auto ma = a.read("meta.json"), mb = b.read("meta.json");
    EXPECT_EQ(core::Json::parse(ma.begin(), ma.end())["model"],
              core::Json::parse(mb.begin(), mb.end())["model"])
        << model;
  }

  args[10] = "rnn.num_layers=1";
  args[12] = (dir / "bad").string();
  r = run_cli(args);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--option rnn.num_layers: 'rnn' is not one of --models"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "bad" / "results.json"));
}

}  // namespace
}  // namespace tutti::testing
