// train::train_embedder on tiny `tutti synth` folders made here: the file loads and embeds,
// same seed -> same bytes, an interrupted run resumed == an uninterrupted one, the patch cache,
// bad folders and options.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/zip.h"
#include "tutti/embed/cnn_embedder.h"
#include "tutti/embed/embed_files.h"
#include "tutti/synth/dataset.h"
#include "tutti/train/embedder_trainer.h"

namespace {

namespace fs = std::filesystem;
using tutti::testing::error_of;
using tutti::testing::TempDir;

// 6 clips of 3 s (3 patches each), made once per process.
const fs::path& synth_dir() {
  static TempDir tmp;
  static const fs::path dir = [] {
    tutti::synth::SynthConfig c;
    c.soundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";
    c.n_clips = 6;
    c.duration_s = 3.0;
    c.sample_rate_hz = 16000;
    c.channels = 1;
    c.seed = 5;
    c.threads = 2;
    tutti::synth::write_synth_dataset(c, tmp / "synth");
    return tmp / "synth";
  }();
  return dir;
}

// The file's entries (meta.json, cnn.pt): the zip itself also stamps the time of writing.
std::vector<std::vector<std::uint8_t>> entries(const fs::path& file) {
  tutti::core::ZipReader z(file);
  return {z.read("meta.json"), z.read("cnn.pt")};
}

tutti::train::EmbedderTrainOptions options(const fs::path& out) {
  tutti::train::EmbedderTrainOptions o;
  o.data_dirs = {synth_dir()};
  o.output = out;
  o.net.channels = {4, 8};
  o.net.dim = 16;
  o.epochs = 2;
  o.batch_clips = 4;
  o.seed = 3;
  o.threads = 1;
  return o;
}

TEST(EmbedderTraining, TrainsAFileThatLoadsAndEmbeds) {
  TempDir tmp;
  const auto r = tutti::train::train_embedder(options(tmp / "e.tutti-embedder"));
  EXPECT_EQ(r.clips, 6);
  EXPECT_EQ(r.frames, 18);  // 3 s -> 3 examples of 0.96 s
  EXPECT_EQ(r.epoch_loss.size(), 2u);
  EXPECT_FALSE(r.cache_reused);
  EXPECT_FALSE(fs::exists(tmp / "e.tutti-embedder.ckpt"));  // removed once the file is written
  const auto emb = tutti::embed::make_embedder((tmp / "e.tutti-embedder").string());
  EXPECT_EQ(emb->info().name, "logmel-cnn:" + r.id);
  EXPECT_EQ(emb->info().dim, 16);
  const auto f = tutti::embed::embed_file(*emb, synth_dir() / "audio" / "synth_000000.wav");
  EXPECT_EQ(f.count, 3u);
  EXPECT_EQ(f.features.size(), 3u * 16u);
  // A network that learned nothing would give constant features; trained ones vary.
  EXPECT_NE(*std::min_element(f.features.begin(), f.features.end()),
            *std::max_element(f.features.begin(), f.features.end()));
}

TEST(EmbedderTraining, SameSeedSameBytesAndTheCacheIsReused) {
  TempDir tmp;
  auto a = options(tmp / "a.tutti-embedder");
  a.cache = tmp / "patches.npz";
  auto b = a;
  b.output = tmp / "b.tutti-embedder";
  const auto ra = tutti::train::train_embedder(a);
  const auto rb = tutti::train::train_embedder(b);
  EXPECT_FALSE(ra.cache_reused);
  EXPECT_TRUE(rb.cache_reused);
  EXPECT_EQ(entries(a.output), entries(b.output));
  auto c = a;
  c.output = tmp / "c.tutti-embedder";
  c.seed = 4;
  tutti::train::train_embedder(c);
  EXPECT_NE(entries(a.output)[1], entries(c.output)[1]);
}

TEST(EmbedderTraining, AugmentationIsSeededAndRecorded) {
  TempDir tmp;
  auto plain = options(tmp / "plain.tutti-embedder");
  plain.cache = tmp / "patches.npz";
  auto a = plain;
  a.output = tmp / "a.tutti-embedder";
  a.augment = tutti::train::PatchAugment::parse({"mix", "eq", "mask"});
  auto b = a;
  b.output = tmp / "b.tutti-embedder";
  const auto rp = tutti::train::train_embedder(plain);
  const auto ra = tutti::train::train_embedder(a);
  tutti::train::train_embedder(b);
  EXPECT_EQ(entries(a.output), entries(b.output));
  EXPECT_NE(entries(a.output)[1], entries(plain.output)[1]);
  EXPECT_NE(ra.epoch_loss, rp.epoch_loss);
  auto training = [](const fs::path& f) {
    const auto m = entries(f)[0];
    return tutti::core::Json::parse(std::string(m.begin(), m.end()))["training"];
  };
  EXPECT_EQ(training(a.output)["augment"], tutti::core::Json({"mix", "eq", "mask"}));
  // Off: the options as before --augment existed, so older checkpoints still resume.
  EXPECT_FALSE(training(plain.output).contains("augment"));
  // Each kind alone changes the result too.
  for (const char* kind : {"mix", "eq", "mask"}) {
    auto one = plain;
    one.output = tmp / (std::string(kind) + ".tutti-embedder");
    one.augment = tutti::train::PatchAugment::parse({kind});
    tutti::train::train_embedder(one);
    EXPECT_NE(entries(one.output)[1], entries(plain.output)[1]) << kind;
    EXPECT_NE(entries(one.output)[1], entries(a.output)[1]) << kind;
  }
}

// With augmentation on: its draws of the epochs after a resume are those of an uninterrupted run.
TEST(EmbedderTraining, ResumedRunEqualsUninterrupted) {
  TempDir tmp;
  auto whole = options(tmp / "whole.tutti-embedder");
  whole.epochs = 3;
  whole.augment = tutti::train::PatchAugment::parse({"mix", "eq", "mask"});
  tutti::train::train_embedder(whole);

  auto part = whole;
  part.output = tmp / "part.tutti-embedder";
  tutti::train::EmbedderTrainCallbacks stop;
  stop.on_epoch_end = [](int epoch, double) {
    if (epoch == 0) throw std::runtime_error("interrupted");
  };
  EXPECT_THROW(tutti::train::train_embedder(part, stop), std::runtime_error);
  EXPECT_FALSE(fs::exists(part.output));
  ASSERT_TRUE(fs::exists(tmp / "part.tutti-embedder.ckpt"));

  auto other = part;
  other.resume = true;
  other.learning_rate = 0.01;
  const auto msg = error_of([&] { tutti::train::train_embedder(other); });
  EXPECT_NE(msg.find("other options"), std::string::npos) << msg;

  part.resume = true;
  const auto r = tutti::train::train_embedder(part);
  EXPECT_EQ(r.first_epoch, 1);
  EXPECT_EQ(entries(part.output), entries(whole.output));
}

TEST(EmbedderTraining, BadFoldersAndOptions) {
  TempDir tmp;
  auto o = options(tmp / "x.tutti-embedder");
  o.data_dirs = {tmp / "nothing"};
  auto msg = error_of([&] { tutti::train::train_embedder(o); });
  EXPECT_NE(msg.find((tmp / "nothing").string()), std::string::npos) << msg;
  EXPECT_NE(msg.find("no audio/ folder"), std::string::npos) << msg;
  fs::create_directories(tmp / "half" / "audio");
  o.data_dirs = {tmp / "half"};
  msg = error_of([&] { tutti::train::train_embedder(o); });
  EXPECT_NE(msg.find("labels.csv: missing"), std::string::npos) << msg;

  auto bad = [&](auto edit, const std::string& what) {
    auto b = options(tmp / "y.tutti-embedder");
    edit(b);
    const auto m = error_of([&] { tutti::train::train_embedder(b); });
    EXPECT_NE(m.find(what), std::string::npos) << m;
    EXPECT_FALSE(fs::exists(tmp / "y.tutti-embedder"));
  };
  bad([](auto& b) { b.epochs = 0; }, "--epochs 0");
  bad([](auto& b) { b.batch_clips = 0; }, "--batch-clips 0");
  bad([](auto& b) { b.learning_rate = 0; }, "--lr 0");
  bad([](auto& b) { b.clip_weight = -1; }, "--clip-weight -1");
  bad([](auto& b) { b.threads = -1; }, "--threads -1");
  bad([](auto& b) { b.data_dirs.clear(); }, "no data folder");
  bad([](auto& b) { b.net.time_pool = 3; }, "time_pool = 3");
}

}  // namespace
