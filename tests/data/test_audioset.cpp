// AudioSet VGGish TFRecord shards -> BagDataset: fixtures made from real records by
// tools/fixtures/make_tfrecord_fixtures.py (expected values from its pure-Python reader), every
// error path, and the required counts on the shared bal_train release.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/audioset.h"
#include "tutti/data/protobuf.h"

namespace tutti::data {
namespace {

namespace fs = std::filesystem;
namespace pb = protobuf;
using tutti::testing::fixture;
using tutti::testing::shared_data_dir;
using tutti::testing::TempDir;

const fs::path kGood = fixture("audioset/good");
const fs::path kMeta = fixture("audioset/meta");

core::Json expected() { return core::read_json_file(fixture("audioset/expected.json")); }

using tutti::testing::error_of;

TEST(AudioSet, FixtureFolderOpenMic20) {
  const auto e = expected()["openmic20"];
  const auto ds = read_audioset(kGood, kMeta);
  ds.validate("audioset");
  EXPECT_EQ(ds.keys, e["keys"].get<std::vector<std::string>>());
  EXPECT_EQ(ds.n_instances, e["n_instances"].get<std::vector<std::int32_t>>());
  EXPECT_EQ(ds.max_instances, e["max_instances"].get<std::int64_t>());
  EXPECT_EQ(ds.dim, 128);
  EXPECT_EQ(ds.feature_type, FeatureType::kUint8);
  EXPECT_EQ(ds.classes.size(), 20u);
  EXPECT_EQ(ds.classes[8], "guitar");
  EXPECT_FALSE(ds.has_instance_labels());
  const auto y = e["y_true"].get<std::vector<std::vector<int>>>();
  const auto sums = e["frame_byte_sums"].get<std::vector<std::vector<int>>>();
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    for (std::int64_t c = 0; c < 20; ++c) {
      EXPECT_EQ(ds.label(i, c), static_cast<float>(y[i][c])) << i << " " << c;
      EXPECT_TRUE(ds.known(i, c));
    }
    for (std::int64_t t = 0; t < ds.max_instances; ++t) {
      const auto* f = ds.x_u8.data() + (i * ds.max_instances + t) * 128;
      const int sum = std::accumulate(f, f + 128, 0);
      // Frames beyond n_instances are zero padding.
      EXPECT_EQ(sum, t < ds.n_instances[i] ? sums[i][t] : 0) << i << " " << t;
    }
  }
  const auto first = e["first_frame"].get<std::vector<int>>();
  EXPECT_EQ(std::vector<int>(ds.x_u8.begin(), ds.x_u8.begin() + 128), first);
}

TEST(AudioSet, AllClipsWithAudioSetTaxonomy) {
  const auto e = expected()["audioset_all"];
  AudioSetOptions opt;
  opt.taxonomy = "audioset";
  opt.music_only = false;
  const auto ds = read_audioset(kGood, kMeta, opt);
  EXPECT_EQ(ds.keys, e["keys"].get<std::vector<std::string>>());
  EXPECT_EQ(ds.n_instances, e["n_instances"].get<std::vector<std::int32_t>>());
  ASSERT_EQ(ds.num_classes(), 527);
  const auto labels = e["labels"].get<std::vector<std::vector<int>>>();
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    std::vector<int> got;
    for (int c = 0; c < 527; ++c) {
      if (ds.positive(i, c)) got.push_back(c);
      EXPECT_TRUE(ds.known(i, c));
    }
    EXPECT_EQ(got, labels[i]) << ds.keys[i];
  }
  // music_only also applies to the audioset taxonomy.
  opt.music_only = true;
  EXPECT_EQ(read_audioset(kGood, kMeta, opt).keys,
            expected()["openmic20"]["keys"].get<std::vector<std::string>>());
}

TEST(AudioSet, SelectClipsByLabelNames) {
  const std::vector<std::string> noise{"White noise", "Pink noise", "Static"};
  const auto ds = read_audioset_clips_with_labels(kGood, kMeta, noise);
  EXPECT_EQ(ds.keys, expected()["noise_keys"].get<std::vector<std::string>>());
  EXPECT_EQ(ds.num_classes(), 527);
  const std::vector<std::string> unknown{"Whit noise"};
  EXPECT_NE(error_of([&] {
              read_audioset_clips_with_labels(kGood, kMeta, unknown);
            }).find("no node named 'Whit noise'"),
            std::string::npos);
  EXPECT_THROW(read_audioset_clips_with_labels(kGood, kMeta, {}), UsageError);
}

