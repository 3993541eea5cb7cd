// The shipped default model models/synth.tutti + models/synth.tutti-embedder
// (docs/models/synth.md): both load and fit each other, `tutti tag FILE` without --model uses them
// on a synthesized clip, the embedder file works as `tutti embed --embedder`, and mismatched
// embedders are refused.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/embed/embedder.h"
#include "tutti/infer/predictor.h"

using namespace tutti;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

const std::filesystem::path kModels = tutti::testing::source_dir() / "models";
const std::filesystem::path kModel = kModels / "synth.tutti";
const std::filesystem::path kEmbedder = kModels / "synth.tutti-embedder";

// One 4 s composer clip (TimGM6mb), made once per process.
const std::filesystem::path& clip_dir() {
  static TempDir dir;
  static const bool made = [] {
    const auto r = run_cli({"synth", "-n", "1", "--seed", "31", "--duration", "4", "-o",
                            (dir / "s").string(), "--threads", "1"});
    return r.exit_code == 0;
  }();
  EXPECT_TRUE(made);
  return dir.path();
}

}  // namespace

TEST(ShippedSynthModel, ModelAndEmbedderLoadAndFitEachOther) {
  const auto p = infer::Predictor::load(kModel);
  const auto e = embed::make_embedder(kEmbedder.string());
  EXPECT_EQ(p.info().spec.name, "att");
  EXPECT_EQ(p.info().classes.size(), 20u);
  EXPECT_EQ(p.info().features.embedder, e->info().name);
  EXPECT_EQ(p.info().features.dim, e->info().dim);
  EXPECT_LE(std::filesystem::file_size(kModel) + std::filesystem::file_size(kEmbedder), 10u << 20);
}

TEST(ShippedSynthModel, TagWithoutModelUsesIt) {
  const auto wav = clip_dir() / "s" / "audio" / "synth_000000.wav";
  auto r = run_cli({"tag", wav.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  const std::string dump = j.dump();
  const auto name = embed::make_embedder(kEmbedder.string())->info().name;
  EXPECT_NE(dump.find(name), std::string::npos) << dump.substr(0, 400);
  EXPECT_NE(dump.find("synth.tutti"), std::string::npos);
  // The same as naming it.
  const auto named = run_cli({"tag", "--model", "synth", wav.string(), "--json"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_EQ(core::Json::parse(named.out)["files"], j["files"]);
}

TEST(ShippedSynthModel, EmbedderFileWorksForEmbed) {
  const auto dir = clip_dir();
  const std::string out = (dir / "f.npz").string();
  const auto r =
      run_cli({"embed", (dir / "s" / "audio").string(), "--embedder", kEmbedder.string(),
               "--labels", (dir / "s" / "labels.csv").string(), "-o", out, "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("K = 4, D = 128"), std::string::npos) << r.err;
}

TEST(ShippedSynthModel, OtherEmbeddersAreRefused) {
  const auto dir = clip_dir();
  const auto wav = (dir / "s" / "audio" / "synth_000000.wav").string();
  auto r = run_cli({"tag", wav, "--embedder", "logmel-stats"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("was trained on 'logmel-cnn:"), std::string::npos) << r.err;
  const std::string junk = (dir / "junk.tutti-embedder").string();
  core::write_json_file(junk, {{"not", "a zip"}});
  r = run_cli({"tag", wav, "--embedder", junk});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(junk), std::string::npos) << r.err;
  r = run_cli({"embed", wav, "--embedder", junk, "-o", (dir / "x.npz").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(junk), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.npz"));
}
