// Windows and segments against hand-computed truth (no model involved).
#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"
#include "tutti/infer/tag.h"
#include "tutti/infer/tag_output.h"
#include "tutti/infer/timeline.h"

namespace tutti::infer {
namespace {

using testing::error_of;

std::vector<std::pair<std::int64_t, std::int64_t>> pairs(const std::vector<Window>& w) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const auto& x : w) out.emplace_back(x.first, x.count);
  return out;
}
using P = std::vector<std::pair<std::int64_t, std::int64_t>>;

TEST(PlanWindows, ConsecutiveWindowsLastOneShorter) {
  EXPECT_EQ(pairs(plan_windows(25, 10, false)), (P{{0, 10}, {10, 10}, {20, 5}}));
  EXPECT_EQ(pairs(plan_windows(20, 10, false)), (P{{0, 10}, {10, 10}}));
  EXPECT_EQ(pairs(plan_windows(3, 10, false)), (P{{0, 3}}));
  EXPECT_TRUE(plan_windows(0, 10, false).empty());
}

TEST(PlanWindows, FixedLengthLastWindowReachesBack) {
  EXPECT_EQ(pairs(plan_windows(25, 10, true)), (P{{0, 10}, {10, 10}, {15, 10}}));
  EXPECT_EQ(pairs(plan_windows(20, 10, true)), (P{{0, 10}, {10, 10}}));
  EXPECT_NE(error_of([] { plan_windows(5, 10, true); }).find("fewer than the 10"),
            std::string::npos);
  EXPECT_THROW(plan_windows(5, 0, false), UsageError);
}

// T = 6 instances in windows of 3, C = 2 classes (a, b), thresholds 0.5 / 0.3.
FileTags six_instances() {
  FileTags t;
  t.file = "x.wav";
  t.classes = {"a", "b"};
  t.thresholds = {0.5f, 0.3f};
  t.probability = {0.9f, 0.25f};
  t.present = {1, 0};
  t.n_instances = 6;
  t.window_instances = 3;
  t.window_first = {0, 3};
  t.window_count = {3, 3};
  t.window_scores = {0.9f, 0.2f,    // window 0: a yes, b no
                     0.6f, 0.25f};  // window 1: a yes, b no
  t.window_of = {0, 0, 0, 1, 1, 1};
  t.instance_prob = {0.2f, 0.9f,  // t0
                     0.7f, 0.9f,  // t1
                     0.8f, 0.1f,  // t2
                     0.4f, 0.1f,  // t3
                     0.5f, 0.1f,  // t4 (a: exactly the threshold counts)
                     0.9f, 0.1f};
  return t;
}

TEST(Segments, InstanceProbabilitiesInsidePositiveWindows) {
  const FileTags t = six_instances();
  const auto s = segments_from_timeline(t);
  // a: t1-t2 -> [0.96, 2.88), t4-t5 -> [3.84, 5.76); b: its windows are negative -> nothing even
  // though t0/t1 have instance probability 0.9.
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].instrument, "a");
  EXPECT_DOUBLE_EQ(s[0].start_s, 0.96);
  EXPECT_DOUBLE_EQ(s[0].end_s, 2.88);
  EXPECT_FLOAT_EQ(s[0].mean_probability, (0.7f + 0.8f) / 2);
  EXPECT_DOUBLE_EQ(s[1].start_s, 4 * 0.96);
  EXPECT_DOUBLE_EQ(s[1].end_s, 6 * 0.96);
  EXPECT_FLOAT_EQ(s[1].mean_probability, (0.5f + 0.9f) / 2);
  const auto ev = to_events("x.wav", s);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].file, "x.wav");
  EXPECT_EQ(ev[1].label, "a");
  EXPECT_DOUBLE_EQ(ev[1].onset_s, 3.84);
}

TEST(Segments, AdjacentPositiveWindowsMergeAcrossTheBoundary) {
  FileTags t = six_instances();
  t.instance_prob[3 * 2] = 0.55f;  // t3 active for a: t1..t5 one segment
  const auto s = segments_from_timeline(t);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].start_s, 0.96);
  EXPECT_DOUBLE_EQ(s[0].end_s, 5.76);
}

TEST(Segments, WithoutInstanceOutputsWholePositiveWindows) {
  FileTags t = six_instances();
  t.instance_prob.clear();  // RF_BR
  t.window_scores = {0.9f, 0.1f, 0.2f, 0.35f};
  const auto s = segments_from_timeline(t);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].instrument, "a");
  EXPECT_DOUBLE_EQ(s[0].start_s, 0.0);
  EXPECT_DOUBLE_EQ(s[0].end_s, 2.88);
  EXPECT_FLOAT_EQ(s[0].mean_probability, 0.9f);
  EXPECT_EQ(s[1].instrument, "b");
  EXPECT_DOUBLE_EQ(s[1].start_s, 2.88);
  EXPECT_DOUBLE_EQ(s[1].end_s, 5.76);
}

