// OpenMIC-2018 readers and the CSV reader, on the real pieces of the release in ../shared/data
// (class map, partitions, AttentionMIC split, one clip's VGGish JSON, official md5 lists) and on
// tiny release folders built in a temporary directory.
#include <gtest/gtest.h>

#include <fstream>
#include <numeric>
#include <set>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/csv.h"
#include "tutti/data/npz.h"
#include "tutti/data/openmic.h"

namespace tutti::data {
namespace {

namespace fs = std::filesystem;
using tutti::testing::error_of;
using tutti::testing::fixture;
using tutti::testing::shared_data_dir;
using tutti::testing::TempDir;

fs::path openmic_dir() { return shared_data_dir() / "openmic"; }

#define EXPECT_ERROR_HAS(stmt, text)                                      \
  do {                                                                    \
    const std::string msg_ = error_of([&] { stmt; });                     \
    EXPECT_NE(msg_.find(text), std::string::npos) << "message: " << msg_; \
  } while (0)

void write_text(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string class_map_json(const std::vector<std::string>& classes) {
  core::Json j = core::Json::object();
  for (std::size_t i = 0; i < classes.size(); ++i) j[classes[i]] = i;
  return j.dump();
}

// --- CSV
// ------------------------------------------------------------------------------------------

TEST(Csv, ReadsQuotedFieldsCrlfAndLineNumbers) {
  const std::string text =
      "\xEF\xBB\xBFkey,note\r\n"
      "a,\"x, y\"\r\n"
      "\r\n"
      "b,\"say \"\"hi\"\"\"\n"
      "c,\"two\nlines\"\n"
      "d,\n"
      "e,last";
  const auto rows = parse_csv(text, "t.csv");
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(rows[0].fields, (std::vector<std::string>{"key", "note"}));
  EXPECT_EQ(rows[1].fields, (std::vector<std::string>{"a", "x, y"}));
  EXPECT_EQ(rows[2].fields, (std::vector<std::string>{"b", "say \"hi\""}));
  EXPECT_EQ(rows[2].line, 4);
  EXPECT_EQ(rows[3].fields, (std::vector<std::string>{"c", "two\nlines"}));
  EXPECT_EQ(rows[3].line, 5);
  EXPECT_EQ(rows[4].fields, (std::vector<std::string>{"d", ""}));
  EXPECT_EQ(rows[4].line, 7);
  EXPECT_EQ(rows[5].fields, (std::vector<std::string>{"e", "last"}));
  EXPECT_TRUE(parse_csv("", "empty.csv").empty());
}

TEST(Csv, ErrorsNameFileAndLine) {
  EXPECT_ERROR_HAS(parse_csv("a\nb,\"open\nstill open", "f.csv"), "f.csv:2: unterminated");
  EXPECT_ERROR_HAS(parse_csv("a\nb,c\"d\n", "f.csv"), "f.csv:2: a quote inside an unquoted");
  EXPECT_ERROR_HAS(parse_csv("x\n\"a\"b,c\n", "f.csv"), "f.csv:2: unexpected text after");
  EXPECT_ERROR_HAS(read_csv("/nonexistent/dir/x.csv"), "/nonexistent/dir/x.csv");
}

// --- class map, partitions
// ------------------------------------------------------------------------

TEST(Openmic, RealClassMapMatchesTheBuiltInList) {
  TUTTI_REQUIRE_SHARED("openmic/class-map.json");
  EXPECT_EQ(read_class_map(openmic_dir() / "class-map.json"), openmic_classes());
  EXPECT_EQ(openmic_classes().size(), 20u);
}

TEST(Openmic, BadClassMaps) {
  TempDir tmp;
  write_text(tmp / "a.json", "[1, 2]");
  EXPECT_ERROR_HAS(read_class_map(tmp / "a.json"), "expected a JSON object");
  write_text(tmp / "b.json", R"({"a": 0, "b": 2})");
  EXPECT_ERROR_HAS(read_class_map(tmp / "b.json"), "class 'b' has index 2, expected 0..1");
  write_text(tmp / "c.json", R"({"a": 0, "b": 0})");
  EXPECT_ERROR_HAS(read_class_map(tmp / "c.json"), "index 0 is used by both 'a' and 'b'");
  write_text(tmp / "d.json", R"({"a": "0"})");
  EXPECT_ERROR_HAS(read_class_map(tmp / "d.json"), "index of class 'a' is not an integer");
  write_text(tmp / "e.json", R"({"a": 0,)");
  EXPECT_ERROR_HAS(read_class_map(tmp / "e.json"), "e.json");
}

TEST(Openmic, RealPartitionFiles) {
  TUTTI_REQUIRE_SHARED("openmic/split01_train.csv");
  const auto train = read_key_list(openmic_dir() / "split01_train.csv");
  const auto test = read_key_list(openmic_dir() / "split01_test.csv");
  EXPECT_EQ(train.size(), 14915u);
  EXPECT_EQ(test.size(), 5085u);
  EXPECT_EQ(train.front(), "000046_3840");
  EXPECT_EQ(test.front(), "000178_3840");
  std::set<std::string> all(train.begin(), train.end());
  all.insert(test.begin(), test.end());
  EXPECT_EQ(all.size(), 20000u);  // disjoint
}

TEST(Openmic, BadPartitionFiles) {
  TempDir tmp;
  write_text(tmp / "dup.csv", "a\nb\na\n");
  EXPECT_ERROR_HAS(read_key_list(tmp / "dup.csv"), "dup.csv:3: sample key 'a' repeats line 1");
  write_text(tmp / "two.csv", "a\nb,c\n");
  EXPECT_ERROR_HAS(read_key_list(tmp / "two.csv"), "two.csv:2: expected one sample key");
  write_text(tmp / "empty.csv", "a\n\"\"\n");
  EXPECT_ERROR_HAS(read_key_list(tmp / "empty.csv"), "empty.csv:2: empty sample key");
}

// --- release folder
// -------------------------------------------------------------------------------

// ROOT with the openmic_release.npz fixture (keys 000046_3840, 000135_483840, 155311_453120).
void make_release(const fs::path& root) {
  fs::create_directories(root / "partitions");
  fs::copy_file(fixture("npz/openmic_release.npz"), root / "openmic-2018.npz");
  write_text(root / "class-map.json", class_map_json(openmic_classes()));
  // Train keys deliberately out of npz order; test file with CRLF.
  write_text(root / "partitions" / "split01_train.csv", "155311_453120\n000046_3840\n");
  write_text(root / "partitions" / "split01_test.csv", "000135_483840\r\n");
}

TEST(Openmic, ReleaseSplitsKeepNpzOrder) {
  TempDir tmp;
  make_release(tmp.path());
  const auto all = read_openmic_release(tmp.path(), "all");
  ASSERT_EQ(all.size(), 3);
  EXPECT_EQ(all.classes, openmic_classes());
  const auto train = read_openmic_release(tmp.path(), "train");
  ASSERT_EQ(train.size(), 2);
  EXPECT_EQ(train.keys, (std::vector<std::string>{"000046_3840", "155311_453120"}));
  const std::int64_t rows[] = {0, 2};
  const auto expect = all.subset(rows);
  EXPECT_EQ(train.x_u8, expect.x_u8);
  EXPECT_EQ(train.y_true, expect.y_true);
  EXPECT_EQ(train.y_mask, expect.y_mask);
  const auto test = read_openmic_release(tmp.path(), "test");
  EXPECT_EQ(test.keys, (std::vector<std::string>{"000135_483840"}));
}

TEST(Openmic, ReleaseErrors) {
  TempDir tmp;
  make_release(tmp.path());
  EXPECT_THROW(read_openmic_release(tmp.path(), "validation"), tutti::UsageError);
  write_text(tmp / "partitions" / "split01_test.csv", "000135_483840\r\n999999_0\r\n");
  EXPECT_ERROR_HAS(read_openmic_release(tmp.path(), "test"),
                   "split01_test.csv:2: sample key '999999_0' is not in");
  auto classes = openmic_classes();
  classes.pop_back();
  write_text(tmp / "class-map.json", class_map_json(classes));
  EXPECT_ERROR_HAS(read_openmic_release(tmp.path(), "all"),
                   "default class list has 19 names, but Y_true has 20 columns");
  fs::remove(tmp / "openmic-2018.npz");
  EXPECT_ERROR_HAS(read_openmic_release(tmp.path(), "all"), "openmic-2018.npz: no such file");
}

// --- AttentionMIC train/val indices
// ---------------------------------------------------------------

TEST(Openmic, RealAttentionMicSplit) {
  TUTTI_REQUIRE_SHARED("openmic/attentionmic_train_val.split");
  const auto s = read_train_val_indices(openmic_dir() / "attentionmic_train_val.split");
  EXPECT_EQ(s.train.size(), 12678u);
  EXPECT_EQ(s.val.size(), 2237u);
  std::set<std::int64_t> all(s.train.begin(), s.train.end());
  all.insert(s.val.begin(), s.val.end());
  EXPECT_EQ(all.size(), 12678u + 2237u);  // disjoint
  EXPECT_LT(*all.rbegin(), 14915);
  EXPECT_EQ(*all.begin(), 0);
  // A smaller training set than the indices need is refused.
  EXPECT_ERROR_HAS(read_train_val_indices(openmic_dir() / "attentionmic_train_val.split", 100),
                   "outside [0, 100)");
}

TEST(Openmic, BadTrainValSplits) {
  TempDir tmp;
  auto save = [&](const std::vector<std::int64_t>& train, const std::vector<std::int64_t>& val) {
    std::map<std::string, NpyArray> a;
    a["train"] = NpyArray::from_i64({static_cast<std::int64_t>(train.size())}, train);
    if (!val.empty()) a["val"] = NpyArray::from_i64({static_cast<std::int64_t>(val.size())}, val);
    write_npz(tmp / "s.split", a);
  };
  save({0, 1, 2}, {3});
  EXPECT_EQ(read_train_val_indices(tmp / "s.split", 4).val, (std::vector<std::int64_t>{3}));
  EXPECT_ERROR_HAS(read_train_val_indices(tmp / "s.split", 3),
                   "array 'val' holds index 3 at position 0, outside [0, 3)");
  save({0, 1, 2}, {1});
  EXPECT_ERROR_HAS(read_train_val_indices(tmp / "s.split", 4), "index 1 is in both");
  save({0, 1, 1}, {3});
  EXPECT_ERROR_HAS(read_train_val_indices(tmp / "s.split", 4), "array 'train' repeats index 1");
  save({0, -1}, {3});
  EXPECT_ERROR_HAS(read_train_val_indices(tmp / "s.split", 4), "holds index -1");
  save({0}, {});
  EXPECT_ERROR_HAS(read_train_val_indices(tmp / "s.split", 4), "missing array 'val'");
}

// --- per-clip VGGish JSON
// -------------------------------------------------------------------------

TEST(Openmic, RealVggishJson) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  const auto clip = read_vggish_json(openmic_dir() / "000046_3840.json");
  EXPECT_EQ(clip.frames, 10);
  EXPECT_EQ(clip.dim, 128);
  // Reference values from Python's json + numpy on the same file.
  EXPECT_EQ(clip.features[0], 173);
  EXPECT_EQ(clip.features[1], 16);
  EXPECT_EQ(clip.features[2], 162);
  EXPECT_EQ(clip.features[10 * 128 - 1], 255);
  EXPECT_EQ(std::accumulate(clip.features.begin(), clip.features.end(), 0LL), 171277);
  ASSERT_EQ(clip.time_points_s.size(), 10u);
  EXPECT_DOUBLE_EQ(clip.time_points_s[1], 0.96);
  EXPECT_DOUBLE_EQ(clip.time_points_s[9], 8.64);
}

TEST(Openmic, BadVggishJson) {
  auto parse = [](const std::string& s) { return parse_vggish_json(s, "c.json"); };
  EXPECT_ERROR_HAS(parse("{\"features\": [[1, 2]"), "c.json: invalid JSON");
  EXPECT_ERROR_HAS(parse("[]"), "c.json: expected a JSON object");
  EXPECT_ERROR_HAS(parse(R"({"time_points": []})"), "missing 'features'");
  EXPECT_ERROR_HAS(parse(R"({"features": []})"), "missing 'time_points'");
  EXPECT_ERROR_HAS(parse(R"({"features": [[1, 2], [3]], "time_points": [0, 1]})"),
                   "features[1] has 1 values, features[0] has 2");
  EXPECT_ERROR_HAS(parse(R"({"features": [[1, 256]], "time_points": [0]})"),
                   "features[0][1] = 256 is not an integer in [0, 255]");
  EXPECT_ERROR_HAS(parse(R"({"features": [[1.5]], "time_points": [0]})"), "features[0][0] = 1.5");
  EXPECT_ERROR_HAS(parse(R"({"features": [[-1]], "time_points": [0]})"), "= -1 is not");
  EXPECT_ERROR_HAS(parse(R"({"features": [7], "time_points": [0]})"), "features[0] is not a list");
  EXPECT_ERROR_HAS(parse(R"({"features": [[1]], "time_points": [0, 1]})"),
                   "2 time_points for 1 feature rows");
  EXPECT_ERROR_HAS(parse(R"({"features": [[1]], "time_points": ["0"]})"),
                   "time_points[0] is not a number");
  const auto ok = parse(R"({"features": [[1, 2], [3, 4]], "time_points": [0, 0.96], "x": 1})");
  EXPECT_EQ(ok.features, (std::vector<std::uint8_t>{1, 2, 3, 4}));
}

TEST(Openmic, PathsFollowTheReleaseLayout) {
  EXPECT_EQ(openmic_vggish_path("/r", "000046_3840"), fs::path("/r/vggish/000/000046_3840.json"));
  EXPECT_EQ(openmic_audio_path("/r", "155311_453120"), fs::path("/r/audio/155/155311_453120.ogg"));
}

// --- aggregated labels + per-clip dataset
// ---------------------------------------------------------

TEST(Openmic, AggregatedLabels) {
  const auto labels = parse_aggregated_labels(
      "sample_key,instrument,relevance,num_responses\r\n"
      "000046_3840,voice,0.17105,3\r\n"
      "\"000135_483840\",piano,1.0,4\r\n",
      "l.csv");
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0].key, "000046_3840");
  EXPECT_EQ(labels[0].instrument, "voice");
  EXPECT_FLOAT_EQ(labels[0].relevance, 0.17105f);
  EXPECT_EQ(labels[0].num_responses, 3);
  EXPECT_EQ(labels[1].line, 3);
  const std::string h = "sample_key,instrument,relevance,num_responses\n";
  EXPECT_ERROR_HAS(parse_aggregated_labels("sample_key,instrument\n", "l.csv"),
                   "l.csv:1: header has no 'relevance' column");
  EXPECT_ERROR_HAS(parse_aggregated_labels(h + "a,voice,0.5\n", "l.csv"),
                   "l.csv:2: 3 fields, the header has 4");
  EXPECT_ERROR_HAS(parse_aggregated_labels(h + "a,voice,1.5,3\n", "l.csv"),
                   "l.csv:2: relevance 1.5 is outside [0, 1]");
  EXPECT_ERROR_HAS(parse_aggregated_labels(h + "a,voice,0.5,3\nb,voice,high,3\n", "l.csv"),
                   "l.csv:3: relevance 'high' is not a number");
  EXPECT_ERROR_HAS(parse_aggregated_labels(h + "a,voice,0.5,-3\n", "l.csv"),
                   "l.csv:2: num_responses '-3'");
  EXPECT_ERROR_HAS(parse_aggregated_labels(h + ",voice,0.5,3\n", "l.csv"), "empty sample_key");
  EXPECT_ERROR_HAS(parse_aggregated_labels("", "l.csv"), "l.csv: empty file");
}

