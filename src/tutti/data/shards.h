// Training data larger than memory: a list of shard datasets (bag .npz files) streamed from
// memory-mapped files, and the manifest `tutti embed` writes for the shards of a distributed run.
//
//   auto paths = tutti::data::resolve_shards("feats/*.npz");        // or "feats/manifest.json"
//   tutti::data::ShardStream stream(paths, /*window_shards=*/4);    // headers checked, none mapped
//   for (const auto& ids : stream.epoch_windows(seed, epoch)) {
//     tutti::data::StreamWindow w(stream, ids);  // maps these shards only
//     auto batch = w.gather(rows);               // a small in-memory BagDataset
//   }                                            // pages dropped, files unmapped
//
// A shard is an ordinary bag .npz (bag_io.h) whose entries are stored, not deflated (tutti and
// numpy.savez write them so; numpy.savez_compressed does not): the arrays are read in place from
// a read-only mapping. X is '|u1' or '<f4'; n_instances '<i4' or '<i8' (absent: every clip has K
// instances); Y_true '<f4' or '<f8'; Y_mask '|b1' or '|u1'. A shard's pages count against the
// process only while its window is open: StreamWindow drops them (madvise MADV_DONTNEED) and
// unmaps the file when it closes.
//
// Epoch order (docs/distributed.md, "Streamed training data"): epoch e permutes the shards with a
// std::mt19937_64 seeded by derive_seed(seed, e, kShardOrderStream) and cuts that permutation
// into windows of window_shards consecutive shards. A window's clips with at least one instance,
// listed shard by shard in window order and row order within a shard, are then shuffled by the
// trainer's own batch-order generator (the one in-memory training uses), and cut into batches.
// So a single shard trains exactly as the same clips held in memory.
//
// Shards must agree in classes (names and order), feature dimension D and feature type; K may
// differ (a batch pads to the largest K). A shard that disagrees is a tutti::Error naming it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::data {

// The stream of derive_seed for the shard order (core/random.h).
inline constexpr std::uint64_t kShardOrderStream = 0x5AA2D5;

// The shard files a spec names, in sorted path order: a manifest (*.json, shards relative to its
// folder), a glob whose last path component holds '*' or '?' (e.g. 'feats/*.npz'), or one .npz.
// Throws tutti::UsageError naming the spec when nothing matches or a listed shard is missing.
std::vector<std::filesystem::path> resolve_shards(const std::string& spec);

// What a shard holds, read from its headers (X's payload untouched).
struct ShardHeader {
  std::filesystem::path path;
  std::uint64_t bytes = 0;  // file size
  std::int64_t n = 0, k = 0, d = 0;
  FeatureType feature_type = FeatureType::kUint8;
  std::vector<std::string> classes;
  std::string embedder;
};

// One shard file mapped read-only; its arrays point into the mapping.
class MappedShard {
 public:
  // Throws tutti::Error "<file>: ..." for a missing or unreadable file, a zip without the bag
  // arrays, a deflated entry, or an array of the wrong dtype or shape.
  explicit MappedShard(const std::filesystem::path& path);
  ~MappedShard();
  MappedShard(const MappedShard&) = delete;
  MappedShard& operator=(const MappedShard&) = delete;

  const ShardHeader& header() const { return header_; }
  const std::uint8_t* x_u8() const { return x_u8_; }  // [N,K,D] when uint8
  const float* x_f32() const { return x_f32_; }       // [N,K,D] when float32
  std::int32_t n_instances(std::int64_t i) const;
  float y_true(std::int64_t i, std::int64_t c) const;
  bool y_mask(std::int64_t i, std::int64_t c) const { return y_mask_[i * c_ + c] != 0; }
  // Gives the mapped pages back to the kernel (they are read again from the file when touched).
  void drop_pages() const;

 private:
  ShardHeader header_;
  void* map_ = nullptr;
  std::size_t map_bytes_ = 0;
  std::int64_t c_ = 0;
  const std::uint8_t* x_u8_ = nullptr;
  const float* x_f32_ = nullptr;
  const std::uint8_t* n_inst_ = nullptr;
  int n_inst_size_ = 0;  // 0 = absent (K each), 4 or 8
  const std::uint8_t* y_true_ = nullptr;
  int y_true_size_ = 4;
  const std::uint8_t* y_mask_ = nullptr;
};

// Reads the headers of every shard (each mapped briefly, X untouched) and checks that they agree.
class ShardStream {
 public:
  // window_shards >= 1 (UsageError otherwise). Throws for no shards or a shard that disagrees.
  ShardStream(std::vector<std::filesystem::path> paths, int window_shards);

