// Streamed training data and sharded embedding over real processes: `tutti train --train SHARDS`
// trains one shard exactly as the same clips in memory, two ranks of batch 64 as one process of
// batch 128; `tutti embed` and `tutti tag` under `tutti launch` split the files across ranks,
// embed writes a shard per rank and a manifest, and a rerun keeps the complete shards.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <numeric>

#include "dist/dist_runner.h"
#include "embed/embed_test_util.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"
#include "tutti/data/shards.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"

namespace fs = std::filesystem;
using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

namespace {

tutti::data::BagDataset rows_of(const tutti::data::BagDataset& ds, std::int64_t b, std::int64_t e) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(e - b));
  std::iota(idx.begin(), idx.end(), b);
  return ds.subset(idx);
}

// Every parameter and floating buffer of a model file.
std::vector<torch::Tensor> weights_of(const fs::path& path) {
  auto f = tutti::infer::read_model_file(path);
  auto m = tutti::models::make_model(f.info.spec);
  tutti::infer::load_weights(*m, f.blobs.at("weights.pt"), path.string());
  std::vector<torch::Tensor> out;
  for (auto& p : m->parameters(true)) out.push_back(p.detach().clone());
  for (auto& b : m->buffers(true))
    if (b.is_floating_point()) out.push_back(b.detach().clone());
  return out;
}

double max_difference(const fs::path& a, const fs::path& b) {
  const auto wa = weights_of(a), wb = weights_of(b);
  EXPECT_EQ(wa.size(), wb.size());
  double d = 0;
  for (std::size_t i = 0; i < wa.size() && i < wb.size(); ++i)
    d = std::max(d, (wa[i] - wb[i]).abs().max().item<double>());
  return d;
}

std::vector<std::string> train_args(const std::string& model, int batch, const fs::path& out) {
  return {"train",
          "--model",
          model,
          "--seed",
          "7",
          "--epochs",
          "5",
          "--batch-size",
          std::to_string(batch),
          "--threads",
          "1",
          "-o",
          out.string()};
}

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

std::vector<std::string> launched(int ranks, const std::vector<std::string>& args) {
  return with({"launch", "--nproc-per-node", std::to_string(ranks), "--timeout", "30", "--"}, args);
}

// The tiny training set's rows [0, 120) as training clips, [120, 160) as validation clips.
struct SplitData {
  TempDir dir;
  tutti::data::BagDataset all = tutti::data::load_bags(fixture("train/train_small.npz"));
  fs::path val = dir / "val.npz";
  SplitData() { tutti::data::save_bags(val, rows_of(all, 120, 160)); }
};

}  // namespace