TEST(AudioSet, OneFileAndSeveralInputs) {
  const auto one = read_audioset(kGood / "part1.tfrecord", kMeta);
  EXPECT_EQ(one.keys, std::vector<std::string>{"-0SdAVK79lg_30000"});
  const fs::path inputs[2] = {kGood / "part2.tfrecord", kGood / "part1.tfrecord"};
  const auto two = read_audioset(inputs, kMeta, {});
  EXPECT_EQ(two.keys,
            (std::vector<std::string>{"--ekDLDTUXA_30000", "-NNjOlPg0y0_0", "-0SdAVK79lg_30000"}));
}

TEST(AudioSet, ThreadCountDoesNotChangeTheResult) {
  AudioSetOptions opt;
  opt.music_only = false;
  const auto a = read_audioset(kGood, kMeta, opt);
  opt.threads = 3;
  const auto b = read_audioset(kGood, kMeta, opt);
  EXPECT_EQ(a.keys, b.keys);
  EXPECT_EQ(a.x_u8, b.x_u8);
  EXPECT_EQ(a.y_true, b.y_true);
  EXPECT_EQ(a.n_instances, b.n_instances);
}

TEST(AudioSet, DefaultMetadataFolder) {
  TempDir tmp;
  fs::create_directories(tmp / "bal");
  fs::copy_file(kGood / "part1.tfrecord", tmp / "bal" / "part1.tfrecord");
  fs::copy_file(kMeta / "class_labels_indices.csv", tmp / "class_labels_indices.csv");
  fs::copy_file(kMeta / "ontology.json", tmp / "ontology.json");
  EXPECT_EQ(default_audioset_metadata_dir(tmp / "bal"), tmp.path());
  EXPECT_EQ(default_audioset_metadata_dir((tmp / "bal").string() + "/"), tmp.path());
  EXPECT_EQ(default_audioset_metadata_dir(tmp / "bal" / "part1.tfrecord"), tmp.path());
  EXPECT_EQ(read_audioset(tmp / "bal").size(), 1);
  // Beside the shards also works.
  EXPECT_EQ(default_audioset_metadata_dir(tmp.path()), tmp.path());
  const auto msg = error_of([&] { read_audioset(kGood); });
  EXPECT_NE(msg.find("class_labels_indices.csv not found in"), std::string::npos) << msg;
}

// ---- error paths -----------------------------------------------------------------------------

std::string bad(const std::string& name) {
  const auto path = fixture("audioset/bad/" + name);
  const auto msg = error_of([&] { read_audioset(path, kMeta); });
  EXPECT_NE(msg.find(path.string()), std::string::npos) << "message must name the file: " << msg;
  return msg;
}

TEST(AudioSetErrors, CrcMismatches) {
  auto msg = bad("bad_length_crc.tfrecord");
  EXPECT_NE(msg.find("record 1 at byte 1539: length crc mismatch"), std::string::npos) << msg;
  msg = bad("bad_data_crc.tfrecord");
  EXPECT_NE(msg.find("record 0 at byte 0: data crc mismatch"), std::string::npos) << msg;
}

TEST(AudioSetErrors, Truncated) {
  auto msg = bad("truncated_data.tfrecord");
  EXPECT_NE(msg.find("record 0 at byte 0: truncated record"), std::string::npos) << msg;
  msg = bad("truncated_header.tfrecord");
  EXPECT_NE(msg.find("record 1 at byte 1539: truncated header"), std::string::npos) << msg;
}

TEST(AudioSetErrors, MalformedProtobuf) {
  const auto path = fixture("audioset/bad/malformed_proto.tfrecord");
  EXPECT_THROW(read_audioset(path, kMeta), pb::ParseError);
  const auto msg = bad("malformed_proto.tfrecord");
  EXPECT_NE(msg.find("record 1 at byte 1539: malformed protobuf"), std::string::npos) << msg;
}