  const std::vector<ShardHeader>& shards() const { return shards_; }
  int window_shards() const { return window_shards_; }
  std::int64_t clips() const;  // all clips, empty ones included
  // An empty dataset with the stream's shape: K = the largest K, D, classes, feature type,
  // embedder (what model specs and model files are made from).
  const BagDataset& like() const { return like_; }
  // The shard indices of each window of epoch `epoch` (1-based), in order (see above).
  std::vector<std::vector<std::size_t>> epoch_windows(std::uint64_t seed, int epoch) const;
  // A digest of the shard list (file names, sizes, clip counts, window): what every rank of a
  // distributed run must agree on, cheap to compute on any size.
  std::string digest() const;

 private:
  std::vector<ShardHeader> shards_;
  int window_shards_ = 1;
  BagDataset like_;
};

// The shards of one window, mapped while the object lives.
class StreamWindow {
 public:
  StreamWindow(const ShardStream& stream, std::span<const std::size_t> shard_ids);
  ~StreamWindow();
  StreamWindow(const StreamWindow&) = delete;
  StreamWindow& operator=(const StreamWindow&) = delete;

  // Clips with at least one instance, in window order (see above).
  std::int64_t size() const { return static_cast<std::int64_t>(rows_.size()); }
  std::int32_t n_instances(std::int64_t i) const;
  // Y_mask entries set over the clips `rows` of this window.
  std::int64_t known_labels(std::span<const std::int64_t> rows) const;
  // Clips rows[j] of this window as an in-memory dataset of the stream's shape (K = the stream's
  // K; keys "<shard file>:<row>").
  BagDataset gather(std::span<const std::int64_t> rows) const;

 private:
  struct Row {
    std::uint32_t shard;  // index into shards_
    std::int64_t row;
  };
  const ShardStream& stream_;
  std::vector<std::unique_ptr<MappedShard>> shards_;
  std::vector<Row> rows_;
};

// `ds` with K = k >= ds.max_instances (zero padding; Y_instance padded with 0 too).
BagDataset pad_instances(const BagDataset& ds, std::int64_t k);

// ---- manifest -----------------------------------------------------------------------------------

// OUT/manifest.json of a sharded dataset (docs/distributed.md, "Sharded embedding").
struct ShardEntry {
  std::string file;  // relative to the manifest's folder
  std::int64_t clips = 0;
  std::int64_t max_instances = 0;
  std::uint64_t bytes = 0;
  std::string md5;  // of the file
};
struct ShardManifest {
  std::string embedder;
  std::vector<std::string> classes;
  std::int64_t dim = 0;
  std::vector<ShardEntry> shards;

  std::int64_t clips() const;
  core::Json to_json() const;
  // Throws tutti::Error "<what>: ..." for a wrong format or missing field.
  static ShardManifest from_json(const core::Json& j, const std::string& what);
};
ShardManifest read_shard_manifest(const std::filesystem::path& path);
void write_shard_manifest(const std::filesystem::path& path, const ShardManifest& m);  // atomic

// "shard-00003-of-00016.npz"
std::string shard_file_name(int rank, int world);

// [begin, end) of n sorted items that rank `rank` of `world` takes: contiguous, sizes differing by
// at most one, in rank order.
std::pair<std::size_t, std::size_t> rank_slice(std::size_t n, int rank, int world);

// A written shard's record, `<shard>.json` next to it: a manifest of that one shard plus
// "inputs", a digest of what it was made from (files, options). Written atomically after the
// shard, so a complete record means a complete shard.
void write_shard_record(const std::filesystem::path& shard, const std::string& inputs);
// The record of `shard` when the shard is complete and current: the record exists, names the
// same inputs digest, and the file has the recorded size and MD5. std::nullopt otherwise.
std::optional<ShardManifest> completed_shard(const std::filesystem::path& shard,
                                             const std::string& inputs);
// The manifest of the shards whose records exist in `dir` among `files` (in that order). Throws
// naming the shard whose classes, dimension or embedder differ from the first's.
ShardManifest manifest_from_records(const std::filesystem::path& dir,
                                    const std::vector<std::string>& files);

// Every shard of a manifest in one in-memory dataset (shard order; K = the largest K), checking
// each shard's size and MD5 against the manifest first. Throws naming the shard that differs.
BagDataset merge_shards(const std::filesystem::path& manifest);

}  // namespace tutti::data
