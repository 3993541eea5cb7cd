// Conversions cut clips longer than max_instances (ClipCuts): an AudioSet shard with one 25-frame
// record among release clips (tools/fixtures/make_tfrecord_fixtures.py; reference frame sums from
// its pure-Python reader), and the warning lines.
#include <gtest/gtest.h>

#include <numeric>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/audioset.h"
#include "tutti/data/clip_cut.h"

namespace tutti::data {
namespace {

namespace fs = std::filesystem;
using tutti::testing::fixture;

const fs::path kLong = fixture("audioset/long/long.tfrecord");
const fs::path kMeta = fixture("audioset/meta");

core::Json expected_long() {
  return core::read_json_file(fixture("audioset/expected.json"))["long"];
}

std::int64_t frame_sum(const BagDataset& ds, std::int64_t i, std::int64_t t) {
  const auto at = ds.x_u8.begin() + (i * ds.max_instances + t) * ds.dim;
  return std::accumulate(at, at + ds.dim, std::int64_t{0});
}

TEST(AudioSetLongClips, CutToTheFirstTenFramesByDefaultAndNamed) {
  const auto e = expected_long();
  ASSERT_EQ(e["frames"][1].get<int>(), 25);
  ClipCuts cuts;
  const auto ds = read_audioset(kLong, kMeta, {}, nullptr, &cuts);
  ASSERT_EQ(ds.size(), 2);
  EXPECT_EQ(ds.max_instances, kAudioSetMaxInstances);
  EXPECT_EQ(ds.n_instances, (std::vector<std::int32_t>{10, 10}));
  EXPECT_EQ(ds.keys, e["keys"].get<std::vector<std::string>>());
  for (std::int64_t i = 0; i < 2; ++i)
    for (std::int64_t t = 0; t < 10; ++t)
      EXPECT_EQ(frame_sum(ds, i, t), e["frame_byte_sums"][i][t].get<std::int64_t>()) << i << t;
  ASSERT_EQ(cuts.count, 1);
  ASSERT_EQ(cuts.first.size(), 1u);
  EXPECT_EQ(cuts.first[0].key, e["keys"][1].get<std::string>());
  EXPECT_EQ(cuts.first[0].frames, 25);
  EXPECT_EQ(cuts.first[0].where, kLong.string());
  const auto lines = cuts.warnings(10);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], kLong.string() + ": clip " + e["keys"][1].get<std::string>() +
                          " has 25 frames, kept the first 10");
}

TEST(AudioSetLongClips, ZeroKeepsEveryFrameAndOtherLimitsApply) {
  const auto e = expected_long();
  AudioSetOptions opt;
  opt.max_instances = 0;
  ClipCuts cuts;
  const auto all = read_audioset(kLong, kMeta, opt, nullptr, &cuts);
  EXPECT_EQ(all.max_instances, 25);
  EXPECT_EQ(all.n_instances, (std::vector<std::int32_t>{10, 25}));
  EXPECT_EQ(frame_sum(all, 1, 24), e["frame_byte_sums"][1][24].get<std::int64_t>());
  EXPECT_EQ(cuts.count, 0);

  opt.max_instances = 4;
  for (int threads : {1, 2}) {
    opt.threads = threads;
    ClipCuts four;
    const auto ds = read_audioset(std::vector<fs::path>{kLong, kLong}, kMeta, opt, nullptr, &four);
    EXPECT_EQ(ds.max_instances, 4);
    EXPECT_EQ(four.count, 4);  // every clip of both inputs, in dataset order
    ASSERT_EQ(four.first.size(), 4u);
    EXPECT_EQ(four.first[0].frames, 10);
    EXPECT_EQ(four.first[1].frames, 25);
  }
  opt.max_instances = -1;
  EXPECT_THROW(read_audioset(kLong, kMeta, opt), UsageError);
  EXPECT_EQ(AudioSetOptions::from_json({{"max_instances", 0}}).max_instances, 0);
  EXPECT_THROW(AudioSetOptions::from_json({{"max_instances", -2}}), UsageError);
}

TEST(ClipCuts, NamesTheFirstTenThenCounts) {
  ClipCuts a, b;
  for (int i = 0; i < 7; ++i) a.add("a.tfrecord", "a" + std::to_string(i), 20);
  for (int i = 0; i < 8; ++i) b.add("b.tfrecord", "b" + std::to_string(i), 30);
  a.append(b);
  EXPECT_EQ(a.count, 15);
  ASSERT_EQ(a.first.size(), ClipCuts::kNamed);
  EXPECT_EQ(a.first[7].key, "b0");
  const auto lines = a.warnings(10);
  ASSERT_EQ(lines.size(), ClipCuts::kNamed + 1);
  EXPECT_EQ(lines.back(),
            "15 clips longer than 10 frames were cut (5 more than named above); --max-instances 0 "
            "keeps every frame");
  EXPECT_TRUE(ClipCuts{}.warnings(10).empty());
}

}  // namespace
}  // namespace tutti::data
