#include "tutti/data/audioset.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/progress.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/protobuf.h"

namespace tutti::data {

namespace fs = std::filesystem;
namespace pb = protobuf;
using pb::WireType;

void AudioSetOptions::validate() const {
  (void)taxonomy_spec(taxonomy);  // throws UsageError for an unknown name
  check<UsageError>(threads >= 1, "audioset: threads must be >= 1, got {}", threads);
  check<UsageError>(max_instances >= 0,
                    "audioset: max instances must be >= 0 (0 = keep every frame), got {}",
                    max_instances);
}

core::Json AudioSetOptions::to_json() const {
  return {{"taxonomy", taxonomy},
          {"music_only", music_only},
          {"select_labels", select_labels},
          {"threads", threads},
          {"max_instances", max_instances}};
}

AudioSetOptions AudioSetOptions::from_json(const core::Json& j) {
  check<UsageError>(j.is_object(), "audioset options: expected a JSON object");
  AudioSetOptions o;
  for (const auto& [key, v] : j.items()) {
    try {
      if (key == "taxonomy") {
        o.taxonomy = v.get<std::string>();
      } else if (key == "music_only") {
        o.music_only = v.get<bool>();
      } else if (key == "select_labels") {
        o.select_labels = v.get<std::vector<std::string>>();
      } else if (key == "threads") {
        o.threads = v.get<int>();
      } else if (key == "max_instances") {
        o.max_instances = v.get<std::int64_t>();
      } else {
        fail<UsageError>("audioset options: unknown key '{}'", key);
      }
    } catch (const core::Json::exception& e) {
      fail<UsageError>("audioset options: '{}': {}", key, e.what());
    }
  }
  o.validate();
  return o;
}

// ---- one SequenceExample -------------------------------------------------------------------
//
// message SequenceExample { Features context = 1; FeatureLists feature_lists = 2; }
// message Features { map<string, Feature> feature = 1; }          // entry: key = 1, value = 2
// message FeatureLists { map<string, FeatureList> feature_list = 1; }
// message FeatureList { repeated Feature feature = 1; }
// message Feature { oneof kind { BytesList bytes_list = 1; FloatList float_list = 2;
//                                Int64List int64_list = 3; } }
// message BytesList { repeated bytes value = 1; }  FloatList { repeated float value = 1 [packed]; }
// Int64List { repeated int64 value = 1 [packed]; }   (tensorflow/core/example/*.proto)

namespace {

enum class Kind { kNone = 0, kBytes = 1, kFloat = 2, kInt64 = 3 };

struct FeatureView {
  Kind kind = Kind::kNone;
  pb::Bytes list;  // the BytesList / FloatList / Int64List message
};

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kBytes:
      return "bytes_list";
    case Kind::kFloat:
      return "float_list";
    case Kind::kInt64:
      return "int64_list";
    default:
      return "no value";
  }
}

void expect_length_delimited(const pb::Field& f, std::string_view what) {
  check<pb::ParseError>(f.wire_type == WireType::kLengthDelimited,
                        "malformed protobuf: {} (field {}) has wire type {}, expected 2", what,
                        f.number, static_cast<int>(f.wire_type));
}

FeatureView parse_feature(pb::Bytes bytes) {
  FeatureView v;
  pb::Reader r(bytes);
  pb::Field f;
  while (r.next(f)) {
    if (f.number >= 1 && f.number <= 3) {
      expect_length_delimited(f, "Feature.kind");
      v.kind = static_cast<Kind>(f.number);  // oneof: the last one wins
      v.list = f.bytes;
    }
  }
  return v;
}

// Map entry {key = 1, value = 2}.
void parse_map_entry(pb::Bytes entry, std::string_view& key, pb::Bytes& value) {
  key = {};
  value = {};
  pb::Reader r(entry);
  pb::Field f;
  while (r.next(f)) {
    if (f.number == 1) {
      expect_length_delimited(f, "map key");
      key = f.as_string();
    } else if (f.number == 2) {
      expect_length_delimited(f, "map value");
      value = f.bytes;
    }
  }
}

// The single value of a BytesList; false when the list does not hold exactly one.
bool single_bytes(pb::Bytes list, pb::Bytes& out) {
  int n = 0;
  pb::Reader r(list);
  pb::Field f;
  while (r.next(f)) {
    if (f.number != 1) continue;
    expect_length_delimited(f, "BytesList.value");
    out = f.bytes;
    ++n;
  }
  return n == 1;
}

