// End-to-end: `tutti data concat`, `tutti data merge`, `tutti data filter`, `tutti eval
// --noise-instances` and `tutti tsne` on the small training fixtures (tests/fixtures/train):
// outputs, JSON fields, determinism and every error path (exit 2 for usage, 1 for bad data, no
// output file).
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/report/experiment_report.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;
using core::Json;

std::string fx(const std::string& name) { return fixture("train/" + name).string(); }

// A dataset with D = 16 like the fixtures but other classes, or another D, or another K.
std::string write_other(const TempDir& dir, const std::string& name, std::int64_t d,
                        std::vector<std::string> classes, int clips = 4, std::int64_t k = 10) {
  auto ds = data::BagDataset::zeros(clips, k, d, std::move(classes), data::FeatureType::kUint8);
  for (int i = 0; i < clips; ++i) {
    ds.keys[i] = fmt::format("n{}", i);
    ds.n_instances[i] = static_cast<std::int32_t>(k);
    for (std::int64_t v = 0; v < k * d; ++v)
      ds.x_u8[i * k * d + v] = static_cast<std::uint8_t>((v * 37 + i * 11) % 256);
    for (std::int64_t c = 0; c < ds.num_classes(); ++c) ds.y_mask[i * ds.num_classes() + c] = 1;
  }
  const auto p = dir / name;
  data::save_bags(p, ds);
  return p.string();
}

