// embed_files: streaming file embedding, folders -> bag datasets, failures, determinism.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "embed_test_util.h"
#include "test_util.h"
#include "tutti/data/bag_io.h"
#include "tutti/embed/embed_files.h"
#include "tutti/features/file_examples.h"
#include "tutti/features/logmel_stats.h"

namespace tutti::embed {
namespace {

using testing::TempDir;
using testing::error_of;
namespace fs = std::filesystem;

// Examples of a file of `seconds` at 16 kHz (docs/audio.md): frames = 1 + (n - 400) // 160,
// examples = frames // 96.
std::size_t expected_examples(double seconds) {
  const auto n = static_cast<long>(std::lround(seconds * 16000));
  if (n < 400) return 0;
  return static_cast<std::size_t>((1 + (n - 400) / 160) / 96);
}

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

TEST(EmbedFile, MatchesLogmelStatsOfTheSameExamplesComputedWhole) {
  TempDir tmp;
  const auto wav = tmp / "a.wav";
  testing::write_test_wav(wav, 5.0, 1);
  const auto emb = make_embedder("logmel-stats");
  const auto whole = features::vggish_examples_from_file(wav);
  ASSERT_EQ(whole.count, expected_examples(5.0));  // 5
  const auto ref = features::logmel_stats(whole.values, whole.count, 96, 64);
  for (std::size_t batch : {1u, 2u, 3u, 32u}) {
    const auto f = embed_file(*emb, wav, 0, batch);
    EXPECT_EQ(f.count, 5u);
    EXPECT_EQ(f.total_examples, 5u);
    EXPECT_EQ(f.dim, 128);
    EXPECT_NEAR(f.duration_s, 5.0, 1e-3);
    EXPECT_EQ(f.features, ref) << "batch " << batch;
  }
}

TEST(EmbedFile, BatchesArriveInOrderWithBoundedSize) {
  TempDir tmp;
  testing::write_test_wav(tmp / "a.flac", 5.0, 2, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  const auto emb = make_embedder("logmel-stats");
  std::vector<std::pair<std::size_t, std::size_t>> calls;
  const auto s = embed_file_batches(*emb, tmp / "a.flac", 2,
                                    [&](std::size_t first, std::size_t n, auto f) {
                                      EXPECT_EQ(f.size(), n * 128);
                                      calls.emplace_back(first, n);
                                    });
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(calls, (std::vector<std::pair<std::size_t, std::size_t>>{{0, 2}, {2, 2}, {4, 1}}));
  EXPECT_NE(error_of([&] { embed_file_batches(*emb, tmp / "a.flac", 0, {}); }).find("batch"),
            std::string::npos);
}

TEST(EmbedFile, CapKeepsTheFirstInstances) {
  TempDir tmp;
  testing::write_test_wav(tmp / "a.wav", 5.0, 3);
  const auto emb = make_embedder("logmel-stats");
  const auto all = embed_file(*emb, tmp / "a.wav");
  const auto cap = embed_file(*emb, tmp / "a.wav", 3, 2);
  EXPECT_EQ(cap.count, 3u);
  EXPECT_EQ(cap.total_examples, 5u);
  EXPECT_EQ(cap.features, std::vector<std::uint8_t>(all.features.begin(), all.features.begin() + 3 * 128));
}

TEST(EmbedFile, ShortFileGivesZeroInstancesNotAnError) {
  TempDir tmp;
  testing::write_test_wav(tmp / "short.wav", 0.9, 4);
  const auto emb = make_embedder("logmel-stats");
  const auto f = embed_file(*emb, tmp / "short.wav");
  EXPECT_EQ(f.count, 0u);
  EXPECT_TRUE(f.features.empty());
  EXPECT_NEAR(f.duration_s, 0.9, 1e-3);
}

TEST(EmbedFile, UndecodableFilesAreNamed) {
  TempDir tmp;
  write_text(tmp / "text.wav", "this is not audio at all, just some text\n");
  const auto emb = make_embedder("logmel-stats");
  const std::string e = error_of([&] { embed_file(*emb, tmp / "text.wav"); });
  EXPECT_NE(e.find((tmp / "text.wav").string()), std::string::npos) << e;
  const std::string m = error_of([&] { embed_file(*emb, tmp / "missing.wav"); });
  EXPECT_NE(m.find("missing.wav"), std::string::npos) << m;
}

TEST(CollectAudioFiles, RecursesSortsAndKeysRelativeToTheFolder) {
  TempDir tmp;
  testing::write_test_wav(tmp / "d" / "b.wav", 1.0, 1);
  testing::write_test_wav(tmp / "d" / "sub" / "a.WAV", 1.0, 2);
  testing::write_test_wav(tmp / "d" / "a.flac", 1.0, 3, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  write_text(tmp / "d" / "notes.txt", "ignored");
  testing::write_test_wav(tmp / "lone.wav", 1.0, 4);
  const std::vector<fs::path> in = {tmp / "lone.wav", tmp / "d"};
  const auto files = collect_audio_files(in);
  std::vector<std::string> keys;
  for (const auto& f : files) keys.push_back(f.key);
  EXPECT_EQ(keys, (std::vector<std::string>{(tmp / "lone.wav").generic_string(), "a.flac",
                                            "b.wav", "sub/a.WAV"}));
  EXPECT_EQ(files[3].path, tmp / "d" / "sub" / "a.WAV");
}

TEST(CollectAudioFiles, Errors) {
  TempDir tmp;
  fs::create_directories(tmp / "empty");
  write_text(tmp / "empty" / "readme.txt", "x");
  testing::write_test_wav(tmp / "d1" / "x.wav", 1.0, 1);
  testing::write_test_wav(tmp / "d2" / "x.wav", 1.0, 2);
  auto err = [&](std::vector<fs::path> in) {
    try {
      collect_audio_files(in);
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "expected UsageError";
    return std::string();
  };
  EXPECT_NE(err({tmp / "nope"}).find("nope: no such file"), std::string::npos);
  EXPECT_NE(err({tmp / "empty"}).find("holds no audio"), std::string::npos);
  EXPECT_NE(err({tmp / "d1", tmp / "d2"}).find("same key 'x.wav'"), std::string::npos);
}

TEST(EmbedFiles, DatasetFailuresAndShortFiles) {
  TempDir tmp;
  testing::write_test_wav(tmp / "d" / "a.wav", 3.0, 1);    // 3 instances
  testing::write_test_wav(tmp / "d" / "b.wav", 5.0, 2);    // 5
  testing::write_test_wav(tmp / "d" / "c.wav", 0.5, 3);    // 0: kept, warned
  write_text(tmp / "d" / "d.wav", "RIFF but not really");  // fails, named
  const auto emb = make_embedder("logmel-stats");
  const std::vector<fs::path> in = {tmp / "d"};
  std::size_t calls = 0;
  const auto r = embed_paths(in, *emb, {}, [&](std::size_t done, std::size_t total) {
    EXPECT_EQ(total, 4u);
    EXPECT_LE(done, total);
    ++calls;
  });
  EXPECT_EQ(calls, 4u);
  const auto& ds = r.dataset;
  EXPECT_EQ(ds.keys, (std::vector<std::string>{"a.wav", "b.wav", "c.wav"}));
  EXPECT_EQ(ds.n_instances, (std::vector<std::int32_t>{3, 5, 0}));
  EXPECT_EQ(ds.max_instances, 5);
  EXPECT_EQ(ds.dim, 128);
  EXPECT_EQ(ds.embedder, "logmel-stats");
  EXPECT_EQ(ds.num_classes(), 0);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_NE(r.failures[0].message.find("d.wav"), std::string::npos) << r.failures[0].message;
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("c.wav"), std::string::npos);
  EXPECT_NE(r.warnings[0].find("shorter than one 0.96 s example"), std::string::npos);
  // Rows equal the single-file embedding, zero-padded.
  const auto a = embed_file(*emb, tmp / "d" / "a.wav");
  EXPECT_TRUE(std::equal(a.features.begin(), a.features.end(), ds.x_u8.begin()));
  EXPECT_TRUE(std::all_of(ds.x_u8.begin() + 3 * 128, ds.x_u8.begin() + 5 * 128,
                          [](auto v) { return v == 0; }));
  EXPECT_NO_THROW(ds.validate("embedded"));
}

TEST(EmbedFiles, SameBytesWhateverTheThreadCount) {
  TempDir tmp;
  for (int i = 0; i < 7; ++i)
    testing::write_test_wav(tmp / "d" / fmt::format("f{}.wav", i), 1.0 + 0.7 * i, i);
  const auto emb = make_embedder("logmel-stats");
  const std::vector<fs::path> in = {tmp / "d"};
  EmbedOptions one;
  one.threads = 1;
  EmbedOptions three;
  three.threads = 3;
  three.batch_size = 5;
  const auto a = embed_paths(in, *emb, one);
  const auto b = embed_paths(in, *emb, three);
  EXPECT_EQ(a.dataset.keys, b.dataset.keys);
  EXPECT_EQ(a.dataset.x_u8, b.dataset.x_u8);
  EXPECT_EQ(a.dataset.n_instances, b.dataset.n_instances);
  EXPECT_EQ(a.dataset.max_instances, static_cast<std::int64_t>(expected_examples(1.0 + 0.7 * 6)));
}

TEST(EmbedFiles, MaxInstancesCapsKAndWarns) {
  TempDir tmp;
  testing::write_test_wav(tmp / "a.wav", 5.0, 1);
  testing::write_test_wav(tmp / "b.wav", 2.0, 2);
  const auto emb = make_embedder("logmel-stats");
  const std::vector<fs::path> in = {tmp / "a.wav", tmp / "b.wav"};
  EmbedOptions o;
  o.max_instances = 2;
  const auto r = embed_paths(in, *emb, o);
  EXPECT_EQ(r.dataset.max_instances, 2);
  EXPECT_EQ(r.dataset.n_instances, (std::vector<std::int32_t>{2, 2}));
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("kept the first 2"), std::string::npos) << r.warnings[0];
  EmbedOptions bad;
  bad.max_instances = -1;
  EXPECT_THROW(embed_paths(in, *emb, bad), UsageError);
}

TEST(EmbedFiles, EmbedderIsStoredInTheNpzAndNumpyReadsIt) {
  TempDir tmp;
  testing::write_test_wav(tmp / "a.wav", 2.0, 1);
  const auto emb = make_embedder("logmel-stats");
  const std::vector<fs::path> in = {tmp / "a.wav"};
  auto r = embed_paths(in, *emb);
  data::save_bags(tmp / "f.npz", r.dataset);
  const auto back = data::load_bags(tmp / "f.npz");
  EXPECT_EQ(back.embedder, "logmel-stats");
  EXPECT_EQ(back.x_u8, r.dataset.x_u8);
  r.dataset.embedder.clear();  // unknown: no array written
  data::save_bags(tmp / "g.npz", r.dataset);
  EXPECT_EQ(data::load_bags(tmp / "g.npz").embedder, "");
  if (!fs::exists("/usr/bin/python3")) GTEST_SKIP() << "/usr/bin/python3 not found";
  const std::string cmd =
      "/usr/bin/python3 -c \"import numpy as np, sys; z = np.load(sys.argv[1]); e = z['embedder'];"
      " sys.exit(0 if e.shape == () and e.item() == 'logmel-stats' and 'embedder' not in "
      "np.load(sys.argv[2]).files else 3)\" " +
      (tmp / "f.npz").string() + " " + (tmp / "g.npz").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

}  // namespace
}  // namespace tutti::embed
