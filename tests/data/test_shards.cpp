// Shard datasets: arrays read in place from memory-mapped .npz files (written by numpy and by
// tutti) equal what load_bags reads; the epoch order; windows; manifests and shard records.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <set>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/shards.h"

namespace fs = std::filesystem;
using namespace tutti::data;
using tutti::testing::error_of;
using tutti::testing::fixture;
using tutti::testing::TempDir;

namespace {

// Every value MappedShard serves equals load_bags' copy of the same file.
void expect_same_as_loaded(const fs::path& file) {
  const BagDataset ds = load_bags(file);
  const MappedShard m(file);
  const ShardHeader& h = m.header();
  ASSERT_EQ(h.n, ds.size()) << file;
  EXPECT_EQ(h.k, ds.max_instances);
  EXPECT_EQ(h.d, ds.dim);
  EXPECT_EQ(h.classes, ds.classes);
  EXPECT_EQ(h.feature_type, ds.feature_type);
  EXPECT_EQ(h.bytes, fs::file_size(file));
  const auto cells = static_cast<std::size_t>(ds.size() * ds.max_instances * ds.dim);
  if (ds.feature_type == FeatureType::kUint8)
    EXPECT_TRUE(std::equal(ds.x_u8.begin(), ds.x_u8.end(), m.x_u8())) << file;
  else
    EXPECT_TRUE(std::equal(ds.x_f32.begin(), ds.x_f32.begin() + cells, m.x_f32())) << file;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    EXPECT_EQ(m.n_instances(i), ds.n_instances[i]);
    for (std::int64_t c = 0; c < ds.num_classes(); ++c) {
      EXPECT_EQ(m.y_true(i, c), ds.label(i, c));
      EXPECT_EQ(m.y_mask(i, c), ds.known(i, c));
    }
  }
}

// Clips [begin, end) of `ds`.
BagDataset rows(const BagDataset& ds, std::int64_t begin, std::int64_t end) {
  std::vector<std::int64_t> idx(static_cast<std::size_t>(end - begin));
  std::iota(idx.begin(), idx.end(), begin);
  return ds.subset(idx);
}

}  // namespace

TEST(Shards, MappedArraysEqualLoadedOnes) {
  // numpy.savez (stored entries, zip64 extra fields), `zip -fz -0` (zip64 end records), numpy's
  // OpenMIC layout (Y_true float64, no n_instances or classes) and tutti's own writer.
  for (const char* name : {"npz/bags_u8.npz", "npz/bags_zip64_cd.npz", "train/train_small.npz"})
    expect_same_as_loaded(fixture(name));
  TempDir dir;
  BagDataset f = load_bags(fixture("npz/bags_f32_deflated.npz"));
  save_bags(dir / "f32.npz", f);
  expect_same_as_loaded(dir / "f32.npz");
}

TEST(Shards, DeflatedEntriesAndBrokenFilesNameTheFile) {
  auto msg = error_of([] { MappedShard m(fixture("npz/bags_f32_deflated.npz")); });
  EXPECT_NE(msg.find("bags_f32_deflated.npz: entry '"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is compressed; streamed shards need stored entries"), std::string::npos)
      << msg;
  msg = error_of([] { MappedShard m(fixture("npz/bad_zip.npz")); });
  EXPECT_NE(msg.find("bad_zip.npz: not a readable zip archive"), std::string::npos) << msg;
  msg = error_of([] { MappedShard m(fixture("npz/bad_missing_x.npz")); });
  EXPECT_NE(msg.find("bad_missing_x.npz: missing array 'X'"), std::string::npos) << msg;
  msg = error_of([] { MappedShard m("/nonexistent/shard.npz"); });
  EXPECT_NE(msg.find("/nonexistent/shard.npz: cannot open"), std::string::npos) << msg;
}

TEST(Shards, ResolvesGlobsManifestsAndSingleFiles) {
  TempDir dir;
  const BagDataset ds = load_bags(fixture("train/train_small.npz"));
  for (const char* name : {"b-1.npz", "a-0.npz", "c-2.npz"}) save_bags(dir / name, rows(ds, 0, 4));
  std::ofstream(dir / "notes.txt") << "x";
  const auto got = resolve_shards((dir / "*-?.npz").string());
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].filename(), "a-0.npz");
  EXPECT_EQ(got[2].filename(), "c-2.npz");
  EXPECT_EQ(resolve_shards((dir / "b-1.npz").string()).size(), 1u);
  auto msg = error_of([&] { resolve_shards((dir / "*.bin").string()); });
  EXPECT_NE(msg.find("*.bin: no file matches"), std::string::npos) << msg;
  EXPECT_THROW(resolve_shards((dir / "none.npz").string()), tutti::UsageError);

  ShardManifest m;
  m.classes = ds.classes;
  m.dim = ds.dim;
  m.shards = {{"c-2.npz", 4, 10, 0, ""}, {"gone.npz", 4, 10, 0, ""}};
  write_shard_manifest(dir / "manifest.json", m);
  msg = error_of([&] { resolve_shards((dir / "manifest.json").string()); });
  EXPECT_NE(msg.find("gone.npz is missing"), std::string::npos) << msg;
  m.shards.pop_back();
  write_shard_manifest(dir / "manifest.json", m);
  EXPECT_EQ(resolve_shards((dir / "manifest.json").string()).front().filename(), "c-2.npz");
  std::ofstream(dir / "bad.json") << R"({"format": "other"})";
  msg = error_of([&] { resolve_shards((dir / "bad.json").string()); });
  EXPECT_NE(msg.find("bad.json: not a tutti shard manifest"), std::string::npos) << msg;
}

