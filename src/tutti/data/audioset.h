// AudioSet VGGish embedding releases (TFRecord shards of tf.train.SequenceExample) -> BagDataset.
//
// Each record: context features video_id (bytes), start_time_seconds, end_time_seconds (float),
// labels (int64 class indices into class_labels_indices.csv); feature list audio_embedding, one
// bytes feature of 128 uint8 per 0.96 s frame. Every record's two crc32c checksums are verified.
//
//   tutti::data::AudioSetOptions opt;            // openmic20 taxonomy, music clips only
//   auto ds = tutti::data::read_audioset("../shared/data/audioset/bal_train", {}, opt);
//   // ds.size() == 8928, ds.classes == the 20 OpenMIC instruments, ds.max_instances == 10
//
// The dataset: one bag per clip, in shard file name order (byte order) then record order;
// K = the most frames of any kept clip (shorter clips zero-padded, n_instances = their frames),
// at most options.max_instances (a longer clip keeps its first frames and is listed in ClipCuts),
// D = 128 uint8 features as released; key = "<video_id>_<start in ms>" (e.g. "-0RWZT-miFs_420000",
// the OpenMIC-2018 "<id>_<start_ms>" convention; start rounded to the nearest ms). Labels come
// from the taxonomy (taxonomy.h): every class is known (Y_mask 1), 1 = the clip carries one of
// the AudioSet classes mapped to it, 0 = none. No instance labels (AudioSet is weakly labeled).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/data/clip_cut.h"
#include "tutti/data/taxonomy.h"
#include "tutti/data/tfrecord.h"

namespace tutti::core {
class Progress;
}

namespace tutti::data {

inline constexpr std::int64_t kAudioSetMaxInstances = 10;

struct AudioSetOptions {
  std::string taxonomy = "openmic20";  // a name from taxonomy_names(): "openmic20" or "audioset"
  // Keep only clips with a label in the taxonomy's filter subtrees (Music, Singing).
  bool music_only = true;
  // When non-empty, keep only clips carrying one of these AudioSet classes, given by ontology
  // name, each with its descendants (e.g. {"White noise", "Pink noise", "Static"}). Applied in
  // addition to music_only.
  std::vector<std::string> select_labels;
  int threads = 1;  // worker threads parsing shards (>= 1); the result does not depend on it
  // Frames kept per clip (the released clips have at most 10, one per 0.96 s); a longer clip keeps
  // its first max_instances, so that one odd record cannot pad the whole dataset. 0 = every frame.
  std::int64_t max_instances = kAudioSetMaxInstances;

  // Throws tutti::UsageError for an unknown taxonomy, threads < 1 or max_instances < 0.
  void validate() const;
  // {"taxonomy", "music_only", "select_labels", "threads", "max_instances"}; missing keys keep
  // their defaults,
  // unknown keys and wrong types throw tutti::UsageError.
  core::Json to_json() const;
  static AudioSetOptions from_json(const core::Json& j);
};

// One parsed record. Views point into the serialized record, which must outlive them; the
// vectors keep their capacity across parse calls (no allocation per record once warm).
struct AudioSetRecord {
  std::string_view video_id;
  float start_time_s = 0.0f;
  float end_time_s = 0.0f;
  std::vector<std::int64_t> labels;         // as stored (validated to [0, num_classes))
  std::vector<const std::uint8_t*> frames;  // each points at kAudioSetEmbeddingDim bytes
};

inline constexpr std::int64_t kAudioSetEmbeddingDim = 128;
inline constexpr int kAudioSetNumClasses = 527;

// Parses one serialized tf.train.SequenceExample (the data of one TFRecord record) into `out`.
// Throws tutti::Error (protobuf::ParseError for bad wire format) when the protobuf is malformed,
// video_id or start_time_seconds is missing, a label is outside [0, num_classes), or an
// audio_embedding frame is not one bytes value of 128 bytes. Unknown features are skipped.
void parse_audioset_record(std::span<const std::uint8_t> record, AudioSetRecord& out,
                           int num_classes = kAudioSetNumClasses);

// Parses a whole TFRecord stream held in memory (e.g. a file's bytes) and calls
// fn(const AudioSetRecord&) per record. `name` prefixes errors: "audioset: <name>: record <i> at
// byte <offset>: ...". verify_crc=false only for fuzzing.
template <typename Fn>
void for_each_audioset_record(std::span<const std::uint8_t> stream, std::string_view name, Fn&& fn,
                              int num_classes = kAudioSetNumClasses, bool verify_crc = true);

// The shards of an input: the file itself, or the *.tfrecord files of a folder sorted by name.
// Throws tutti::Error when the path does not exist or the folder holds no .tfrecord file.
std::vector<std::filesystem::path> audioset_shards(const std::filesystem::path& dir_or_file);

// Where class_labels_indices.csv and ontology.json are when the caller gives no folder: the
// input folder (or a file's folder) if it holds them, else its parent. Throws tutti::Error
// naming both places when neither does.
std::filesystem::path default_audioset_metadata_dir(const std::filesystem::path& dir_or_file);

// Reads an AudioSet embedding release (a folder of shards, or one shard). metadata_dir holds
// class_labels_indices.csv and ontology.json (empty = default_audioset_metadata_dir). Throws
// tutti::Error naming the file (and record) on any problem; never returns a partial dataset.
// `progress` (optional) advances by one per shard; `cuts` (optional) receives the clips cut to
// options.max_instances.
BagDataset read_audioset(const std::filesystem::path& dir_or_file,
                         const std::filesystem::path& metadata_dir = {},
                         const AudioSetOptions& options = {}, core::Progress* progress = nullptr,
                         ClipCuts* cuts = nullptr);
// Several inputs (e.g. bal_train and unbal_train) in the given order, one metadata folder
// (empty = the default for the first input).
BagDataset read_audioset(std::span<const std::filesystem::path> inputs,
                         const std::filesystem::path& metadata_dir, const AudioSetOptions& options,
                         core::Progress* progress = nullptr, ClipCuts* cuts = nullptr);

// Clips carrying any of the named AudioSet classes (with their descendants), all 527 AudioSet
// classes as labels, no music filter. E.g. a noise pool: {"White noise", "Pink noise", "Static"}.
BagDataset read_audioset_clips_with_labels(const std::filesystem::path& dir_or_file,
                                           const std::filesystem::path& metadata_dir,
                                           std::span<const std::string> label_names,
                                           int threads = 1, core::Progress* progress = nullptr);

// ---- implementation of the template --------------------------------------------------------

namespace detail {
[[noreturn]] void rethrow_with_record(std::string_view name, std::int64_t index,
                                      std::uint64_t offset);
}

}  // namespace tutti::data

template <typename Fn>
void tutti::data::for_each_audioset_record(std::span<const std::uint8_t> stream,
                                           std::string_view name, Fn&& fn, int num_classes,
                                           bool verify_crc) {
  TfRecordReader reader(stream, name, verify_crc);
  AudioSetRecord rec;
  std::span<const std::uint8_t> data;
  while (reader.next(data)) {  // framing errors already name the file and record
    try {
      parse_audioset_record(data, rec, num_classes);
    } catch (const tutti::Error&) {
      detail::rethrow_with_record(name, reader.index(), reader.offset());
    }
    fn(static_cast<const AudioSetRecord&>(rec));
  }
}