TEST(AudioSetErrors, LabelOutOfRange) {
  auto msg = bad("label_out_of_range.tfrecord");
  EXPECT_NE(msg.find("record 0 at byte 0: label index 527 out of range [0, 527)"),
            std::string::npos)
      << msg;
  msg = bad("label_negative.tfrecord");
  EXPECT_NE(msg.find("label index -1 out of range"), std::string::npos) << msg;
}

TEST(AudioSetErrors, EmbeddingNot128Bytes) {
  const auto msg = bad("embedding_127_bytes.tfrecord");
  EXPECT_NE(msg.find("audio_embedding frame 3 has 127 bytes, expected 128"), std::string::npos)
      << msg;
}

TEST(AudioSetErrors, MissingVideoId) {
  const auto msg = bad("no_video_id.tfrecord");
  EXPECT_NE(msg.find("no context feature 'video_id'"), std::string::npos) << msg;
}

TEST(AudioSetErrors, OneBadShardFailsTheWholeFolder) {
  TempDir tmp;
  fs::copy_file(kGood / "part1.tfrecord", tmp / "a.tfrecord");
  fs::copy_file(kGood / "part2.tfrecord", tmp / "c.tfrecord");
  fs::copy_file(fixture("audioset/bad/bad_data_crc.tfrecord"), tmp / "b.tfrecord");
  for (int threads : {1, 2}) {
    AudioSetOptions opt;
    opt.threads = threads;
    const auto msg = error_of([&] { read_audioset(tmp.path(), kMeta, opt); });
    EXPECT_NE(msg.find("b.tfrecord: record 0 at byte 0: data crc mismatch"), std::string::npos)
        << msg;
  }
}

TEST(AudioSetErrors, NoShards) {
  TempDir tmp;
  auto msg = error_of([&] { read_audioset(tmp.path(), kMeta); });
  EXPECT_NE(msg.find(tmp.path().string() + ": no .tfrecord files"), std::string::npos) << msg;
  std::ofstream(tmp / "notes.txt") << "x";
  msg = error_of([&] { read_audioset(tmp.path(), kMeta); });
  EXPECT_NE(msg.find("no .tfrecord files"), std::string::npos) << msg;
  msg = error_of([&] { read_audioset(tmp / "missing", kMeta); });
  EXPECT_NE(msg.find("missing: no such file or folder"), std::string::npos) << msg;
}

TEST(AudioSetErrors, MissingMetadata) {
  TempDir tmp;
  auto msg = error_of([&] { read_audioset(kGood, tmp.path()); });
  EXPECT_NE(msg.find((tmp / "class_labels_indices.csv").string()), std::string::npos) << msg;
  fs::copy_file(kMeta / "class_labels_indices.csv", tmp / "class_labels_indices.csv");
  msg = error_of([&] { read_audioset(kGood, tmp.path()); });
  EXPECT_NE(msg.find((tmp / "ontology.json").string() + ": ontology not found"), std::string::npos)
      << msg;
}

TEST(AudioSetErrors, BadOptions) {
  AudioSetOptions opt;
  opt.threads = 0;
  EXPECT_THROW(read_audioset(kGood, kMeta, opt), UsageError);
  opt.threads = 1;
  opt.taxonomy = "nope";
  EXPECT_THROW(read_audioset(kGood, kMeta, opt), UsageError);
}

TEST(AudioSetOptions, JsonRoundTripAndErrors) {
  AudioSetOptions o;
  o.taxonomy = "audioset";
  o.music_only = false;
  o.select_labels = {"Static"};
  o.threads = 2;
  const auto back = AudioSetOptions::from_json(o.to_json());
  EXPECT_EQ(back.taxonomy, "audioset");
  EXPECT_FALSE(back.music_only);
  EXPECT_EQ(back.select_labels, std::vector<std::string>{"Static"});
  EXPECT_EQ(back.threads, 2);
  EXPECT_EQ(AudioSetOptions::from_json(core::Json::object()).taxonomy, "openmic20");
  EXPECT_THROW(AudioSetOptions::from_json({{"thread", 2}}), UsageError);
  EXPECT_THROW(AudioSetOptions::from_json({{"threads", "two"}}), UsageError);
  EXPECT_THROW(AudioSetOptions::from_json({{"threads", 0}}), UsageError);
  EXPECT_THROW(AudioSetOptions::from_json({{"taxonomy", "x"}}), UsageError);
}