// ROOT with two clips: the real 000046_3840.json and a synthetic 8-frame one.
void make_clip_release(const fs::path& root, bool with_class_map) {
  fs::create_directories(root / "vggish" / "000");
  fs::copy_file(openmic_dir() / "000046_3840.json", root / "vggish/000/000046_3840.json");
  core::Json clip;
  clip["time_points"] = core::Json::array();
  clip["features"] = core::Json::array();
  for (int t = 0; t < 8; ++t) {
    clip["time_points"].push_back(0.96 * t);
    core::Json row = core::Json::array();
    for (int d = 0; d < 128; ++d) row.push_back((t * 128 + d) % 256);
    clip["features"].push_back(row);
  }
  write_text(root / "vggish/001/001234_5.json", clip.dump());
  write_text(root / "openmic-2018-aggregated-labels.csv",
             "sample_key,instrument,relevance,num_responses\n"
             "001234_5,voice,0.25,3\n"
             "000046_3840,piano,1.0,4\n"
             "001234_5,cello,0.75,2\n");
  if (with_class_map) write_text(root / "class-map.json", class_map_json(openmic_classes()));
}

TEST(Openmic, PerClipLayoutBuildsABagDataset) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir tmp;
  make_clip_release(tmp.path(), true);
  const auto ds = read_openmic_clips(tmp.path());
  ASSERT_EQ(ds.keys, (std::vector<std::string>{"000046_3840", "001234_5"}));
  EXPECT_EQ(ds.classes, openmic_classes());
  EXPECT_EQ(ds.max_instances, 10);
  EXPECT_EQ(ds.dim, 128);
  EXPECT_EQ(ds.n_instances, (std::vector<std::int32_t>{10, 8}));
  const auto real = read_vggish_json(openmic_dir() / "000046_3840.json");
  EXPECT_TRUE(std::equal(real.features.begin(), real.features.end(), ds.x_u8.begin()));
  const std::size_t kd = 10 * 128;
  EXPECT_EQ(ds.x_u8[kd + 3 * 128 + 5], (3 * 128 + 5) % 256);
  EXPECT_EQ(ds.x_u8[kd + 8 * 128], 0);  // zero padding after 8 frames
  const int piano = 12, cello = 3, voice = 19;
  EXPECT_TRUE(ds.known(0, piano));
  EXPECT_FLOAT_EQ(ds.label(0, piano), 1.0f);
  EXPECT_FALSE(ds.known(0, voice));
  EXPECT_FLOAT_EQ(ds.label(0, voice), 0.5f);  // unannotated, as in the release
  EXPECT_FLOAT_EQ(ds.label(1, voice), 0.25f);
  EXPECT_FLOAT_EQ(ds.label(1, cello), 0.75f);
  EXPECT_EQ(std::accumulate(ds.y_mask.begin(), ds.y_mask.end(), 0), 3);
}