TEST(CliDataOps, ConcatSameLabelDeterministic) {
  TempDir dir;
  const auto out = (dir / "long.npz").string(), again = (dir / "again.npz").string();
  auto r = run_cli({"data", "concat", fx("train_small.npz"), fx("train_small.npz"), "-o", out,
                    "--min", "1", "--max", "2", "--seed", "3", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = Json::parse(r.out);
  EXPECT_EQ(j["clips"], 160);
  EXPECT_EQ(j["options"]["same_label_only"], true);
  const auto a = data::load_bags(fx("train_small.npz"));
  const auto ds = data::load_bags(out);
  EXPECT_EQ(ds.size(), 160);
  EXPECT_EQ(ds.max_instances, j["max_instances"].get<std::int64_t>());
  EXPECT_LE(ds.max_instances, 30);
  EXPECT_GT(ds.max_instances, 10);
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(ds.keys[i].rfind(a.keys[i], 0), 0u) << ds.keys[i];
    EXPECT_GE(ds.n_instances[i], a.n_instances[i]);
    for (std::int64_t c = 0; c < 3; ++c) {  // union: known labels only grow, masks OR
      if (a.known(i, c)) EXPECT_GE(ds.label(i, c), a.label(i, c));
      EXPECT_GE(ds.known(i, c), a.known(i, c));
    }
  }
  r = run_cli({"data", "concat", fx("train_small.npz"), fx("train_small.npz"), "-o", again,
               "--min", "1", "--max", "2", "--seed", "3"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("160 clips"), std::string::npos) << r.err;
  EXPECT_EQ(data::load_bags(again).keys, ds.keys);
  EXPECT_EQ(data::load_bags(again).x_u8, ds.x_u8);
}

TEST(CliDataOps, ConcatErrors) {
  TempDir dir;
  const auto out = (dir / "x.npz").string();
  const auto other = write_other(dir, "other.npz", 16, {"c0", "cX", "c2"});
  auto r = run_cli({"data", "concat", fx("train_small.npz"), other, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("different class lists: class 1 is 'c1' in"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("other.npz"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("train_small.npz"), std::string::npos) << r.err;
  const auto narrow = write_other(dir, "narrow.npz", 8, {"c0", "c1", "c2"});
  r = run_cli({"data", "concat", fx("train_small.npz"), narrow, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("D = 16 vs 8"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"data", "concat", fx("train_small.npz"), fx("train_small.npz"), "-o", out,
                     "--per-clip", "1", "--min", "2"})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"data", "concat", fx("train_small.npz"), fx("train_small.npz"), "-o", out,
                     "--any", "--same-label-only"})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"data", "concat", fx("train_small.npz"), fx("train_small.npz"), "-o", out,
                     "--min", "3", "--max", "2"})
                .exit_code,
            2);
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliDataOps, MergeEqualsNumpyConcatenation) {
  TempDir dir;
  const auto wide = write_other(dir, "wide.npz", 16, {"c0", "c1", "c2"}, 4, 12);
  const auto out = (dir / "all.npz").string();
  auto r = run_cli({"data", "merge", fx("train_small.npz"), wide, "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 files, 164 clips (K = 12)"), std::string::npos) << r.err;
  const auto ds = data::load_bags(out);
  ASSERT_EQ(ds.size(), 164);
  EXPECT_EQ(ds.max_instances, 12);
  // numpy: np.concatenate([np.pad(train_small X, K 10 -> 12), wide X]) and the Y_true the same
  // way (float32), hashed with hashlib.md5 of the C-order bytes.
  const std::string x(ds.x_u8.begin(), ds.x_u8.end());
  EXPECT_EQ(core::md5_hex(x), "36daf7ff005be764e9977c9ec8aad6f3");
  const std::string y(reinterpret_cast<const char*>(ds.y_true.data()), ds.y_true.size() * 4);
  EXPECT_EQ(core::md5_hex(y), "ba6d3f974749113dd15ff31cccf4ea38");
  const auto a = data::load_bags(fx("train_small.npz"));
  EXPECT_EQ(ds.keys.front(), a.keys.front());
  EXPECT_EQ(ds.keys.back(), "n3");
  EXPECT_EQ(ds.n_instances[0], a.n_instances[0]);
  EXPECT_EQ(ds.n_instances[163], 12);

  // The same file twice: keys collide unless each file's name prefixes them.
  const auto copy = (dir / "copy.npz").string();
  fs::copy_file(fx("train_small.npz"), copy);
  const auto twice = (dir / "twice.npz").string();
  r = run_cli({"data", "merge", fx("train_small.npz"), copy, "-o", twice});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("copy.npz: clip key 'clip1_0000' is also in"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(twice));
  r = run_cli({"data", "merge", fx("train_small.npz"), copy, "--prefix-keys", "-o", twice});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto t = data::load_bags(twice);
  ASSERT_EQ(t.size(), 320);
  EXPECT_EQ(t.keys[0], "train_small/clip1_0000");
  EXPECT_EQ(t.keys[160], "copy/clip1_0000");
  EXPECT_EQ(std::vector<std::uint8_t>(t.x_u8.begin() + 160 * 10 * 16, t.x_u8.end()), a.x_u8);
}

TEST(CliDataOps, MergeErrors) {
  TempDir dir;
  const auto out = (dir / "x.npz").string();
  const auto other = write_other(dir, "other.npz", 16, {"c0", "cX", "c2"});
  auto r = run_cli({"data", "merge", fx("train_small.npz"), other, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("other.npz: classes differ from"), std::string::npos) << r.err;
  const auto narrow = write_other(dir, "narrow.npz", 8, {"c0", "c1", "c2"});
  r = run_cli({"data", "merge", fx("train_small.npz"), narrow, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("narrow.npz: D = 8 differs from"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"data", "merge", fx("train_small.npz"), "-o", out}).exit_code, 0);
  EXPECT_EQ(run_cli({"data", "merge", "-o", out}).exit_code, 2);  // no input
  r = run_cli({"data", "merge", fx("train_small.npz"), (dir / "none.npz").string(), "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("none.npz"), std::string::npos) << r.err;
  r = run_cli({"data", "merge", other, fx("train_small.npz"), "-o", other});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("is the input"), std::string::npos) << r.err;
  fs::remove(out);
  const auto bad = (dir / "bad.npz").string();
  core::write_file_atomic(bad, "not a zip");
  r = run_cli({"data", "merge", fx("train_small.npz"), bad, "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("bad.npz"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(CliDataOps, FilterExactInstancesAndClasses) {
  TempDir dir;
  const auto out = (dir / "k10.npz").string();
  auto r = run_cli({"data", "filter", fx("test_small.npz"), "--instances", "10", "-o", out,
                    "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = Json::parse(r.out);
  EXPECT_EQ(j["kept"], 14);  // numpy: np.bincount(n_instances)[10] == 14 of 60
  EXPECT_EQ(j["dropped"], 46);
  EXPECT_EQ(j["dropped_by"]["instances"], 46);
  EXPECT_NE(r.err.find("kept 14 of 60 clips, dropped 46"), std::string::npos) << r.err;
  const auto ds = data::load_bags(out);
  EXPECT_TRUE(ds.fixed_length());
  EXPECT_EQ(ds.size(), 14);

  r = run_cli({"data", "filter", fx("test_small.npz"), "--max-instances", "7", "--trim-k",
               "--classes", "c2,c0", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto t = data::load_bags(out);
  EXPECT_EQ(t.size(), 23);  // 9 clips with 6 instances + 14 with 7
  EXPECT_EQ(t.max_instances, 7);
  EXPECT_EQ(t.classes, (std::vector<std::string>{"c2", "c0"}));
}

// An auxiliary label file must not hold test clips: `data filter --without-clips-of` removes
// them, `experiment --aux-labels` refuses a file that still has them (nothing trained).
TEST(CliDataOps, WithoutClipsOfAndAuxLabelsKeepTestClipsOut) {
  TempDir dir;
  const auto out = (dir / "x.npz").string();
  auto r = run_cli({"data", "filter", fx("test_small.npz"), "--without-clips-of",
                    fx("train_small.npz"), "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data::load_bags(out).size(), 60);  // no key shared
  r = run_cli({"data", "filter", fx("test_small.npz"), "--without-clips-of",
               fx("test_small.npz"), "-o", (dir / "y.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no clip passes the filter (60 dropped)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"data", "filter", fx("test_small.npz"), "--without-clips-of",
                     (dir / "missing.npz").string(), "-o", out})
                .exit_code,
            2);
  const auto exp = dir / "exp";
  r = run_cli({"experiment", "--train", fx("train_small.npz"), "--test", fx("test_small.npz"),
               "--models", "att", "--seeds", "1", "--epochs", "1", "--aux-labels",
               fx("test_small.npz"), "-o", exp.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("holds 60 clips of the test set"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(exp / "att-seed1.tutti"));
}

TEST(CliDataOps, FilterErrors) {
  TempDir dir;
  const auto out = (dir / "x.npz").string();
  auto r = run_cli({"data", "filter", fx("test_small.npz"), "--classes", "c0,piano", "-o", out});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("no class 'piano' (classes: c0, c1, c2)"), std::string::npos) << r.err;
  r = run_cli({"data", "filter", fx("test_small.npz"), "--instances", "3", "-o", out});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no clip passes the filter (60 dropped)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"data", "filter", fx("test_small.npz"), "--instances", "10",
                     "--min-instances", "2", "-o", out})
                .exit_code,
            2);
  EXPECT_EQ(run_cli({"data", "filter", fx("test_small.npz"), "--min-instances", "8",
                     "--max-instances", "7", "-o", out})
                .exit_code,
            2);
  EXPECT_FALSE(fs::exists(out));
}

// One small ATT model for the noise and t-SNE tests.
class CliModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    model_ = (*dir_ / "att.tutti").string();
    const auto r = run_cli({"train", fx("train_small.npz"), "--model", "att", "--seed", "1",
                            "--epochs", "3", "--batch-size", "32", "--threads", "2", "-o", model_});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    pool_ = write_other(*dir_, "pool.npz", 16, {"noise"}, 6);
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static TempDir* dir_;
  static std::string model_, pool_;
};
TempDir* CliModel::dir_ = nullptr;
std::string CliModel::model_, CliModel::pool_;

TEST_F(CliModel, EvalWithInstanceNoiseRecordsTheProtocol) {
  auto clean = run_cli({"eval", model_, fx("test_small.npz"), "--json"});
  ASSERT_EQ(clean.exit_code, 0) << clean.err;
  auto zero = run_cli({"eval", model_, fx("test_small.npz"), "--json", "--noise-instances", "0",
                       "--noise-pool", pool_});
  ASSERT_EQ(zero.exit_code, 0) << zero.err;
  const auto jc = Json::parse(clean.out), j0 = Json::parse(zero.out);
  EXPECT_EQ(j0["mAP"], jc["mAP"]);  // P = 0 changes nothing
  EXPECT_EQ(j0["noise_replaced"], 0);
  EXPECT_FALSE(jc.contains("noise_instances"));

  auto half = run_cli({"eval", model_, fx("test_small.npz"), "--json", "--noise-instances", "0.5",
                       "--noise-pool", pool_, "--noise-seed", "4"});
  ASSERT_EQ(half.exit_code, 0) << half.err;
  const auto j = Json::parse(half.out);
  EXPECT_EQ(j["noise_instances"], 0.5);
  EXPECT_EQ(j["noise_seed"], 4);
  EXPECT_EQ(j["noise_pool"]["path"], pool_);
  EXPECT_EQ(j["noise_pool"]["clips"], 6);
  EXPECT_EQ(j["noise_pool"]["instances"], 60);
  const auto total = j["noise_real_instances"].get<std::int64_t>();
  EXPECT_EQ(total, 9 * 6 + 14 * 7 + 11 * 8 + 12 * 9 + 14 * 10);  // numpy: sum(n_instances)
  const auto replaced = j["noise_replaced"].get<std::int64_t>();
  EXPECT_NEAR(static_cast<double>(replaced), 0.5 * static_cast<double>(total), 60.0);
  EXPECT_NE(j["mAP"], jc["mAP"]);
  const auto again = run_cli({"eval", model_, fx("test_small.npz"), "--json", "--noise-instances",
                              "0.5", "--noise-pool", pool_, "--noise-seed", "4"});
  EXPECT_EQ(again.out, half.out);  // deterministic

  const auto table = run_cli({"eval", model_, fx("test_small.npz"), "--noise-instances", "0.5",
                              "--noise-pool", pool_, "--noise-seed", "4"});
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find("real instances replaced (P = 0.5, seed 4)"), std::string::npos)
      << table.out;
}

TEST_F(CliModel, EvalNoiseErrors) {
  TempDir dir;
  const auto test = fx("test_small.npz");
  for (const char* p : {"1.5", "-0.1", "nan"}) {
    const auto r = run_cli({"eval", model_, test, "--noise-instances", p, "--noise-pool", pool_});
    EXPECT_EQ(r.exit_code, 2) << p << " " << r.err;
  }
  EXPECT_EQ(run_cli({"eval", model_, test, "--noise-instances", "0.1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"eval", model_, test, "--noise-pool", pool_}).exit_code, 2);
  EXPECT_EQ(run_cli({"eval", model_, test, "--noise-seed", "3"}).exit_code, 2);
  const auto narrow = write_other(dir, "narrow.npz", 8, {"n"});
  auto r = run_cli({"eval", model_, test, "--noise-instances", "0.1", "--noise-pool", narrow});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("different feature dimensions: D = 16 vs 8"), std::string::npos) << r.err;
  auto empty = data::BagDataset::zeros(2, 10, 16, {"n"}, data::FeatureType::kUint8);
  empty.keys = {"e0", "e1"};
  data::save_bags(dir / "empty.npz", empty);
  r = run_cli({"eval", model_, test, "--noise-instances", "0.1", "--noise-pool",
               (dir / "empty.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("the noise pool has no instances (2 clips)"), std::string::npos) << r.err;
}

TEST_F(CliModel, TsneSvgAndJsonForTheReport) {
  TempDir dir;
  const auto svg = (dir / "map.svg").string();
  const std::vector<std::string> args = {"tsne",         model_, fx("test_small.npz"),
                                         "-o",           svg,    "--perplexity",
                                         "5",            "--iterations", "300",
                                         "--json"};
  const auto r = run_cli(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = Json::parse(r.out);
  // numpy: 25 of test_small's 60 clips have exactly one positive, 9 + 1 several, 25 none.
  EXPECT_EQ(j["points"], 25);
  EXPECT_EQ(j["x"].size(), 25u);
  EXPECT_EQ(j["y"].size(), 25u);
  EXPECT_EQ(j["labels"].size(), 25u);
  EXPECT_EQ(j["omitted_multi_label"], 10);
  EXPECT_EQ(j["omitted_no_label"], 25);
  EXPECT_EQ(j["config"]["perplexity"], 5.0);
  EXPECT_EQ(j["iterations_run"].get<int>() <= 300, true);
  EXPECT_GT(j["kl_divergence"].get<double>(), 0.0);
  EXPECT_EQ(j["embedding_dim"], 16);  // ATT: mean of the instance features h_t, [B, D]
  const auto text = slurp(svg);
  EXPECT_NE(text.find("<svg"), std::string::npos);
  EXPECT_NE(text.find("perplexity 5"), std::string::npos);
  EXPECT_NE(text.find("35 omitted"), std::string::npos);
  EXPECT_EQ(run_cli(args).out, r.out);  // deterministic

  // The JSON is a model entry of the experiment report's tsne section.
  Json results = {{"runs", Json::array()},
                  {"tsne", {{"models", {{"att", j}}}}}};
  const auto html = report::render_experiment_report(results);
  EXPECT_NE(html.find("Embeddings (t-SNE)"), std::string::npos);
  EXPECT_EQ(html.find("n/a: att"), std::string::npos);
}

TEST_F(CliModel, TsneErrors) {
  TempDir dir;
  const auto test = fx("test_small.npz");
  const auto svg = (dir / "x.svg").string();
  auto r = run_cli({"tsne", model_, test, "-o", svg});  // perplexity 30 >= 25 clips
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("less than the number of clips shown (25)"), std::string::npos) << r.err;
  EXPECT_EQ(run_cli({"tsne", model_, test, "--perplexity", "5"}).exit_code, 2);  // no output
  EXPECT_EQ(run_cli({"tsne", model_, test, "-o", svg, "--iterations", "100"}).exit_code, 2);
  EXPECT_EQ(run_cli({"tsne", model_, test, "-o", svg, "--max-points", "1"}).exit_code, 2);
  EXPECT_EQ(run_cli({"tsne", model_, test, "-o", svg, "--init", "umap"}).exit_code, 2);
  const auto none = write_other(dir, "none.npz", 16, {"c0", "c1", "c2"});  // no positives
  r = run_cli({"tsne", model_, none, "-o", svg});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no clip with exactly one positive class among 4 clips"), std::string::npos)
      << r.err;
  const auto rf = (dir / "rf.tutti").string();
  r = run_cli({"train", fx("train_small.npz"), "--model", "rf", "--rf-trees", "5", "-o", rf});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"tsne", rf, test, "-o", svg, "--perplexity", "5"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("has no clip embedding"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(svg));
}

}  // namespace
}  // namespace tutti::testing
