// pipelines::write_embedded_synth_dataset (`tutti synth --embed`): dataset.npz shapes, labels and
// Y_instance against the CSVs, noise-only pools, atomicity on failure.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>

#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/pipelines/synth_dataset.h"
#include "tutti/synth/instruments.h"

namespace {

namespace fs = std::filesystem;
const std::string kTim = "/usr/share/sounds/sf2/TimGM6mb.sf2";

tutti::synth::SynthConfig tiny() {
  tutti::synth::SynthConfig c;
  c.soundfont = kTim;
  c.n_clips = 4;
  c.duration_s = 4.0;
  c.sample_rate_hz = 16000;
  c.seed = 3;
  c.threads = 2;
  return c;
}

std::vector<std::vector<std::string>> read_csv(const fs::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(tutti::core::read_file_text(p));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    rows.push_back(cells);
  }
  return rows;
}

std::int64_t class_index(const tutti::data::BagDataset& ds, const std::string& name) {
  for (std::int64_t c = 0; c < ds.num_classes(); ++c)
    if (ds.classes[c] == name) return c;
  ADD_FAILURE() << "no class " << name;
  return -1;
}

TEST(SynthEmbed, DatasetMatchesTheCsvs) {
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim;
  tutti::testing::TempDir tmp;
  tutti::pipelines::SynthEmbedOptions o;
  o.threads = 2;
  const auto s = tutti::pipelines::write_embedded_synth_dataset(tiny(), tmp / "out", o);
  const auto ds = tutti::data::load_bags(tmp / "out" / "dataset.npz");
  ASSERT_EQ(ds.size(), 4);
  EXPECT_EQ(ds.max_instances, 4);  // floor(4 / 0.96)
  EXPECT_EQ(ds.dim, 128);
  EXPECT_EQ(ds.embedder, "logmel-stats");
  ASSERT_EQ(ds.num_classes(), 20);
  for (std::size_t c = 0; c < 20; ++c)
    EXPECT_EQ(ds.classes[c], tutti::synth::instrument_classes()[c].name);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(ds.keys[i], "synth_00000" + std::to_string(i) + ".wav");
  ASSERT_TRUE(ds.has_instance_labels());
  EXPECT_EQ(s.clips, 4);
  // Weak labels: exactly the rows of labels.csv are known; mandolin / ukulele never.
  std::set<std::tuple<std::string, std::string>> known;
  for (const auto& r : read_csv(tmp / "out" / "labels.csv")) {
    known.insert({r[0], r[1]});
    std::int64_t i = std::stoi(r[0].substr(6, 6));
    EXPECT_TRUE(ds.known(i, class_index(ds, r[1])));
    EXPECT_EQ(ds.label(i, class_index(ds, r[1])), std::stof(r[2]));
  }
  std::int64_t n_known = 0;
  for (auto m : ds.y_mask) n_known += m;
  EXPECT_EQ(n_known, static_cast<std::int64_t>(known.size()));
  for (std::int64_t i = 0; i < 4; ++i) {
    EXPECT_FALSE(ds.known(i, class_index(ds, "mandolin")));
    EXPECT_FALSE(ds.known(i, class_index(ds, "ukulele")));
  }
  // Y_instance: the ones are exactly the rows of instances.csv.
  std::set<std::tuple<std::int64_t, std::int64_t, std::int64_t>> rows, ones;
  for (const auto& r : read_csv(tmp / "out" / "instances.csv"))
    rows.insert({std::stoi(r[0].substr(6, 6)), std::stoi(r[1]), class_index(ds, r[4])});
  for (std::int64_t i = 0; i < 4; ++i)
    for (std::int64_t t = 0; t < 4; ++t)
      for (std::int64_t c = 0; c < 20; ++c)
        if (ds.y_instance[(i * 4 + t) * 20 + c]) {
          ones.insert({i, t, c});
          EXPECT_TRUE(ds.positive(i, c)) << "active instance of an absent class";
        }
  EXPECT_FALSE(rows.empty());
  EXPECT_EQ(rows, ones);
  EXPECT_EQ(s.active_instance_cells, static_cast<std::int64_t>(ones.size()));
  const auto meta = tutti::core::read_json_file(tmp / "out" / "synth.json");
  EXPECT_EQ(meta["dataset"]["embedder"], "logmel-stats");
  // Only the finished folder is left.
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(SynthEmbed, NoiseOnlyPoolHasEveryLabelKnownAbsent) {
  tutti::testing::TempDir tmp;
  auto cfg = tiny();
  cfg.n_clips = 3;
  cfg.soundfont = "/nonexistent.sf2";  // not needed
  cfg.noise_color = tutti::synth::NoiseColor::kPink;
  tutti::pipelines::SynthEmbedOptions o;
  o.noise_only = true;
  tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "noise", o);
  const auto ds = tutti::data::load_bags(tmp / "noise" / "dataset.npz");
  ASSERT_EQ(ds.size(), 3);
  EXPECT_EQ(ds.keys[0], "noise_000000.wav");
  for (auto m : ds.y_mask) EXPECT_EQ(m, 1);
  for (auto y : ds.y_true) EXPECT_EQ(y, 0.0f);
  for (auto y : ds.y_instance) EXPECT_EQ(y, 0);
  EXPECT_EQ(tutti::core::read_json_file(tmp / "noise" / "synth.json")["noise_only"], true);
}

TEST(SynthEmbed, FailureAfterRenderingLeavesNoFolder) {
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim;
  tutti::testing::TempDir tmp;
  tutti::pipelines::SynthEmbedOptions o;
  bool called = false;
  o.before_publish = [&](const fs::path& staged) {
    called = true;
    EXPECT_TRUE(fs::exists(staged / "dataset.npz"));
    tutti::fail("injected failure");
  };
  auto cfg = tiny();
  cfg.n_clips = 2;
  EXPECT_THROW(tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "out", o), tutti::Error);
  EXPECT_TRUE(called);
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  // With an old folder and overwrite: the old one stays untouched.
  fs::create_directories(tmp / "out");
  tutti::core::write_file_atomic(tmp / "out" / "old.txt", "old");
  EXPECT_THROW(tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "out", o, true), tutti::Error);
  EXPECT_TRUE(fs::exists(tmp / "out" / "old.txt"));
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 1);
}

TEST(SynthEmbed, BadEmbedderAndExistingFolderFailBeforeRendering) {
  tutti::testing::TempDir tmp;
  tutti::pipelines::SynthEmbedOptions o;
  o.embedder = "no-such-embedder";
  auto cfg = tiny();
  try {
    tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "out", o);
    ADD_FAILURE() << "no error";
  } catch (const tutti::UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("no-such-embedder"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(fs::is_empty(tmp.path()));
  fs::create_directories(tmp / "exists");
  o.embedder = "logmel-stats";
  EXPECT_THROW(tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "exists", o),
               tutti::UsageError);
  o.threads = -1;
  EXPECT_THROW(tutti::pipelines::write_embedded_synth_dataset(cfg, tmp / "x", o), tutti::UsageError);
}

}  // namespace