TEST(Shards, ShardsThatDisagreeAreNamed) {
  TempDir dir;
  const BagDataset ds = load_bags(fixture("train/train_small.npz"));
  save_bags(dir / "a.npz", rows(ds, 0, 10));
  BagDataset renamed = rows(ds, 10, 20);
  renamed.classes.back() = "other";
  save_bags(dir / "b.npz", renamed);
  auto msg = error_of([&] { ShardStream s({dir / "a.npz", dir / "b.npz"}, 1); });
  EXPECT_NE(msg.find("b.npz: classes differ from"), std::string::npos) << msg;
  BagDataset wide =
      BagDataset::zeros(3, ds.max_instances, ds.dim + 4, ds.classes, FeatureType::kUint8);
  save_bags(dir / "c.npz", wide);
  msg = error_of([&] { ShardStream s({dir / "a.npz", dir / "c.npz"}, 1); });
  EXPECT_NE(msg.find("c.npz: feature dimension D = 20 differs from"), std::string::npos) << msg;
  EXPECT_THROW(ShardStream({dir / "a.npz"}, 0), tutti::UsageError);
}

TEST(Shards, EpochWindowsPartitionASeededShardOrder) {
  TempDir dir;
  const BagDataset ds = load_bags(fixture("train/train_small.npz"));
  std::vector<fs::path> paths;
  for (int i = 0; i < 7; ++i) {
    // Built piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
    std::string name = "s";
    name += std::to_string(i);
    name += ".npz";
    paths.push_back(dir / name);
    save_bags(paths.back(), rows(ds, i * 10, i * 10 + 10));
  }
  const ShardStream s(paths, 3);
  EXPECT_EQ(s.clips(), 70);
  const auto w1 = s.epoch_windows(5, 1);
  ASSERT_EQ(w1.size(), 3u);  // 3 + 3 + 1
  EXPECT_EQ(w1[0].size(), 3u);
  EXPECT_EQ(w1[2].size(), 1u);
  std::set<std::size_t> all;
  for (const auto& w : w1) all.insert(w.begin(), w.end());
  EXPECT_EQ(all.size(), 7u);
  EXPECT_EQ(s.epoch_windows(5, 1), w1);  // deterministic
  EXPECT_NE(s.epoch_windows(5, 2), w1);  // a new order each epoch
  EXPECT_NE(s.epoch_windows(6, 1), w1);  // and for each seed
  const ShardStream one({paths[0]}, 4);
  EXPECT_EQ(one.epoch_windows(5, 3), (std::vector<std::vector<std::size_t>>{{0}}));
}