float single_float(const FeatureView& v, std::string_view key) {
  check(v.kind == Kind::kFloat, "context feature '{}' is a {}, expected a float_list", key,
        kind_name(v.kind));
  int n = 0;
  float value = 0.0f;
  pb::Reader r(v.list);
  pb::Field f;
  while (r.next(f)) {
    if (f.number != 1) continue;
    if (f.wire_type == WireType::kFixed32) {
      value = f.as_float();
      ++n;
    } else {
      expect_length_delimited(f, "FloatList.value");
      pb::for_each_packed_fixed32(f.bytes, [&](std::uint32_t bits) {
        value = std::bit_cast<float>(bits);
        ++n;
      });
    }
  }
  check(n == 1, "context feature '{}' holds {} values, expected 1", key, n);
  return value;
}

void read_labels(const FeatureView& v, int num_classes, std::vector<std::int64_t>& labels) {
  if (v.kind == Kind::kNone) return;  // an empty Feature: no labels
  check(v.kind == Kind::kInt64, "context feature 'labels' is a {}, expected an int64_list",
        kind_name(v.kind));
  auto add = [&](std::uint64_t raw) {
    const auto label = static_cast<std::int64_t>(raw);
    check(label >= 0 && label < num_classes, "label index {} out of range [0, {})", label,
          num_classes);
    labels.push_back(label);
  };
  pb::Reader r(v.list);
  pb::Field f;
  while (r.next(f)) {
    if (f.number != 1) continue;
    if (f.wire_type == WireType::kVarint) {
      add(f.value);
    } else {
      expect_length_delimited(f, "Int64List.value");
      pb::for_each_packed_varint(f.bytes, add);
    }
  }
}

void read_frames(pb::Bytes feature_list, std::vector<const std::uint8_t*>& frames) {
  pb::Reader r(feature_list);
  pb::Field f;
  while (r.next(f)) {
    if (f.number != 1) continue;
    expect_length_delimited(f, "FeatureList.feature");
    const auto t = frames.size();
    const FeatureView v = parse_feature(f.bytes);
    check(v.kind == Kind::kBytes, "audio_embedding frame {} is a {}, expected a bytes_list", t,
          kind_name(v.kind));
    pb::Bytes frame;
    check(single_bytes(v.list, frame), "audio_embedding frame {} does not hold exactly one value",
          t);
    check(static_cast<std::int64_t>(frame.size()) == kAudioSetEmbeddingDim,
          "audio_embedding frame {} has {} bytes, expected {}", t, frame.size(),
          kAudioSetEmbeddingDim);
    frames.push_back(frame.data());
  }
}

}  // namespace

void parse_audioset_record(std::span<const std::uint8_t> record, AudioSetRecord& out,
                           int num_classes) {
  out.video_id = {};
  out.start_time_s = out.end_time_s = 0.0f;
  out.labels.clear();
  out.frames.clear();
  bool have_id = false, have_start = false;
  bool have_embedding = false;

  pb::Reader top(record);
  pb::Field f;
  std::string_view key;
  pb::Bytes value;
  while (top.next(f)) {
    if (f.number == 1) {  // context
      expect_length_delimited(f, "SequenceExample.context");
      pb::Reader r(f.bytes);
      pb::Field e;
      while (r.next(e)) {
        if (e.number != 1) continue;
        expect_length_delimited(e, "Features.feature");
        parse_map_entry(e.bytes, key, value);
        if (key == "video_id") {
          const FeatureView v = parse_feature(value);
          pb::Bytes id;
          check(v.kind == Kind::kBytes && single_bytes(v.list, id),
                "context feature 'video_id' is not a bytes_list with one value");
          out.video_id = {reinterpret_cast<const char*>(id.data()), id.size()};
          have_id = true;
        } else if (key == "start_time_seconds") {
          out.start_time_s = single_float(parse_feature(value), key);
          have_start = true;
        } else if (key == "end_time_seconds") {
          out.end_time_s = single_float(parse_feature(value), key);
        } else if (key == "labels") {
          out.labels.clear();  // map semantics: the last entry for a key wins
          read_labels(parse_feature(value), num_classes, out.labels);
        }
      }
    } else if (f.number == 2) {  // feature_lists
      expect_length_delimited(f, "SequenceExample.feature_lists");
      pb::Reader r(f.bytes);
      pb::Field e;
      while (r.next(e)) {
        if (e.number != 1) continue;
        expect_length_delimited(e, "FeatureLists.feature_list");
        parse_map_entry(e.bytes, key, value);
        if (key == "audio_embedding") {
          out.frames.clear();
          read_frames(value, out.frames);
          have_embedding = true;
        }
      }
    }
  }
  check(have_id, "no context feature 'video_id'");
  check(!out.video_id.empty(), "empty video_id");
  check(have_start, "no context feature 'start_time_seconds' (video_id '{}')", out.video_id);
  // The key holds the start in ms as an integer: reject values that cannot be one.
  check(std::isfinite(out.start_time_s) && out.start_time_s >= 0.0f && out.start_time_s < 1e9f,
        "start_time_seconds {} is not a time (video_id '{}')", out.start_time_s, out.video_id);
  check(std::isfinite(out.end_time_s), "end_time_seconds {} is not finite (video_id '{}')",
        out.end_time_s, out.video_id);
  check(have_embedding, "no feature list 'audio_embedding' (video_id '{}')", out.video_id);
}