TEST(Openmic, PerClipClassesFromLabelsWithoutClassMap) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir tmp;
  make_clip_release(tmp.path(), false);
  const auto ds = read_openmic_clips(tmp.path());
  EXPECT_EQ(ds.classes, (std::vector<std::string>{"cello", "piano", "voice"}));
  EXPECT_FLOAT_EQ(ds.label(1, 0), 0.75f);
}

TEST(Openmic, PerClipErrors) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir tmp;
  make_clip_release(tmp.path(), true);
  const fs::path csv = tmp / "openmic-2018-aggregated-labels.csv";
  const std::string h = "sample_key,instrument,relevance,num_responses\n";
  write_text(csv, h + "000046_3840,kazoo,1.0,4\n");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()),
                   "aggregated-labels.csv:2: unknown instrument 'kazoo'");
  write_text(csv, h + "000046_3840,piano,1.0,4\n000999_1,piano,1.0,4\n");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()),
                   "aggregated-labels.csv:3: sample key '000999_1' has no VGGish file");
  write_text(csv, h + "000046_3840,piano,1.0,4\n000046_3840,piano,0.0,4\n");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()),
                   "aggregated-labels.csv:3: (000046_3840, piano) is labeled again");
  write_text(csv, h + "000046_3840,piano,-0.5,4\n");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()), "aggregated-labels.csv:2: relevance -0.5");
  write_text(csv, h + "001234_5,piano,1.0,4\n");
  write_text(tmp / "vggish/001/001234_5.json", "{\"features\": [[1, 2]], ");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()), "001234_5.json: invalid JSON");
  write_text(csv, h + "000046_3840,piano,1.0,4\n001234_5,piano,1.0,4\n");
  write_text(tmp / "vggish/001/001234_5.json", R"({"features": [[1, 2]], "time_points": [0]})");
  EXPECT_ERROR_HAS(read_openmic_clips(tmp.path()), "001234_5.json: features have dimension 2");
}

