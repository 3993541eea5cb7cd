// End-to-end: every failure is one line `tutti: error: <file>: <problem>` (or a usage error) that
// blames the right input, and bad values are refused instead of silently accepted.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <fstream>

#include "../embed/embed_test_util.h"
#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/bag_io.h"
#include "tutti/infer/model_file.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

bool one_error_line(const CliResult& r, const std::string& needle) {
  return count_lines(r.err) == 1 && r.err.rfind("tutti: error: ", 0) == 0 &&
         r.err.find(needle) != std::string::npos;
}

// A small separable dataset of 2 classes, K = 4, D = 8.
data::BagDataset bags(std::int64_t n, std::uint32_t salt) {
  auto ds = data::BagDataset::zeros(n, 4, 8, {"a", "b"}, data::FeatureType::kUint8);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = fmt::format("k{}", i);
    ds.n_instances[i] = 4;
    for (std::int64_t c = 0; c < 2; ++c) {
      const bool pos = ((i + c + salt) % 3) == 0;
      ds.y_mask[i * 2 + c] = 1;
      ds.y_true[i * 2 + c] = pos ? 1.0f : 0.0f;
      for (std::int64_t t = 0; t < 4; ++t) ds.x_u8[(i * 4 + t) * 8 + c] = pos ? 200 : 20;
    }
  }
  return ds;
}

// Rewrites one entry of a zip (a model file).
void replace_entry(const fs::path& in, const fs::path& out, const std::string& name,
                   const std::string& bytes) {
  core::ZipReader r(in);
  core::ZipWriter w(out);
  for (const auto& n : r.names())
    w.add(n, n == name ? std::vector<std::uint8_t>(bytes.begin(), bytes.end()) : r.read(n));
  w.commit();
}

core::Json meta_of(const fs::path& model) {
  core::ZipReader r(model);
  const auto b = r.read("meta.json");
  return core::Json::parse(b.begin(), b.end());
}

