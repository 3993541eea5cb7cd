// data::concat_bags: hand-checkable concatenations, label union, determinism, error paths.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

#include "test_util.h"
#include "tutti/data/concat.h"

namespace tutti::data {
namespace {

using tutti::testing::error_of;

// n clips, K = 3, D = 2 uint8; clip i has `len[i]` instances whose features are (10*i + t, tag);
// labels from `pos` (all known unless listed in `unknown`).
BagDataset make(const std::string& prefix, std::vector<int> len, std::vector<std::vector<int>> pos,
                std::uint8_t tag, std::vector<std::pair<int, int>> unknown = {}) {
  const auto n = static_cast<std::int64_t>(len.size());
  auto ds = BagDataset::zeros(n, 3, 2, {"a", "b", "c"}, FeatureType::kUint8);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = fmt::format("{}{}", prefix, i);
    ds.n_instances[i] = len[i];
    for (int t = 0; t < len[i]; ++t) {
      ds.x_u8[(i * 3 + t) * 2] = static_cast<std::uint8_t>(10 * i + t);
      ds.x_u8[(i * 3 + t) * 2 + 1] = tag;
    }
    for (int c = 0; c < 3; ++c) ds.y_mask[i * 3 + c] = 1;
    for (const int c : pos[i]) ds.y_true[i * 3 + c] = 1.0f;
  }
  for (auto [i, c] : unknown) {
    ds.y_mask[i * 3 + c] = 0;
    ds.y_true[i * 3 + c] = 0.5f;
  }
  return ds;
}

TEST(Concat, SameLabelPartnerIsAppendedAfterTheRealInstances) {
  // A: clip 0 has class a, clip 1 class c. B: clip 0 class b, clip 1 class a, clip 2 class c.
  const auto a = make("a", {2, 3}, {{0}, {2}}, 1);
  const auto b = make("b", {1, 3, 2}, {{1}, {0, 1}, {2}}, 2);
  ConcatStats st;
  const auto out = concat_bags(a, b, {}, "A.npz", "B.npz", &st);
  ASSERT_EQ(out.size(), 2);
  EXPECT_EQ(out.keys[0], "a0+b1");  // the only clip of B with class a
  EXPECT_EQ(out.keys[1], "a1+b2");  // the only one with class c
  EXPECT_EQ(out.max_instances, 5);  // 2 + 3 and 3 + 2
  EXPECT_EQ(out.n_instances, (std::vector<std::int32_t>{5, 5}));
  // Clip 0: A0's two instances (0, 1; tag 1), then B1's three (10, 11, 12; tag 2).
  const std::vector<std::uint8_t> want0 = {0, 1, 1, 1, 10, 2, 11, 2, 12, 2};
  EXPECT_EQ(std::vector<std::uint8_t>(out.x_u8.begin(), out.x_u8.begin() + 10), want0);
  // Labels: union. Clip 0 = {a} u {a, b}.
  EXPECT_EQ(std::vector<float>(out.y_true.begin(), out.y_true.begin() + 3),
            (std::vector<float>{1, 1, 0}));
  EXPECT_EQ(std::vector<float>(out.y_true.begin() + 3, out.y_true.end()),
            (std::vector<float>{0, 0, 1}));
  EXPECT_EQ(st.appended, 2);
  EXPECT_EQ(st.without_candidates, 0);
  EXPECT_EQ(st.max_instances, 5);
  EXPECT_FALSE(st.instance_labels);
  EXPECT_NO_THROW(out.validate("out"));
}

TEST(Concat, MaskIsOrAndRelevanceIsTheMaxOverKnownParts) {
  // A0 knows a = 1, b unknown (0.5), c = 0. B0 knows a = 1 (shared), b = 0, c unknown (0.5).
  auto a = make("a", {1}, {{0}}, 1, {{0, 1}});
  auto b = make("b", {1}, {{0}}, 2, {{0, 2}});
  b.y_true[0] = 0.7f;
  const auto out = concat_bags(a, b, {});
  EXPECT_EQ(out.y_mask, (std::vector<std::uint8_t>{1, 1, 1}));
  EXPECT_EQ(out.y_true, (std::vector<float>{1.0f, 0.0f, 0.0f}));
  // Unknown in both: A's value stays, mask stays 0.
  auto a2 = make("a", {1}, {{0}}, 1, {{0, 2}});
  const auto out2 = concat_bags(a2, b, {});
  EXPECT_EQ(out2.y_mask, (std::vector<std::uint8_t>{1, 1, 0}));
  EXPECT_EQ(out2.y_true[2], 0.5f);
}

TEST(Concat, NoCandidateLeavesTheClipAsItIsAndCountsIt) {
  const auto a = make("a", {2, 1}, {{0}, {}}, 1);
  const auto b = make("b", {1}, {{1}}, 2);
  ConcatStats st;
  const auto out = concat_bags(a, b, {}, "A", "B", &st);
  EXPECT_EQ(out.keys, (std::vector<std::string>{"a0", "a1"}));
  EXPECT_EQ(out.max_instances, 2);
  EXPECT_EQ(st.without_candidates, 2);
  EXPECT_EQ(st.short_of_candidates, 2);
  EXPECT_EQ(st.appended, 0);
  // --any: B0 is appended to both.
  ConcatOptions any;
  any.same_label_only = false;
  const auto out2 = concat_bags(a, b, any, "A", "B", &st);
  EXPECT_EQ(out2.keys, (std::vector<std::string>{"a0+b0", "a1+b0"}));
  EXPECT_EQ(out2.max_instances, 3);
  EXPECT_EQ(st.appended, 2);
}

TEST(Concat, SelfConcatNeverAppendsAClipToItselfAndDrawsWithoutReplacement) {
  std::vector<int> len(20, 1);
  std::vector<std::vector<int>> pos(20, {0});
  const auto a = make("k", len, pos, 1);
  ConcatOptions opt;
  opt.min_per_clip = 2;
  opt.max_per_clip = 4;
  opt.seed = 5;
  ConcatStats st;
  const auto out = concat_bags(a, a, opt, "A", "A", &st);
  std::set<int> counts;
  for (std::int64_t i = 0; i < out.size(); ++i) {
    std::vector<std::string> parts;
    std::string s = out.keys[i];
    for (std::size_t at; (at = s.find('+')) != std::string::npos; s = s.substr(at + 1))
      parts.push_back(s.substr(0, at));
    parts.push_back(s);
    EXPECT_EQ(parts[0], a.keys[i]);
    const std::set<std::string> uniq(parts.begin(), parts.end());
    EXPECT_EQ(uniq.size(), parts.size()) << out.keys[i];  // not twice, not itself
    counts.insert(static_cast<int>(parts.size()) - 1);
    EXPECT_EQ(out.n_instances[i], static_cast<int>(parts.size()));
  }
  EXPECT_EQ(counts, (std::set<int>{2, 3, 4}));  // every count in [2, 4] occurs over 20 draws
  EXPECT_EQ(st.short_of_candidates, 0);
  // Deterministic for a seed, different for another.
  EXPECT_EQ(concat_bags(a, a, opt).keys, out.keys);
  opt.seed = 6;
  EXPECT_NE(concat_bags(a, a, opt).keys, out.keys);
}

TEST(Concat, InstanceLabelsAreConcatenatedWhenBothHaveThem) {
  auto a = make("a", {1}, {{0}}, 1);
  auto b = make("b", {2}, {{0}}, 2);
  a.y_instance.assign(3 * 3, 0);
  a.y_instance[0] = 1;  // a active in A's instance 0
  b.y_instance.assign(3 * 3, 0);
  b.y_instance[1 * 3 + 0] = 1;  // a active in B's instance 1
  b.y_instance[0 * 3 + 2] = 1;  // c active in B's instance 0
  ConcatStats st;
  const auto out = concat_bags(a, b, {}, "A", "B", &st);
  EXPECT_TRUE(st.instance_labels);
  EXPECT_EQ(out.y_instance, (std::vector<std::uint8_t>{1, 0, 0, 0, 0, 1, 1, 0, 0}));
  b.y_instance.clear();
  EXPECT_FALSE(concat_bags(a, b, {}).has_instance_labels());
}

TEST(Concat, FloatFeatures) {
  auto a = BagDataset::zeros(1, 2, 1, {"a"}, FeatureType::kFloat32);
  auto b = a;
  a.keys = {"x"};
  b.keys = {"y"};
  a.n_instances = {2};
  b.n_instances = {1};
  a.x_f32 = {0.25f, 0.5f};
  b.x_f32 = {-1.0f, 9.0f};  // padding value 9 must not be copied
  a.y_mask = b.y_mask = {1};
  a.y_true = b.y_true = {1};
  const auto out = concat_bags(a, b, {});
  EXPECT_EQ(out.x_f32, (std::vector<float>{0.25f, 0.5f, -1.0f}));
}

TEST(Concat, EmbedderRecordIsKeptAndMustAgree) {
  auto a = make("a", {1}, {{0}}, 1);
  auto b = make("b", {1}, {{0}}, 2);
  b.embedder = "vggish";
  EXPECT_EQ(concat_bags(a, b, {}).embedder, "vggish");  // unknown + known -> known
  a.embedder = "vggish";
  EXPECT_EQ(concat_bags(a, b, {}).embedder, "vggish");
  b.embedder = "logmel-stats";
  const auto msg = error_of([&] { concat_bags(a, b, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("x.npz and y.npz come from different embedders: 'vggish' vs 'logmel-stats'"),
            std::string::npos)
      << msg;
}

TEST(Concat, Errors) {
  const auto a = make("a", {1}, {{0}}, 1);
  auto b = make("b", {1}, {{0}}, 2);
  b.classes[1] = "bass";
  auto msg = error_of([&] { concat_bags(a, b, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("x.npz and y.npz have different class lists: class 1 is 'b' in x.npz but "
                     "'bass' in y.npz"),
            std::string::npos)
      << msg;
  auto b2 = BagDataset::zeros(1, 1, 2, {"a", "b"}, FeatureType::kUint8);
  msg = error_of([&] { concat_bags(a, b2, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("x.npz has 3 classes [a, b, c], y.npz has 2 [a, b]"), std::string::npos)
      << msg;
  auto b3 = BagDataset::zeros(1, 3, 4, a.classes, FeatureType::kUint8);
  msg = error_of([&] { concat_bags(a, b3, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("different feature dimensions: D = 2 vs 4"), std::string::npos) << msg;
  auto b4 = BagDataset::zeros(1, 3, 2, a.classes, FeatureType::kFloat32);
  msg = error_of([&] { concat_bags(a, b4, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("different feature types: uint8 vs float32"), std::string::npos) << msg;
  auto empty = BagDataset::zeros(0, 3, 2, a.classes, FeatureType::kUint8);
  msg = error_of([&] { concat_bags(a, empty, {}, "x.npz", "y.npz"); });
  EXPECT_NE(msg.find("y.npz has no clips"), std::string::npos) << msg;
  ConcatOptions bad;
  bad.max_per_clip = 0;
  EXPECT_THROW(concat_bags(a, a, bad), UsageError);
  bad.max_per_clip = 2;
  bad.min_per_clip = 3;
  EXPECT_THROW(bad.validate(), UsageError);
  bad.min_per_clip = -1;
  EXPECT_THROW(bad.validate(), UsageError);
}

}  // namespace
}  // namespace tutti::data