namespace detail {

void rethrow_with_record(std::string_view name, std::int64_t index, std::uint64_t offset) {
  try {
    throw;
  } catch (const pb::ParseError& e) {
    fail<pb::ParseError>("audioset: {}: record {} at byte {}: {}", name, index, offset, e.what());
  } catch (const Error& e) {
    fail("audioset: {}: record {} at byte {}: {}", name, index, offset, e.what());
  }
}

}  // namespace detail

// ---- files and folders -----------------------------------------------------------------------

namespace {

fs::path normalized(const fs::path& p) {
  fs::path a = fs::absolute(p).lexically_normal();
  if (a.filename().empty()) a = a.parent_path();  // "bal_train/" -> "bal_train"
  return a;
}

}  // namespace

std::vector<fs::path> audioset_shards(const fs::path& dir_or_file) {
  std::error_code ec;
  const auto st = fs::status(dir_or_file, ec);
  check(fs::exists(st), "audioset: {}: no such file or folder", dir_or_file.string());
  if (fs::is_regular_file(st)) return {dir_or_file};
  check(fs::is_directory(st), "audioset: {}: not a file or folder", dir_or_file.string());
  std::vector<fs::path> shards;
  for (const auto& entry : fs::directory_iterator(dir_or_file)) {
    if (entry.path().extension() == ".tfrecord" && entry.is_regular_file()) {
      shards.push_back(entry.path());
    }
  }
  check(!shards.empty(), "audioset: {}: no .tfrecord files in this folder", dir_or_file.string());
  // Byte order of the file names: deterministic and independent of the locale.
  std::sort(shards.begin(), shards.end(), [](const fs::path& a, const fs::path& b) {
    return a.filename().native() < b.filename().native();
  });
  return shards;
}

fs::path default_audioset_metadata_dir(const fs::path& dir_or_file) {
  fs::path dir = normalized(dir_or_file);
  if (!fs::is_directory(dir)) dir = dir.parent_path();
  for (const fs::path& d : {dir, dir.parent_path()}) {
    if (fs::is_regular_file(d / "class_labels_indices.csv")) return d;
  }
  fail(
      "audioset: class_labels_indices.csv not found in {} nor in {} (give the metadata folder "
      "holding it and ontology.json)",
      dir.string(), dir.parent_path().string());
}

// ---- the reader ------------------------------------------------------------------------------

namespace {

// The kept clips of one shard.
struct ShardResult {
  std::vector<std::string> keys;
  std::vector<std::uint8_t> frames;  // concatenated frames, 128 bytes each
  std::vector<std::int32_t> n_frames;
  std::vector<std::uint8_t> y;  // [clips, C] 0/1
  ClipCuts cuts;
};

struct Selection {
  const Taxonomy* taxonomy;
  bool music_only;
  std::vector<std::uint8_t> selected;  // [527] 1 = wanted label; empty = no label selection
  std::size_t max_frames;              // frames kept per clip
};

void read_shard(const fs::path& path, const Selection& sel, std::vector<std::uint8_t>& buf,
                ShardResult& out) {
  read_file_into(path, buf);
  const Taxonomy& tax = *sel.taxonomy;
  const auto c_count = static_cast<std::size_t>(tax.num_classes());
  const int num_classes = static_cast<int>(tax.in_filter.size());
  for_each_audioset_record(
      buf, path.string(),
      [&](const AudioSetRecord& rec) {
        bool music = !sel.music_only, selected = sel.selected.empty();
        for (const auto l : rec.labels) {
          music = music || tax.in_filter[l];
          selected = selected || sel.selected[l];
        }
        if (!music || !selected) return;
        const auto start_ms = static_cast<std::int64_t>(std::llround(rec.start_time_s * 1000.0));
        out.keys.push_back(fmt::format("{}_{}", rec.video_id, start_ms));
        const std::size_t kept = std::min(rec.frames.size(), sel.max_frames);
        if (kept < rec.frames.size())
          out.cuts.add(path.string(), out.keys.back(),
                       static_cast<std::int64_t>(rec.frames.size()));
        out.n_frames.push_back(static_cast<std::int32_t>(kept));
        for (std::size_t t = 0; t < kept; ++t) {
          out.frames.insert(out.frames.end(), rec.frames[t], rec.frames[t] + kAudioSetEmbeddingDim);
        }
        const std::size_t row = out.y.size();
        out.y.resize(row + c_count, 0);
        for (const auto l : rec.labels) {
          for (const int c : tax.targets[l]) out.y[row + c] = 1;
        }
      },
      num_classes);
}

}  // namespace