// ---- parse_audioset_record on hand-encoded variants ------------------------------------------

std::string ld(std::uint32_t n, const std::string& payload) {
  std::string out;
  pb::write_bytes_field(n, payload, out);
  return out;
}
std::string entry(const std::string& key, const std::string& value) {
  return ld(1, ld(1, key) + ld(2, value));
}
std::span<const std::uint8_t> bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

TEST(AudioSetRecordParse, UnpackedScalarsAndUnknownFieldsAreAccepted) {
  // labels as individual varint fields, start time as a single fixed32 (both valid protobuf).
  std::string labels_list;
  for (int l : {137, 5}) {
    pb::write_tag(1, pb::WireType::kVarint, labels_list);
    pb::write_varint(static_cast<std::uint64_t>(l), labels_list);
  }
  std::string float_list;
  pb::write_tag(1, pb::WireType::kFixed32, float_list);
  const float start = 12.5f;
  float_list.append(reinterpret_cast<const char*>(&start), 4);
  std::string unknown;
  pb::write_tag(9, pb::WireType::kVarint, unknown);
  pb::write_varint(7, unknown);
  const std::string ctx =
      entry("video_id", ld(1, ld(1, "abc"))) + entry("start_time_seconds", ld(2, float_list)) +
      entry("labels", ld(3, labels_list)) + entry("other", ld(3, labels_list)) + unknown;
  const std::string frame(128, '\x07');
  const std::string fl = ld(
      1, ld(1, "audio_embedding") + ld(2, ld(1, ld(1, ld(1, frame))) + ld(1, ld(1, ld(1, frame)))));
  const std::string rec = ld(1, ctx) + unknown + ld(2, fl);
  AudioSetRecord r;
  parse_audioset_record(bytes(rec), r);
  EXPECT_EQ(r.video_id, "abc");
  EXPECT_EQ(r.start_time_s, 12.5f);
  EXPECT_EQ(r.labels, (std::vector<std::int64_t>{137, 5}));
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[1][127], 7);
  // Reuse keeps nothing from the previous record.
  const std::string rec2 =
      ld(1, entry("video_id", ld(1, ld(1, "z"))) + entry("start_time_seconds", ld(2, float_list))) +
      ld(2, ld(1, ld(1, "audio_embedding")));
  parse_audioset_record(bytes(rec2), r);
  EXPECT_EQ(r.video_id, "z");
  EXPECT_TRUE(r.labels.empty());
  EXPECT_TRUE(r.frames.empty());
}

TEST(AudioSetRecordParse, WrongFeatureKinds) {
  std::string float_list;
  const float v[2] = {1.0f, 2.0f};
  pb::write_bytes_field(1, std::string_view(reinterpret_cast<const char*>(v), 8), float_list);
  const std::string id = entry("video_id", ld(1, ld(1, "abc")));
  const std::string emb = ld(2, ld(1, ld(1, "audio_embedding")));
  auto err = [](const std::string& rec) {
    AudioSetRecord r;
    return error_of([&] { parse_audioset_record(bytes(rec), r); });
  };
  EXPECT_NE(err(ld(1, id + entry("start_time_seconds", ld(2, float_list))) + emb)
                .find("'start_time_seconds' holds 2 values"),
            std::string::npos);
  EXPECT_NE(err(ld(1, id + entry("start_time_seconds", ld(1, ld(1, "x")))) + emb)
                .find("is a bytes_list, expected a float_list"),
            std::string::npos);
  EXPECT_NE(err(ld(1, id)).find("no context feature 'start_time_seconds'"), std::string::npos);
  std::string one_float;
  pb::write_bytes_field(1, std::string_view(reinterpret_cast<const char*>(v), 4), one_float);
  const std::string ok_ctx = id + entry("start_time_seconds", ld(2, one_float));
  EXPECT_NE(err(ld(1, ok_ctx)).find("no feature list 'audio_embedding'"), std::string::npos);
  EXPECT_NE(
      err(ld(1, ok_ctx) + ld(2, ld(1, ld(1, "audio_embedding") + ld(2, ld(1, ld(2, one_float))))))
          .find("audio_embedding frame 0 is a float_list"),
      std::string::npos);
  {
    AudioSetRecord r;  // an empty embedding list is valid
    EXPECT_NO_THROW(parse_audioset_record(bytes(ld(1, ok_ctx) + emb), r));
  }
  // A sub-message whose wire type is not length-delimited.
  std::string wt;
  pb::write_tag(1, pb::WireType::kVarint, wt);
  pb::write_varint(1, wt);
  EXPECT_NE(err(wt).find("SequenceExample.context (field 1) has wire type 0"), std::string::npos);
}

