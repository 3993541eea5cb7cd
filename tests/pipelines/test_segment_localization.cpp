// pipelines::read_strong_csv / predicted_events (`tutti localize --strong`): the tag timeline of each
// clip as events, checked by hand, and the CSV errors.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/pipelines/segment_localization.h"

namespace {

using tutti::testing::error_of;

TEST(SegmentLocalization, TimelineEventsByHand) {
  // 2 clips, K = 4, classes a, b; thresholds 0.5.
  auto ds = tutti::data::BagDataset::zeros(2, 4, 1, {"a", "b"}, tutti::data::FeatureType::kUint8);
  ds.keys = {"x.wav", "y.wav"};
  ds.n_instances = {4, 3};
  tutti::infer::Predictions p;
  p.n = 2, p.k = 4, p.c = 2;
  p.scores = {0.9f, 0.2f,   // clip x: a tagged, b not
              0.6f, 0.7f};  // clip y: both tagged
  p.instance = {0.8f, 0.9f, 0.1f, 0.9f, 0.6f, 0.9f, 0.7f, 0.1f,   // x: a on at 0,2,3; b blocked
                0.2f, 0.6f, 0.7f, 0.6f, 0.9f, 0.1f, 0.9f, 0.9f};  // y: a 1,2; b 0,1; t=3 pad
  const auto ev = tutti::pipelines::predicted_events(p, ds, {0.5f, 0.5f}, 1.0);
  ASSERT_EQ(ev.size(), 4u);
  auto is = [](const tutti::eval::Event& e, const char* f, const char* l, double a, double b) {
    return e.file == f && e.label == l && e.onset_s == a && e.offset_s == b;
  };
  EXPECT_TRUE(is(ev[0], "x.wav", "a", 0, 1));
  EXPECT_TRUE(is(ev[1], "x.wav", "a", 2, 4));
  EXPECT_TRUE(is(ev[2], "y.wav", "a", 1, 3));
  EXPECT_TRUE(is(ev[3], "y.wav", "b", 0, 2));
  // Without instance outputs a tagged clip is active over all its instances.
  p.instance.clear();
  const auto whole = tutti::pipelines::predicted_events(p, ds, {0.5f, 0.5f}, 1.0);
  ASSERT_EQ(whole.size(), 3u);
  EXPECT_TRUE(is(whole[0], "x.wav", "a", 0, 4));
  EXPECT_TRUE(is(whole[1], "y.wav", "a", 0, 3));
  EXPECT_TRUE(is(whole[2], "y.wav", "b", 0, 3));
  EXPECT_NE(error_of([&] { tutti::pipelines::predicted_events(p, ds, {0.5f}, 1.0); }).find("thresholds"),
            std::string::npos);
}

TEST(SegmentLocalization, StrongCsv) {
  tutti::testing::TempDir tmp;
  tutti::core::write_file_atomic(tmp / "s.csv",
                                 "file,instrument,onset_s,offset_s\nx.wav,a,0.5,2.25\n"
                                 "y.wav,b,1,1\n");
  const auto ev = tutti::pipelines::read_strong_csv(tmp / "s.csv", {"a", "b"});
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].file, "x.wav");
  EXPECT_EQ(ev[0].label, "a");
  EXPECT_DOUBLE_EQ(ev[0].onset_s, 0.5);
  EXPECT_DOUBLE_EQ(ev[0].offset_s, 2.25);
  auto err = [&](const std::string& text) {
    tutti::core::write_file_atomic(tmp / "bad.csv", text);
    return error_of([&] { tutti::pipelines::read_strong_csv(tmp / "bad.csv", {"a", "b"}); });
  };
  EXPECT_NE(err("file,instrument,onset_s\n").find("bad.csv:1: the header names no offset"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,onset_s,offset_s\nx,c,0,1\n").find("bad.csv:2: instrument 'c'"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,onset_s,offset_s\nx,a,zero,1\n").find("'zero' is not a number"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,onset_s,offset_s\nx,a,2,1\n")
                .find("bad.csv:2: offset 1 s before onset 2 s"),
            std::string::npos);
  EXPECT_NE(err("file,instrument,onset_s,offset_s\nx,a\n").find("2 fields"), std::string::npos);
  EXPECT_NE(err("").find("bad.csv: empty file"), std::string::npos);
  EXPECT_NE(err("x,a,0,1\n").find("bad.csv:1: no header"), std::string::npos);
}

}  // namespace