// A clip longer than max_instances keeps its first frames and is named, so that one long clip
// cannot pad the whole dataset.
TEST(Openmic, PerClipLongClipsAreCutAndNamed) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir tmp;
  make_clip_release(tmp.path(), true);
  ClipCuts cuts;
  const auto ds = read_openmic_clips(tmp.path(), 6, &cuts);
  EXPECT_EQ(ds.max_instances, 6);
  EXPECT_EQ(ds.n_instances, (std::vector<std::int32_t>{6, 6}));
  const auto real = read_vggish_json(openmic_dir() / "000046_3840.json");
  EXPECT_TRUE(std::equal(real.features.begin(), real.features.begin() + 6 * 128, ds.x_u8.begin()));
  EXPECT_EQ(ds.x_u8[6 * 128 + 5 * 128 + 7], (5 * 128 + 7) % 256);  // clip 2, frame 5
  ASSERT_EQ(cuts.count, 2);
  ASSERT_EQ(cuts.first.size(), 2u);
  EXPECT_EQ(cuts.first[0].key, "000046_3840");
  EXPECT_EQ(cuts.first[0].frames, 10);
  EXPECT_EQ(cuts.first[1].key, "001234_5");
  EXPECT_EQ(cuts.first[1].frames, 8);
  const auto lines = cuts.warnings(6);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("000046_3840.json: clip 000046_3840 has 10 frames, kept the first 6"),
            std::string::npos)
      << lines[0];

  // The default (10, the release's clip length) cuts nothing here; 0 keeps every frame.
  ClipCuts none;
  EXPECT_EQ(read_openmic_clips(tmp.path(), kOpenmicMaxInstances, &none).max_instances, 10);
  EXPECT_EQ(read_openmic_clips(tmp.path(), 0, &none).max_instances, 10);
  EXPECT_EQ(none.count, 0);
  EXPECT_THROW(read_openmic_clips(tmp.path(), -1), UsageError);
}