struct Trained {
  TempDir dir;
  fs::path train = dir / "train.npz", test = dir / "test.npz";
  fs::path att = dir / "att.tutti", rf = dir / "rf.tutti";
  Trained() {
    data::save_bags(train, bags(40, 0));
    data::save_bags(test, bags(20, 1));
    for (const auto& [model, out] : {std::pair{"att", att}, std::pair{"rf", rf}}) {
      const auto r = run_cli({"train", train.string(), "--model", model, "--epochs", "2",
                              "--threads", "1", "-o", out.string()});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
};

TEST(CliMessages, EmbedAndTagOfOneBadFileSayItInOneLine) {
  TempDir dir;
  for (int i = 0; i < 4; ++i)
    write_test_wav(dir / "audio" / fmt::format("c{}.wav", i), 2.0, static_cast<std::uint32_t>(i));
  std::ofstream(dir / "bad.wav") << "not audio";
  std::ofstream(dir / "bad2.wav") << "not audio either";
  const std::string bad = (dir / "bad.wav").string(), bad2 = (dir / "bad2.wav").string();
  auto r = run_cli({"embed", bad, "-o", (dir / "x.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "tutti: error: audio: " + bad + ": ")) << r.err;
  r = run_cli({"embed", bad, bad2, "-o", (dir / "x.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "embed: all 2 files failed; the first: audio: " + bad)) << r.err;
  EXPECT_FALSE(fs::exists(dir / "x.npz"));

  // Some worked: one line per failed file, then the summary.
  std::string labels = "file,instrument,relevance\n";
  for (int i = 0; i < 4; ++i) labels += fmt::format("c{}.wav,piano,{}\n", i, i % 2);
  std::ofstream(dir / "labels.csv") << labels;
  const auto npz = dir / "f.npz";
  r = run_cli({"embed", (dir / "audio").string(), bad, "--labels", (dir / "labels.csv").string(),
               "-o", npz.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tutti: failed: audio: " + bad), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tutti: error: embed: 1 of 5 files failed"), std::string::npos) << r.err;

  const auto model = dir / "m.tutti";
  r = run_cli({"train", npz.string(), "--model", "att", "--epochs", "1", "--threads", "1", "-o",
               model.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"tag", "--model", model.string(), bad});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "tutti: error: audio: " + bad + ": ")) << r.err;
  r = run_cli({"tag", "--model", model.string(), bad, bad2});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "tag: all 2 inputs failed; the first: audio: " + bad)) << r.err;
  r = run_cli({"tag", "--model", model.string(), bad, (dir / "audio" / "c0.wav").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 2) << r.err;
  EXPECT_NE(r.err.find("tutti: error: tag: 1 of 2 inputs failed"), std::string::npos) << r.err;

  // A labels CSV that is not UTF-8: named with its line, before anything is written.
  std::ofstream(dir / "latin1.csv") << "file,instrument,relevance\nc0.wav,pi\xE9no,1\n";
  r = run_cli({"embed", (dir / "audio").string(), "--labels", (dir / "latin1.csv").string(), "-o",
               (dir / "l.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, (dir / "latin1.csv").string() + ":2: not valid UTF-8")) << r.err;
  EXPECT_FALSE(fs::exists(dir / "l.npz"));
}

// One long file among short ones no longer pads every clip to its length: K is bounded (625
// instances = 600 s) unless --max-instances 0, and the cut file is named.
TEST(CliMessages, EmbedBoundsKByDefault) {
  TempDir dir;
  write_sndfile(dir / "long.wav", test_music(620.0, 1, 16000, 1), 16000, 1,
                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  write_sndfile(dir / "short.wav", test_music(3.0, 2, 16000, 1), 16000, 1,
                SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const auto out = dir / "f.npz";
  auto r = run_cli(
      {"embed", (dir / "long.wav").string(), (dir / "short.wav").string(), "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tutti: warning: " + (dir / "long.wav").string() + ": 645 instances"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("kept the first 625"), std::string::npos) << r.err;
  EXPECT_EQ(data::load_bags(out).max_instances, 625);
  r = run_cli({"embed", (dir / "long.wav").string(), (dir / "short.wav").string(),
               "--max-instances", "0", "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data::load_bags(out).max_instances, 645);
}

TEST(CliMessages, PredictInstancesSaysWhatIsMissing) {
  Trained t;
  const auto out = (t.dir / "p.npz").string();
  data::save_bags(t.dir / "none.npz",
                  data::BagDataset::zeros(0, 4, 8, {"a", "b"}, data::FeatureType::kUint8));
  auto r =
      run_cli({"predict", t.att.string(), (t.dir / "none.npz").string(), "--instances", "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "none.npz: the dataset has no clips")) << r.err;
  auto k0 = data::BagDataset::zeros(3, 0, 8, {"a", "b"}, data::FeatureType::kUint8);
  for (int i = 0; i < 3; ++i) k0.keys[i] = fmt::format("k{}", i);
  data::save_bags(t.dir / "k0.npz", k0);
  r = run_cli({"predict", t.att.string(), (t.dir / "k0.npz").string(), "--instances", "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "k0.npz: the clips have no instances (K = 0)")) << r.err;
  r = run_cli({"predict", t.rf.string(), t.test.string(), "--instances", "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(r, "rf.tutti: model 'rf' has no per-instance outputs")) << r.err;
  EXPECT_FALSE(fs::exists(out));
  r = run_cli({"predict", t.att.string(), t.test.string(), "--instances", "-o", out});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST(CliMessages, BrokenModelFilesAreNamedInOneLine) {
  Trained t;
  // Weights of 2 classes, meta.json of 1 (names, thresholds and spec agree with each other).
  auto meta = meta_of(t.att);
  meta["classes"] = {"a"};
  meta["thresholds"] = {0.5};
  meta["model"]["num_classes"] = 1;
  const auto classes = t.dir / "classes.tutti";
  replace_entry(t.att, classes, "meta.json", meta.dump());
  for (const std::string verb : {"predict", "eval"}) {
    std::vector<std::string> args = {verb, classes.string(), t.test.string()};
    if (verb == "predict") args.insert(args.end(), {"-o", (t.dir / "p.npz").string()});
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 1) << verb;
    EXPECT_TRUE(
        one_error_line(r, "model: " + classes.string() + ": weights.pt does not match meta.json"))
        << r.err;
  }

  // Sizes far beyond any dataset: refused on load, before anything is allocated.
  for (const auto& [field, key] :
       {std::pair{"model", "max_instances"}, std::pair{"model", "input_dim"},
        std::pair{"features", "max_instances"}}) {
    auto big = meta_of(t.att);
    big[field][key] = std::int64_t{1000000000000};
    if (std::string(key) == "input_dim") big["features"]["dim"] = std::int64_t{1000000000000};
    const auto path = t.dir / fmt::format("big-{}-{}.tutti", field, key);
    replace_entry(t.att, path, "meta.json", big.dump());
    const auto r =
        run_cli({"predict", path.string(), t.test.string(), "-o", (t.dir / "p.npz").string()});
    EXPECT_EQ(r.exit_code, 1) << field << key;
    EXPECT_TRUE(one_error_line(r, "model: " + path.string() + ": meta.json: ")) << r.err;
    EXPECT_NE(r.err.find("1000000000000"), std::string::npos) << r.err;
  }

  // A corrupt forest entry: xgboost's error without its stack trace.
  core::ZipReader zr(t.rf);
  auto forest = zr.read("forest-0.ubj");
  forest.resize(forest.size() / 2);
  const auto bad_rf = t.dir / "bad-rf.tutti";
  replace_entry(t.rf, bad_rf, "forest-0.ubj", std::string(forest.begin(), forest.end()) + "junk");
  const auto r =
      run_cli({"predict", bad_rf.string(), t.test.string(), "-o", (t.dir / "p.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(one_error_line(
      r, "model: " + bad_rf.string() + ": entry 'forest-0.ubj' is not a valid xgboost model: "))
      << r.err;
  EXPECT_EQ(r.err.find("Stack trace"), std::string::npos) << r.err;
}

TEST(CliMessages, ExperimentChecksEveryModelBeforeAnyWork) {
  TempDir dir;
  data::save_bags(dir / "train.npz", bags(40, 0));
  data::save_bags(dir / "test.npz", bags(20, 1));
  const auto out = dir / "exp";
  const auto r = run_cli({"experiment", "--train", (dir / "train.npz").string(), "--test",
                          (dir / "test.npz").string(), "--models", "rf,att,bogus", "--seeds", "1",
                          "--epochs", "1", "--threads", "1", "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("unknown model 'bogus'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rf"), r.err.rfind("bogus"));
  EXPECT_NE(r.err.find("known: att, fc_t, rnn, fc, rf, mmgat"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out / "rf-seed1.tutti"));
  EXPECT_FALSE(fs::exists(out / "att-seed1.tutti"));
}

TEST(CliMessages, ExperimentRetrainsARunWhoseModelFileIsCut) {
  TempDir dir;
  data::save_bags(dir / "train.npz", bags(40, 0));
  data::save_bags(dir / "test.npz", bags(20, 1));
  const auto out = dir / "exp";
  const std::vector<std::string> args = {"experiment",
                                         "--train",
                                         (dir / "train.npz").string(),
                                         "--test",
                                         (dir / "test.npz").string(),
                                         "--models",
                                         "rf",
                                         "--seeds",
                                         "2",
                                         "--threads",
                                         "1",
                                         "-o",
                                         out.string()};
  ASSERT_EQ(run_cli(args).exit_code, 0);
  const auto model = out / "rf-seed2.tutti";
  const auto whole = core::read_file_bytes(model);
  core::write_file_atomic(
      model, std::string_view(reinterpret_cast<const char*>(whole.data()), whole.size() / 2));
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rf seed 1: done earlier, skipped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tutti: warning: rf seed 2: model: " + model.string()), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("training it again"), std::string::npos) << r.err;
  EXPECT_NO_THROW(infer::read_model_file(model));
  // Whole again (meta.json records the training time, so the size may differ by a byte or two).
  EXPECT_GT(core::read_file_bytes(model).size(), whole.size() / 2 + 100);
  const auto j = core::read_json_file(out / "results.json");
  EXPECT_EQ(j["runs"].size(), 2u);
}

TEST(CliMessages, NegativeCountsAreRefused) {
  TempDir dir;
  const auto in = (dir / "d.npz").string(), out = (dir / "o.npz").string();
  data::save_bags(in, bags(12, 0));
  for (const std::vector<std::string>& flag : {std::vector<std::string>{"--instances", "-1"},
                                               {"--min-instances", "-1"},
                                               {"--max-instances", "-2"}}) {
    std::vector<std::string> args = {"data", "filter", in, "-o", out};
    args.insert(args.end(), flag.begin(), flag.end());
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << flag[0] << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(flag[0]), std::string::npos) << r.err;
  }
  for (const std::string n : {"-3", "0"}) {
    const auto r = run_cli({"data", "concat", in, in, "-o", out, "--per-clip", n});
    EXPECT_EQ(r.exit_code, 2) << n << r.err;
    EXPECT_NE(r.err.find("--per-clip"), std::string::npos) << r.err;
  }
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(run_cli({"data", "filter", in, "-o", out, "--instances", "4"}).exit_code, 0);
}

// An unknown augmentation is refused in one line before any data is read.
TEST(CliMessages, TrainEmbedderNamesAnUnknownAugmentation) {
  TempDir dir;
  const auto out = dir / "e.tutti-embedder";
  const auto r = run_cli(
      {"train-embedder", dir.path().string(), "-o", out.string(), "--augment", "mix,reverb"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--augment reverb: unknown (expected mix, eq or mask)"), std::string::npos)
      << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliMessages, ConvertCutsALongAudioSetClipAndNamesIt) {
  TempDir dir;
  const auto shard = fixture("audioset/long/long.tfrecord").string();
  const auto meta = fixture("audioset/meta").string();
  const auto e = core::read_json_file(fixture("audioset/expected.json"))["long"];
  const auto long_key = e["keys"][1].get<std::string>();
  const auto out = dir / "as.npz";
  auto r = run_cli({"data", "convert", "audioset", shard, "--metadata", meta, "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tutti: warning: " + shard + ": clip " + long_key +
                       " has 25 frames, kept the first 10"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(data::load_bags(out).max_instances, 10);
  r = run_cli({"data", "convert", "audioset", shard, "--metadata", meta, "--max-instances", "0",
               "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("warning"), std::string::npos) << r.err;
  EXPECT_EQ(data::load_bags(out).max_instances, 25);
  r = run_cli({"data", "convert", "audioset", shard, "--metadata", meta, "--max-instances", "-1",
               "-o", out.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;

  // class_labels_indices.csv saved with a byte-order mark (as spreadsheet programs do).
  fs::create_directories(dir / "meta");
  fs::copy_file(fixture("audioset/meta/ontology.json"), dir / "meta" / "ontology.json");
  std::ofstream(dir / "meta" / "class_labels_indices.csv", std::ios::binary)
      << "\xEF\xBB\xBF" << slurp(fixture("audioset/meta/class_labels_indices.csv"));
  r = run_cli({"data", "convert", "audioset", shard, "--metadata", (dir / "meta").string(), "-o",
               out.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace tutti::testing