TEST(Segments, InconsistentTimelinesAreErrors) {
  FileTags t = six_instances();
  t.window_of.pop_back();
  EXPECT_NE(error_of([&] { segments_from_timeline(t); }).find("6 instances but 5 window indices"),
            std::string::npos);
  t = six_instances();
  t.window_of[2] = 7;
  EXPECT_NE(error_of([&] { segments_from_timeline(t); }).find("refers to window 7"),
            std::string::npos);
  t = six_instances();
  t.instance_prob.pop_back();
  EXPECT_NE(error_of([&] { segments_from_timeline(t); }).find("instance probabilities"),
            std::string::npos);
}

TEST(FileTagsJson, HoldsInstrumentsTimelineAndSegments) {
  FileTags t = six_instances();
  t.attention.assign(12, 0.25f);
  t.segments = segments_from_timeline(t);
  const auto j = t.to_json();
  EXPECT_EQ(j["instruments"]["a"]["present"], true);
  EXPECT_NEAR(j["instruments"]["b"]["threshold"].get<double>(), 0.3, 1e-7);
  ASSERT_EQ(j["timeline"].size(), 6u);
  EXPECT_NEAR(j["timeline"][4]["start_s"].get<double>(), 3.84, 1e-12);
  EXPECT_EQ(j["timeline"][4]["window"], 1);
  EXPECT_NEAR(j["timeline"][4]["prob"]["a"].get<double>(), 0.5, 1e-7);
  EXPECT_NEAR(j["timeline"][4]["window_prob"]["a"].get<double>(), 0.6, 1e-7);
  EXPECT_NEAR(j["timeline"][4]["attention"]["b"].get<double>(), 0.25, 1e-7);
  ASSERT_EQ(j["segments"].size(), 2u);
  EXPECT_EQ(j["segments"][0]["instrument"], "a");
}

TEST(StartOffset, TimelineSegmentsAndFrameScoresAreInFileTime) {
  FileTags t = six_instances();
  t.start_s = 10.0;
  t.segments = segments_from_timeline(t);
  ASSERT_FALSE(t.segments.empty());
  EXPECT_DOUBLE_EQ(t.segments.front().start_s, 10.0 + 0.96);  // a: instances 1..2
  EXPECT_DOUBLE_EQ(t.segments.front().end_s, 10.0 + 3 * 0.96);
  const auto j = t.to_json();
  EXPECT_DOUBLE_EQ(j["start_s"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(j["timeline"][2]["start_s"].get<double>(), 10.0 + 2 * 0.96);
  EXPECT_FALSE(j.contains("padded"));
}

TEST(SedScores, OneRowPerInstanceWithOnsetOffsetAndClassColumns) {
  FileTags t = six_instances();
  const std::string s = sed_scores_tsv(t);
  // Shortest round-trip decimals: 0.96 * 3 = 2.88 (as a double: 2.8799999999999999).
  EXPECT_EQ(s.substr(0, s.find('\n', s.find('\n') + 1) + 1),
            "onset\toffset\ta\tb\n0\t0.96\t0.2\t0.9\n");
  EXPECT_NE(s.find("\n2.88\t3.84\t0.4\t0.1\n"), std::string::npos) << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 7);
  // Without instance outputs the window's score is the frame score.
  t.instance_prob.clear();
  EXPECT_NE(sed_scores_tsv(t).find("\n2.88\t3.84\t0.6\t0.25\n"), std::string::npos);
}

TEST(TagOutput, DcaseEventsAndPerFileNames) {
  FileTags t = six_instances();
  t.file = "sub/x.wav";
  t.segments = segments_from_timeline(t);
  const std::vector<FileTags> files = {t};
  EXPECT_EQ(events_tsv(files, EventColumns::kDcase),
            "filename\tonset\toffset\tevent_label\nsub/x.wav\t0.960\t2.880\ta\n"
            "sub/x.wav\t3.840\t5.760\ta\n");
  EXPECT_EQ(per_file_output("out", "sub/x.wav", TagFormat::kSedScores), "out/sub/x.tsv");
  EXPECT_EQ(per_file_output("out", "/abs/y.flac", TagFormat::kEvents), "out/abs/y.events.tsv");
  EXPECT_EQ(per_file_output("out", "../up/z.mp3", TagFormat::kJsonl), "out/_/up/z.jsonl");
  EXPECT_EQ(per_file_output("out", "a.b.wav", TagFormat::kTsv), "out/a.b.tags.tsv");
  EXPECT_THROW(per_file_output("out", "x.wav", TagFormat::kTable), UsageError);
  EXPECT_EQ(parse_tag_format("sed-scores"), TagFormat::kSedScores);
  EXPECT_EQ(error_of([] { parse_tag_format("yaml"); }),
            "tag: unknown format 'yaml' (known: table, json, jsonl, csv, tsv, sed-scores, events)");
  EXPECT_THROW(format_tags(TagFormat::kSedScores, "m", "e", std::vector<FileTags>{t, t}, {}),
               UsageError);
}

}  // namespace
}  // namespace tutti::infer