// --- verify
// ---------------------------------------------------------------------------------------

TEST(Openmic, VerifyAgainstTheOfficialMd5Lists) {
  TUTTI_REQUIRE_SHARED("openmic/openmic-2018-vggish.csv");
  TempDir tmp;
  const fs::path root = tmp.path();
  fs::create_directories(root / "vggish/000");
  fs::copy_file(openmic_dir() / "000046_3840.json", root / "vggish/000/000046_3840.json");
  write_text(root / "vggish/000/000135_483840.json", "{\"not\": \"the real file\"}");
  write_text(root / "vggish/999/999999_1.json", "{}");
  const auto rep = verify_openmic_release(root, openmic_dir() / "openmic-2018-vggish.csv",
                                          OpenmicFiles::kVggish);
  EXPECT_EQ(rep.listed, 20000);
  EXPECT_EQ(rep.checked, 2);
  EXPECT_EQ(rep.missing.size(), 19998u);
  ASSERT_EQ(rep.mismatched.size(), 1u);
  EXPECT_EQ(rep.mismatched[0].key, "000135_483840");
  EXPECT_EQ(rep.mismatched[0].expected_md5, "a29261797bf4920c5e0150aec62aa077");
  ASSERT_EQ(rep.unlisted.size(), 1u);
  EXPECT_EQ(rep.unlisted[0].filename(), "999999_1.json");
  EXPECT_FALSE(rep.ok());

  // The real clip's audio matches the official audio list too.
  fs::create_directories(root / "audio/000");
  fs::copy_file(openmic_dir() / "000046_3840.ogg", root / "audio/000/000046_3840.ogg");
  const auto audio =
      verify_openmic_release(root, openmic_dir() / "openmic-2018-audio.csv", OpenmicFiles::kAudio);
  EXPECT_EQ(audio.checked, 1);
  EXPECT_TRUE(audio.mismatched.empty());
}

