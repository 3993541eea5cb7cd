// Readers for the OpenMIC-2018 release (Humphrey, Durand & McFee, ISMIR 2018; zenodo 1432913).
//
// Release folder layout (ROOT = the unpacked openmic-2018/ folder):
//   ROOT/openmic-2018.npz                      X (20000, 10, 128), Y_true, Y_mask, sample_key
//   ROOT/class-map.json                        {"accordion": 0, ..., "voice": 19}
//   ROOT/partitions/split01_{train,test}.csv   one sample key per line, no header
//   ROOT/openmic-2018-aggregated-labels.csv    sample_key,instrument,relevance,num_responses
//   ROOT/vggish/<key[:3]>/<key>.json           {"time_points": [...], "features": [[...] x 10]}
//   ROOT/audio/<key[:3]>/<key>.ogg
// plus the official md5 lists openmic-2018-vggish.csv / openmic-2018-audio.csv (",md5" header,
// then "<key>,<md5>" rows).
//
//   auto train = tutti::data::read_openmic_release(root, "train");   // 14,915 clips
//   auto idx = tutti::data::read_train_val_indices(split_file);      // AttentionMIC split
//   auto report = tutti::data::verify_openmic_release(root, md5_csv, OpenmicFiles::kVggish);
//
// Every failure throws tutti::Error naming the file (and the line for CSV files) and the bad
// value.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/data/clip_cut.h"

namespace tutti::data {

// The 20 OpenMIC-2018 instrument classes, in class-map.json order (index 0 = accordion).
std::vector<std::string> openmic_classes();

// class-map.json {"name": index, ...} -> names ordered by index. Indices must be exactly
// 0..C-1, each once.
std::vector<std::string> read_class_map(const std::filesystem::path& path);

// A partition file (split01_train.csv): one sample key per line, no header. Throws on an empty
// or repeated key or a line with more than one field.
std::vector<std::string> read_key_list(const std::filesystem::path& path);

// ROOT/openmic-2018.npz restricted to the clips of ROOT/partitions/<partition>_<split>.csv
// (split "train" or "test"), or all clips (split "all"). Rows keep the npz order. Classes come
// from ROOT/class-map.json when present, else openmic_classes(). A key of the CSV that is not in
// the npz is an error naming the CSV, its line and the key. An unknown split throws UsageError.
BagDataset read_openmic_release(const std::filesystem::path& root, const std::string& split,
                                const std::string& partition = "split01");

// The AttentionMIC train/validation split (attentionmic_train_val.split): an npz with int64
// arrays `train` and `val` of row indices into the split01 training set (in npz row order).
// Checks every index is in [0, num_train_rows), none repeats and the two sets are disjoint.
inline constexpr std::int64_t kOpenmicSplit01TrainSize = 14915;
struct TrainValIndices {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> val;
};
TrainValIndices read_train_val_indices(const std::filesystem::path& path,
                                       std::int64_t num_train_rows = kOpenmicSplit01TrainSize);

// --- per-clip layout ----------------------------------------------------------------------------

// One per-clip VGGish JSON: features [frames, dim] uint8 (row-major) with their start times.
struct VggishClip {
  std::vector<double> time_points_s;   // [frames], seconds from the clip start
  std::vector<std::uint8_t> features;  // [frames * dim]
  std::int64_t frames = 0;
  std::int64_t dim = 0;
};
// Parses the JSON text; `what` names it in errors. Requires "features" (a list of equally long
// lists of integers in [0, 255]) and "time_points" (one number per feature row).
VggishClip parse_vggish_json(std::string_view text, const std::string& what);
VggishClip read_vggish_json(const std::filesystem::path& path);

std::filesystem::path openmic_vggish_path(const std::filesystem::path& root,
                                          const std::string& key);
std::filesystem::path openmic_audio_path(const std::filesystem::path& root, const std::string& key);

// One row of openmic-2018-aggregated-labels.csv.
struct AggregatedLabel {
  std::string key;
  std::string instrument;
  float relevance = 0.0f;  // in [0, 1]
  std::int64_t num_responses = 0;
  std::int64_t line = 0;  // in the CSV, for error messages
};
// Columns are found by header name (sample_key, instrument, relevance, num_responses). Throws
// "<what>:<line>: ..." for missing columns, short rows, relevance outside [0, 1] or not a number.
std::vector<AggregatedLabel> parse_aggregated_labels(std::string_view text,
                                                     const std::string& what);
std::vector<AggregatedLabel> read_aggregated_labels(const std::filesystem::path& path);

// Builds a BagDataset from ROOT/openmic-2018-aggregated-labels.csv and ROOT/vggish/*/*.json, as
// the release's own script made openmic-2018.npz: one row per labeled key (sorted), X zero-padded
// to the longest clip (n_instances = its rows) of at most max_instances frames (the release's
// clips have 10; a longer clip keeps its first max_instances and is listed in `cuts`; 0 = every
// frame), Y_mask = annotated pairs, Y_true = relevance
// (0.5 where unannotated, as in the release). Classes from ROOT/class-map.json if present, else
// the instruments seen, sorted. Errors: unknown instrument, repeated (key, instrument), a key
// without JSON file (naming the CSV line), malformed JSON, clips of different dimension.
inline constexpr std::int64_t kOpenmicMaxInstances = 10;
BagDataset read_openmic_clips(const std::filesystem::path& root,
                              std::int64_t max_instances = kOpenmicMaxInstances,
                              ClipCuts* cuts = nullptr);

// --- verify -------------------------------------------------------------------------------------

enum class OpenmicFiles { kVggish, kAudio };

struct ChecksumEntry {
  std::string key;
  std::string md5;  // 32 lower-case hex digits
};
// The official list (",md5" header then "<key>,<md5>"); throws naming file and line.
std::vector<ChecksumEntry> read_checksum_list(const std::filesystem::path& path);

struct VerifyReport {
  struct Mismatch {
    std::string key;
    std::filesystem::path path;
    std::string expected_md5;
    std::string actual_md5;
  };
  std::int64_t listed = 0;                      // keys in the checksum list
  std::int64_t checked = 0;                     // files found and hashed
  std::vector<std::string> missing;             // listed keys whose file does not exist
  std::vector<Mismatch> mismatched;             // files whose md5 differs from the list
  std::vector<std::filesystem::path> unlisted;  // files of that kind the list does not name
  bool ok() const { return missing.empty() && mismatched.empty(); }
};

// Hashes ROOT/vggish/<key[:3]>/<key>.json (or ROOT/audio/.../<key>.ogg) for every key of
// `checksum_csv` and compares with the list. Draws a progress bar on a terminal.
VerifyReport verify_openmic_release(const std::filesystem::path& root,
                                    const std::filesystem::path& checksum_csv, OpenmicFiles kind);

}  // namespace tutti::data