// ---- the shared release ------------------------------------------------------------------------

TEST(AudioSetShared, BalTrainOpenMic20Counts) {
  TUTTI_REQUIRE_SHARED("audioset/bal_train");
  const auto ds = read_audioset(shared_data_dir() / "audioset/bal_train");
  ds.validate("bal_train");
  ASSERT_EQ(ds.size(), 8928);
  EXPECT_EQ(ds.max_instances, 10);
  const std::map<std::string, int> want{{"accordion", 61},    {"banjo", 60},
                                        {"bass", 121},        {"cello", 67},
                                        {"clarinet", 63},     {"cymbals", 64},
                                        {"drums", 330},       {"flute", 62},
                                        {"guitar", 447},      {"mallet_percussion", 188},
                                        {"mandolin", 60},     {"organ", 120},
                                        {"piano", 90},        {"saxophone", 63},
                                        {"synthesizer", 119}, {"trombone", 65},
                                        {"trumpet", 64},      {"ukulele", 60},
                                        {"violin", 181},      {"voice", 916}};
  ASSERT_EQ(ds.num_classes(), 20);
  for (std::int64_t c = 0; c < 20; ++c) {
    int n = 0;
    for (std::int64_t i = 0; i < ds.size(); ++i) n += ds.positive(i, c) ? 1 : 0;
    EXPECT_EQ(n, want.at(ds.classes[c])) << ds.classes[c];
  }
  EXPECT_TRUE(std::all_of(ds.y_mask.begin(), ds.y_mask.end(), [](auto m) { return m == 1; }));
  EXPECT_EQ(std::set<std::string>(ds.keys.begin(), ds.keys.end()).size(), ds.keys.size());
}

// Every clip of the release against the official segment list (YTID, start, labels as mids).
TEST(AudioSetShared, BalTrainMatchesSegmentList) {
  TUTTI_REQUIRE_SHARED("audioset/balanced_train_segments.csv");
  const auto dir = shared_data_dir() / "audioset";
  AudioSetOptions opt;
  opt.taxonomy = "audioset";
  opt.music_only = false;
  opt.threads = 2;
  const auto ds = read_audioset(dir / "bal_train", {}, opt);
  ASSERT_EQ(ds.size(), 22160);
  const auto onto = AudioSetOntology::load(dir);
  std::map<std::string, std::set<int>> want;
  std::ifstream in(dir / "balanced_train_segments.csv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    // YTID, start_seconds, end_seconds, "mid,mid,..."
    std::istringstream s(line);
    std::string id, start, end, mids;
    std::getline(s, id, ',');
    std::getline(s, start, ',');
    std::getline(s, end, ',');
    std::getline(s, mids);
    mids = mids.substr(mids.find('"') + 1);
    mids = mids.substr(0, mids.find('"'));
    const auto key = id + "_" + std::to_string(std::llround(std::stod(start) * 1000));
    std::istringstream m(mids);
    for (std::string mid; std::getline(m, mid, ',');) want[key].insert(onto.class_index(mid));
  }
  ASSERT_EQ(want.size(), 22160u);
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    const auto it = want.find(ds.keys[i]);
    ASSERT_NE(it, want.end()) << ds.keys[i];
    std::set<int> got;
    for (int c = 0; c < 527; ++c) {
      if (ds.positive(i, c)) got.insert(c);
    }
    EXPECT_EQ(got, it->second) << ds.keys[i];
  }
}

TEST(AudioSetShared, UnbalTrainShards) {
  TUTTI_REQUIRE_SHARED("audioset/unbal_train");
  AudioSetOptions opt;
  opt.taxonomy = "audioset";
  opt.music_only = false;
  const auto ds = read_audioset(shared_data_dir() / "audioset/unbal_train", {}, opt);
  EXPECT_EQ(ds.size(), 975);
  ds.validate("unbal_train");
}

}  // namespace
}  // namespace tutti::data