TEST(Openmic, VerifyPassesOnACompleteFolder) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir tmp;
  fs::create_directories(tmp / "vggish/000");
  fs::copy_file(openmic_dir() / "000046_3840.json", tmp / "vggish/000/000046_3840.json");
  write_text(tmp / "list.csv", ",md5\n000046_3840,B20F72A1C11ADB11C31165C34D3ABE28\n");
  const auto rep = verify_openmic_release(tmp.path(), tmp / "list.csv", OpenmicFiles::kVggish);
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(rep.checked, 1);
}

TEST(Openmic, BadChecksumLists) {
  TempDir tmp;
  write_text(tmp / "a.csv", "key,sha1\nx,abc\n");
  EXPECT_ERROR_HAS(read_checksum_list(tmp / "a.csv"), "a.csv:1: expected the header ',md5'");
  write_text(tmp / "b.csv", ",md5\nx,abc\n");
  EXPECT_ERROR_HAS(read_checksum_list(tmp / "b.csv"), "b.csv:2: 'abc' is not an md5");
  write_text(tmp / "c.csv",
             ",md5\nx,b20f72a1c11adb11c31165c34d3abe28\nx,b20f72a1c11adb11c31165c34d3abe28\n");
  EXPECT_ERROR_HAS(read_checksum_list(tmp / "c.csv"), "c.csv:3: key 'x' is listed twice");
  write_text(tmp / "d.csv", ",md5\nx\n");
  EXPECT_ERROR_HAS(read_checksum_list(tmp / "d.csv"), "d.csv:2: expected '<key>,<md5>'");
  EXPECT_ERROR_HAS(verify_openmic_release(tmp / "nope", tmp / "c.csv", OpenmicFiles::kAudio),
                   "not a folder");
}

}  // namespace
}  // namespace tutti::data