BagDataset read_audioset(std::span<const fs::path> inputs, const fs::path& metadata_dir,
                         const AudioSetOptions& options, core::Progress* progress, ClipCuts* cuts) {
  options.validate();
  check<UsageError>(!inputs.empty(), "audioset: no input given");
  std::vector<fs::path> shards;
  for (const auto& in : inputs) {
    const auto s = audioset_shards(in);
    shards.insert(shards.end(), s.begin(), s.end());
  }
  const fs::path meta =
      metadata_dir.empty() ? default_audioset_metadata_dir(inputs.front()) : metadata_dir;
  const auto ontology = AudioSetOntology::load(meta);
  const Taxonomy tax = resolve_taxonomy(options.taxonomy, ontology);
  Selection sel{&tax,
                options.music_only,
                {},
                options.max_instances > 0 ? static_cast<std::size_t>(options.max_instances)
                                          : static_cast<std::size_t>(-1)};
  if (!options.select_labels.empty()) {
    sel.selected.assign(static_cast<std::size_t>(ontology.num_classes()), 0);
    for (const int i : ontology.class_indices(options.select_labels, true)) sel.selected[i] = 1;
  }

  // Results are kept per shard and joined in shard order, so the dataset does not depend on the
  // thread count; the error of the lowest-numbered failing shard is the one thrown.
  std::vector<ShardResult> results(shards.size());
  core::parallel_for(
      shards.size(), options.threads,
      [&](std::size_t i) {
        std::vector<std::uint8_t> buf;
        read_shard(shards[i], sel, buf, results[i]);
      },
      [&](std::size_t, std::size_t) {
        if (progress) progress->advance(1);
      });

  std::int64_t n = 0, k = 0;
  for (const auto& r : results) {
    n += static_cast<std::int64_t>(r.keys.size());
    for (const auto f : r.n_frames) k = std::max<std::int64_t>(k, f);
  }
  const std::int64_t d = kAudioSetEmbeddingDim;
  const auto c_count = static_cast<std::size_t>(tax.num_classes());
  BagDataset ds = BagDataset::zeros(n, k, d, tax.classes, FeatureType::kUint8);
  ds.embedder = "vggish";  // the released AudioSet embeddings
  std::size_t i = 0;
  for (auto& r : results) {
    if (cuts) cuts->append(r.cuts);
    const std::uint8_t* src = r.frames.data();
    for (std::size_t j = 0; j < r.keys.size(); ++j, ++i) {
      const auto frames = static_cast<std::size_t>(r.n_frames[j]);
      std::copy_n(src, frames * d, ds.x_u8.begin() + static_cast<std::ptrdiff_t>(i * k * d));
      src += frames * d;
      ds.n_instances[i] = r.n_frames[j];
      ds.keys[i] = std::move(r.keys[j]);
      for (std::size_t c = 0; c < c_count; ++c) {
        ds.y_true[i * c_count + c] = r.y[j * c_count + c] ? 1.0f : 0.0f;
      }
    }
    r = {};  // free as we go
  }
  std::fill(ds.y_mask.begin(), ds.y_mask.end(), 1);  // AudioSet labels every class of a clip
  return ds;
}

BagDataset read_audioset(const fs::path& dir_or_file, const fs::path& metadata_dir,
                         const AudioSetOptions& options, core::Progress* progress, ClipCuts* cuts) {
  const fs::path inputs[1] = {dir_or_file};
  return read_audioset(inputs, metadata_dir, options, progress, cuts);
}

BagDataset read_audioset_clips_with_labels(const fs::path& dir_or_file,
                                           const fs::path& metadata_dir,
                                           std::span<const std::string> label_names, int threads,
                                           core::Progress* progress) {
  check<UsageError>(!label_names.empty(), "audioset: no label names to select clips by");
  AudioSetOptions opt;
  opt.taxonomy = "audioset";
  opt.music_only = false;
  opt.select_labels.assign(label_names.begin(), label_names.end());
  opt.threads = threads;
  return read_audioset(dir_or_file, metadata_dir, opt, progress);
}

}  // namespace tutti::data