// The order definition makes a single shard's epoch the in-memory epoch: same batches, same
// steps, bit-identical weights.
TEST(DistShards, OneShardTrainsExactlyAsTheSameClipsInMemory) {
  SplitData d;
  tutti::data::save_bags(d.dir / "train.npz", rows_of(d.all, 0, 120));
  std::vector<std::int64_t> tr(120), va(40);
  std::iota(tr.begin(), tr.end(), 0);
  std::iota(va.begin(), va.end(), 120);
  tutti::data::write_npz(d.dir / "split.npz",
                         {{"train", tutti::data::NpyArray::from_i64({120}, tr)},
                          {"val", tutti::data::NpyArray::from_i64({40}, va)}});
  for (const std::string model : {"att", "fc_t"}) {
    const fs::path mem = d.dir / (model + "-mem.tutti"), str = d.dir / (model + "-str.tutti");
    auto r =
        run_cli(with(train_args(model, 32, mem), {fixture("train/train_small.npz").string(),
                                                  "--val-split", (d.dir / "split.npz").string()}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_cli(with(train_args(model, 32, str),
                     {"--train", (d.dir / "train.npz").string(), "--val", d.val.string()}));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const auto a = weights_of(mem), b = weights_of(str);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i)
      EXPECT_TRUE(torch::equal(a[i], b[i])) << model << " tensor " << i;
    const auto ia = tutti::infer::read_model_file(mem).info,
               ib = tutti::infer::read_model_file(str).info;
    EXPECT_EQ(ia.thresholds, ib.thresholds) << model;
    EXPECT_EQ(ib.training.n_train, 120) << model;
  }
}

// Six shards of 60 clips, windows of three: two windows of 180 clips per epoch, each two global
// batches of 128 + 52. Two ranks of batch 64 train the model one process trains with batch 128.
TEST(DistShards, TwoRanksStreamingEqualOneProcess) {
  SplitData d;
  const auto train = rows_of(d.all, 0, 120);
  for (int s = 0; s < 6; ++s) {
    auto part = rows_of(train, (s % 2) * 60, (s % 2) * 60 + 60);
    for (auto& k : part.keys) k += "-copy" + std::to_string(s);
    std::string name = "shard-";
    name += std::to_string(s);
    name += ".npz";
    tutti::data::save_bags(d.dir / name, part);
  }
  const std::vector<std::string> data = {
      "--train", (d.dir / "shard-*.npz").string(), "--val", d.val.string(), "--shuffle-window",
      "3"};
  for (const std::string model : {"att", "fc_t"}) {
    const fs::path one = d.dir / (model + "-1.tutti"), two = d.dir / (model + "-2.tutti");
    // FC_T's dropout is keyed by the global instance in distributed runs only: one rank there.
    auto a1 = with(train_args(model, 128, one), data);
    auto r = run_cli(model == "att" ? a1 : launched(1, a1));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    r = run_cli(launched(2, with(train_args(model, 64, two), data)));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(tutti::testing::count_lines(r.err), 1) << "rank 0 alone reports:\n" << r.err;
    const double diff = max_difference(one, two);
    std::printf(
        "%s streamed: world 2 x batch 64 vs world 1 x batch 128, 5 epochs: max |weight "
        "difference| = %.3g\n",
        model.c_str(), diff);
    EXPECT_LT(diff, 1e-4) << model;
    const auto i1 = tutti::infer::read_model_file(one).info,
               i2 = tutti::infer::read_model_file(two).info;
    EXPECT_EQ(i1.training.best_epoch, i2.training.best_epoch) << model;
    EXPECT_EQ(i1.training.n_train, 360) << model;
    ASSERT_EQ(i1.thresholds.size(), i2.thresholds.size());
    for (std::size_t c = 0; c < i1.thresholds.size(); ++c)
      EXPECT_NEAR(i1.thresholds[c], i2.thresholds[c], 1e-4) << model;
  }
}

TEST(DistShards, StreamedTrainingErrors) {
  SplitData d;
  tutti::data::save_bags(d.dir / "a.npz", rows_of(d.all, 0, 60));
  auto other = rows_of(d.all, 60, 120);
  other.classes[0] = "renamed";
  tutti::data::save_bags(d.dir / "b.npz", other);
  const fs::path out = d.dir / "m.tutti";
  auto r = run_cli(with(train_args("att", 32, out),
                        {"--train", (d.dir / "*.npz").string(), "--val", d.val.string()}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("b.npz: classes differ from"), std::string::npos) << r.err;
  EXPECT_EQ(tutti::testing::count_lines(r.err), 1) << r.err;
  const std::string a = (d.dir / "a.npz").string();
  r = run_cli(with(train_args("att", 32, out), {"--train", a}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("needs --val VAL.npz"), std::string::npos) << r.err;
  r = run_cli(with(train_args("att", 32, out),
                   {"--train", a, "--val", d.val.string(), "--val-fraction", "0.2"}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--train excludes --val-fraction"), std::string::npos) << r.err;
  r = run_cli(with(train_args("mmgat", 32, out), {"--train", a, "--val", d.val.string()}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("streamed training data is not supported"), std::string::npos) << r.err;
  r = run_cli(with(train_args("rf", 32, out), {"--train", a, "--val", d.val.string()}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("the forest needs its training data in memory"), std::string::npos) << r.err;
  r = run_cli(with(train_args("att", 32, out),
                   {"--train", (d.dir / "none-*.npz").string(), "--val", d.val.string()}));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("none-*.npz: no file matches"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

TEST(DistShards, EmbedTwoRanksWriteShardsAManifestAndKeepThemOnRerun) {
  TempDir dir;
  auto r =
      run_cli({"synth", "-n", "4", "--duration", "2", "--seed", "3", "-o", (dir / "syn").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> embed = {"embed",     (dir / "syn" / "audio").string(),
                                          "--labels",  (dir / "syn" / "labels.csv").string(),
                                          "--threads", "1"};
  r = run_cli(launched(2, with(embed, {"-o", (dir / "emb").string()})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto m = tutti::data::read_shard_manifest(dir / "emb" / "manifest.json");
  ASSERT_EQ(m.shards.size(), 2u);
  EXPECT_EQ(m.shards[0].file, "shard-00000-of-00002.npz");
  EXPECT_EQ(m.shards[0].clips, 2);
  EXPECT_EQ(m.clips(), 4);
  EXPECT_EQ(m.embedder, "logmel-stats");
  EXPECT_EQ(m.dim, 128);
  EXPECT_FALSE(m.classes.empty());
  EXPECT_EQ(r.err.find("name files that were not embedded"), std::string::npos) << r.err;

  // Merged, the shards are the one-process dataset (files in sorted key order either way).
  r = run_cli(with(embed, {"-o", (dir / "one.npz").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"data", "concat", (dir / "emb" / "manifest.json").string(), "-o",
               (dir / "merged.npz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto one = tutti::data::load_bags(dir / "one.npz"),
             merged = tutti::data::load_bags(dir / "merged.npz");
  EXPECT_EQ(merged.keys, one.keys);
  EXPECT_EQ(merged.x_u8, one.x_u8);
  EXPECT_EQ(merged.y_true, one.y_true);
  EXPECT_EQ(merged.y_mask, one.y_mask);
  EXPECT_EQ(merged.classes, one.classes);

  // A rerun keeps both shards; with one shard's file changed, it redoes that one only.
  const fs::path s0 = dir / "emb" / m.shards[0].file, s1 = dir / "emb" / m.shards[1].file;
  const auto t0 = fs::last_write_time(s0);
  { std::ofstream(s1, std::ios::app) << "x"; }
  r = run_cli(launched(2, with(embed, {"-o", (dir / "emb").string()})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("shard-00000-of-00002.npz: complete from an earlier run, kept"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("embedded 2 files"), std::string::npos) << r.err;
  EXPECT_EQ(fs::last_write_time(s0), t0);
  // The new manifest: shard 0 as it was, shard 1 rewritten (zip entries carry the write time).
  const auto m2 = tutti::data::read_shard_manifest(dir / "emb" / "manifest.json");
  ASSERT_EQ(m2.shards.size(), 2u);
  EXPECT_EQ(m2.shards[0].md5, m.shards[0].md5);
  EXPECT_EQ(m2.shards[1].md5, tutti::core::md5_file_hex(s1));
  EXPECT_EQ(m2.shards[1].bytes, m.shards[1].bytes);
  EXPECT_EQ(tutti::data::load_bags(s1).x_u8, rows_of(one, 2, 4).x_u8);

  // Training reads the manifest directly.
  r = run_cli({"train", "--train", (dir / "emb" / "manifest.json").string(), "--val",
               (dir / "merged.npz").string(), "--model", "att", "--epochs", "1", "--batch-size",
               "4", "--threads", "1", "-o", (dir / "m.tutti").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("on 4 clips"), std::string::npos) << r.err;
}

TEST(DistShards, TagTwoRanksTagTheirSliceIntoTheOutputFolder) {
  TempDir dir;
  tutti::testing::write_labeled_wav_folder(dir.path());
  const fs::path npz = dir / "f.npz", model = dir / "m.tutti";
  auto r = run_cli({"embed", (dir / "audio").string(), "--labels", (dir / "labels.csv").string(),
                    "--threads", "1", "-o", npz.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"train", npz.string(), "--model", "att", "--epochs", "2", "--threads", "1",
               "--val-fraction", "0.3", "-o", model.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> tag = {
      "tag", "--model", model.string(), (dir / "audio").string(), "--format", "json"};
  r = run_cli(launched(2, with(tag, {"--out-dir", (dir / "tags").string()})));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("tagged 5 files"), std::string::npos) << r.err;
  int outputs = 0;
  for (const auto& e : fs::directory_iterator(dir / "tags")) outputs += e.is_regular_file();
  EXPECT_EQ(outputs, 10);
  r = run_cli(launched(2, tag));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("writes one output per file: give --out-dir DIR"), std::string::npos)
      << r.err;
}