TEST(Shards, WindowsGatherTheirNonEmptyClipsPaddedToTheLargestK) {
  TempDir dir;
  BagDataset a = load_bags(fixture("train/train_small.npz"));
  a = rows(a, 0, 12);
  a.n_instances[3] = 0;  // an empty clip is skipped, as in memory
  std::fill_n(a.x_u8.begin() + 3 * a.max_instances * a.dim, a.max_instances * a.dim, 0);
  save_bags(dir / "a.npz", a);
  BagDataset b = pad_instances(rows(load_bags(fixture("train/train_small.npz")), 20, 25), 13);
  save_bags(dir / "b.npz", b);
  const ShardStream s({dir / "a.npz", dir / "b.npz"}, 2);
  EXPECT_EQ(s.like().max_instances, 13);
  const std::vector<std::size_t> ids = {1, 0};  // b first
  const StreamWindow w(s, ids);
  ASSERT_EQ(w.size(), 5 + 11);
  const std::vector<std::int64_t> pick = {0, 4, 5, 7, 15};
  const BagDataset g = w.gather(pick);
  // Window rows: b's 5 clips, then a's clips 0, 1, 2, 4, ..., 11.
  const std::vector<std::int64_t> a_rows = {0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11};
  const BagDataset expect_b = b;
  const BagDataset expect_a = pad_instances(a, 13);
  for (std::size_t j = 0; j < pick.size(); ++j) {
    const bool from_b = pick[j] < 5;
    const BagDataset& src = from_b ? expect_b : expect_a;
    const std::int64_t r = from_b ? pick[j] : a_rows[static_cast<std::size_t>(pick[j] - 5)];
    const std::int64_t cells = 13 * src.dim;
    EXPECT_TRUE(std::equal(g.x_u8.begin() + static_cast<std::ptrdiff_t>(j) * cells,
                           g.x_u8.begin() + static_cast<std::ptrdiff_t>(j + 1) * cells,
                           src.x_u8.begin() + r * cells))
        << "clip " << j;
    EXPECT_EQ(g.n_instances[j], src.n_instances[static_cast<std::size_t>(r)]);
    for (std::int64_t c = 0; c < src.num_classes(); ++c) {
      EXPECT_EQ(g.label(static_cast<std::int64_t>(j), c), src.label(r, c));
      EXPECT_EQ(g.known(static_cast<std::int64_t>(j), c), src.known(r, c));
    }
    EXPECT_EQ(w.n_instances(pick[j]), src.n_instances[static_cast<std::size_t>(r)]);
  }
  EXPECT_EQ(g.keys[0], "b.npz:0");
  EXPECT_NO_THROW(g.validate("gathered"));
  EXPECT_THROW(w.gather(std::vector<std::int64_t>{16}), tutti::Error);
}

TEST(Shards, RecordsManifestsAndMerging) {
  TempDir dir;
  const BagDataset ds = load_bags(fixture("train/train_small.npz"));
  const std::vector<std::string> names = {shard_file_name(0, 2), shard_file_name(1, 2)};
  EXPECT_EQ(names[1], "shard-00001-of-00002.npz");
  save_bags(dir / names[0], rows(ds, 0, 7));
  save_bags(dir / names[1], pad_instances(rows(ds, 7, 10), 12));
  EXPECT_FALSE(completed_shard(dir / names[0], "in0"));  // no record yet
  write_shard_record(dir / names[0], "in0");
  write_shard_record(dir / names[1], "in1");
  ASSERT_TRUE(completed_shard(dir / names[0], "in0"));
  EXPECT_FALSE(completed_shard(dir / names[0], "other inputs"));
  const ShardManifest m = manifest_from_records(dir.path(), names);
  ASSERT_EQ(m.shards.size(), 2u);
  EXPECT_EQ(m.clips(), 10);
  EXPECT_EQ(m.shards[1].max_instances, 12);
  EXPECT_EQ(m.shards[0].md5, tutti::core::md5_file_hex(dir / names[0]));
  write_shard_manifest(dir / "manifest.json", m);
  const ShardManifest back = read_shard_manifest(dir / "manifest.json");
  EXPECT_EQ(back.to_json(), m.to_json());

  const BagDataset merged = merge_shards(dir / "manifest.json");
  const BagDataset expect = pad_instances(rows(ds, 0, 10), 12);
  EXPECT_EQ(merged.x_u8, expect.x_u8);
  EXPECT_EQ(merged.n_instances, expect.n_instances);
  EXPECT_EQ(merged.y_true, expect.y_true);
  EXPECT_EQ(merged.keys, expect.keys);

  // A shard changed after its record: not complete, and merging names it.
  save_bags(dir / names[1], rows(ds, 20, 23));
  EXPECT_FALSE(completed_shard(dir / names[1], "in1"));
  const auto msg = error_of([&] { merge_shards(dir / "manifest.json"); });
  EXPECT_NE(msg.find(names[1]), std::string::npos) << msg;
}

TEST(Shards, RankSlicesCoverTheListOnce) {
  for (std::size_t n : {0u, 1u, 5u, 17u})
    for (int w : {1, 2, 3, 8}) {
      std::size_t next = 0;
      for (int r = 0; r < w; ++r) {
        const auto [b, e] = rank_slice(n, r, w);
        EXPECT_EQ(b, next);
        EXPECT_LE(e - b, n / static_cast<std::size_t>(w) + 1);
        next = e;
      }
      EXPECT_EQ(next, n);
    }
  EXPECT_THROW(rank_slice(4, 2, 2), tutti::UsageError);
}
