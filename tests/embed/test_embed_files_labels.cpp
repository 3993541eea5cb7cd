// Weak labels (labels.csv) and instance truth (instances.csv) attached to embedded datasets.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "test_util.h"
#include "tutti/embed/embed_files.h"

namespace tutti::embed {
namespace {

using testing::TempDir;
using testing::error_of;
namespace fs = std::filesystem;

void write_text(const fs::path& p, const std::string& s) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << s;
}

// Three clips as embed_paths({DIR/audio}) would give them (keys relative to the folder).
struct Fixture {
  TempDir tmp;
  data::BagDataset ds;
  std::vector<fs::path> paths;
  Fixture() {
    ds = data::BagDataset::zeros(3, 4, 2, {}, data::FeatureType::kUint8);
    ds.keys = {"synth_000000.wav", "synth_000001.wav", "sub/x.flac"};
    ds.n_instances = {4, 2, 3};
    for (const auto& k : ds.keys) paths.push_back(tmp / "audio" / k);
  }
  fs::path csv(const std::string& text, const std::string& name = "labels.csv") {
    write_text(tmp / name, text);
    return tmp / name;
  }
};

TEST(WeakLabels, SynthFormatMatchedByFileName) {
  Fixture f;
  const auto csv = f.csv(
      "file,instrument,relevance\n"
      "synth_000000.wav,piano,1\n"
      "synth_000000.wav,violin,0\n"
      "synth_000001.wav,violin,0.75\n"
      "gone.wav,piano,1\n");
  const auto rep = attach_weak_labels(f.ds, f.paths, csv);
  EXPECT_EQ(f.ds.classes, (std::vector<std::string>{"piano", "violin"}));  // sorted
  EXPECT_EQ(f.ds.y_true, (std::vector<float>{1, 0, 0, 0.75f, 0, 0}));
  EXPECT_EQ(f.ds.y_mask, (std::vector<std::uint8_t>{1, 1, 0, 1, 0, 0}));
  EXPECT_EQ(rep.unlabeled, (std::vector<std::string>{"sub/x.flac"}));
  EXPECT_EQ(rep.unmatched_rows, 1);
  EXPECT_EQ(rep.unmatched_files, (std::vector<std::string>{"gone.wav"}));
  EXPECT_NO_THROW(f.ds.validate("labeled"));
}

TEST(WeakLabels, ColumnOrderClassListAndMatchingLevels) {
  Fixture f;
  // relative path from the CSV's folder, the key, and a stem (OpenMIC-style sample key).
  const auto csv = f.csv(
      "relevance,file,instrument\n"
      "1,audio/sub/x.flac,drums\n"
      "0,synth_000001.wav,piano\n"
      "1,synth_000000,piano\n");
  attach_weak_labels(f.ds, f.paths, csv, {"drums", "piano", "organ"});
  EXPECT_EQ(f.ds.classes, (std::vector<std::string>{"drums", "piano", "organ"}));
  EXPECT_EQ(f.ds.y_mask, (std::vector<std::uint8_t>{0, 1, 0, 0, 1, 0, 1, 0, 0}));
  EXPECT_EQ(f.ds.y_true, (std::vector<float>{0, 1, 0, 0, 0, 0, 1, 0, 0}));
}

TEST(WeakLabels, ErrorPathsNameTheFileAndLine) {
  Fixture f;
  auto err = [&](const std::string& text, std::vector<std::string> classes = {}) {
    return error_of([&] { attach_weak_labels(f.ds, f.paths, f.csv(text), classes); });
  };
  EXPECT_NE(error_of([&] { attach_weak_labels(f.ds, f.paths, f.tmp / "none.csv"); })
                .find("none.csv: no such file"),
            std::string::npos);
  EXPECT_NE(err("").find("empty"), std::string::npos);
  EXPECT_NE(err("file,instrument,relevance,extra\n").find("unknown column 'extra'"),
            std::string::npos);
  EXPECT_NE(err("file,instrument\nsynth_000000.wav,piano\n").find("missing column 'relevance'"),
            std::string::npos);
  const std::string range = err("file,instrument,relevance\nsynth_000000.wav,piano,1.5\n");
  EXPECT_NE(range.find("labels.csv:2: relevance 1.5 is outside [0, 1]"), std::string::npos)
      << range;
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano,-0.1\n").find("outside"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano,yes\n").find("not a number"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano,nan\n").find("not a number"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano,1\nsynth_000000.wav,piano,0\n")
                .find("labels.csv:3: 'synth_000000.wav' has two relevances"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,violn,1\n", {"violin"})
                .find("instrument 'violn' is not one of the classes"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\n,piano,1\n").find("empty file name"), std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,,1\n").find("empty instrument"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano\n").find("2 fields"),
            std::string::npos);
  // Two different names for one clip (by file name and by stem) are ambiguous.
  EXPECT_NE(err("file,instrument,relevance\nsynth_000000.wav,piano,1\nsynth_000000,piano,1\n")
                .find("both match the clip synth_000000.wav"),
            std::string::npos);
  // Identical duplicates are fine.
  EXPECT_NO_THROW(attach_weak_labels(
      f.ds, f.paths,
      f.csv("file,instrument,relevance\nsynth_000000.wav,piano,1\nsynth_000000.wav,piano,1\n")));
}

TEST(InstanceTruth, SetsActivePairsAndDropsRowsBeyondTheClip) {
  Fixture f;
  attach_weak_labels(f.ds, f.paths,
                     f.csv("file,instrument,relevance\nsynth_000000.wav,piano,1\n"
                           "synth_000000.wav,violin,1\nsynth_000001.wav,violin,1\n"));
  const auto inst = f.csv(
      "file,instance,onset_s,offset_s,instrument\n"
      "synth_000000.wav,0,0.00,0.96,piano\n"
      "synth_000000.wav,3,2.88,3.84,violin\n"
      "synth_000001.wav,1,0.96,1.92,violin\n"
      "synth_000001.wav,2,1.92,2.88,violin\n"  // the clip has 2 instances: dropped
      "other.wav,0,0,0.96,piano\n",
      "instances.csv");
  const auto rep = attach_instance_truth(f.ds, inst, f.paths);
  EXPECT_EQ(rep.rows, 5);
  EXPECT_EQ(rep.set, 3);
  EXPECT_EQ(rep.dropped_beyond_clip, 1);
  EXPECT_EQ(rep.unmatched_rows, 1);
  ASSERT_EQ(f.ds.y_instance.size(), 3u * 4 * 2);
  auto at = [&](int i, int t, int c) { return f.ds.y_instance[(i * 4 + t) * 2 + c]; };
  EXPECT_EQ(at(0, 0, 0), 1);
  EXPECT_EQ(at(0, 3, 1), 1);
  EXPECT_EQ(at(1, 1, 1), 1);
  EXPECT_EQ(std::count(f.ds.y_instance.begin(), f.ds.y_instance.end(), 1), 3);
  EXPECT_NO_THROW(f.ds.validate("with truth"));
}

TEST(InstanceTruth, ClassesFromTheCsvWhenTheDatasetHasNone) {
  Fixture f;
  const auto inst = f.csv("file,instance,instrument\nsynth_000000.wav,1,organ\n", "i.csv");
  attach_instance_truth(f.ds, inst);  // no paths: key / name / stem matching
  EXPECT_EQ(f.ds.classes, (std::vector<std::string>{"organ"}));
  EXPECT_EQ(f.ds.y_mask, (std::vector<std::uint8_t>{0, 0, 0}));
  EXPECT_EQ(f.ds.y_instance[1], 1);
  EXPECT_NO_THROW(f.ds.validate("truth only"));
}

TEST(InstanceTruth, Errors) {
  Fixture f;
  f.ds.classes = {"piano"};
  f.ds.y_true.assign(3, 0);
  f.ds.y_mask.assign(3, 0);
  auto err = [&](const std::string& text) {
    return error_of([&] { attach_instance_truth(f.ds, f.csv(text, "i.csv"), f.paths); });
  };
  EXPECT_NE(err("file,instrument\n").find("missing column 'instance'"), std::string::npos);
  EXPECT_NE(err("file,instance,instrument\nsynth_000000.wav,-1,piano\n")
                .find("i.csv:2: instance '-1' is not a non-negative integer"),
            std::string::npos);
  EXPECT_NE(err("file,instance,instrument\nsynth_000000.wav,1.5,piano\n").find("non-negative"),
            std::string::npos);
  EXPECT_NE(err("file,instance,instrument\nsynth_000000.wav,1,tuba\n")
                .find("instrument 'tuba' is not one of the classes (piano)"),
            std::string::npos);
  EXPECT_NE(error_of([&] { attach_instance_truth(f.ds, f.tmp / "nope.csv"); }).find("no such file"),
            std::string::npos);
}

}  // namespace
}  // namespace tutti::embed
