// merge_datasets: parts one after the other, padded to the largest K, Y_instance kept only when
// every part has it, and every mismatch an error naming the part.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/data/merge.h"

using namespace tutti::data;
using tutti::testing::error_of;

namespace {

// n clips of K instances, D = 2, classes a and b; values tell clip, instance and feature apart.
BagDataset make(std::int64_t n, std::int64_t k, const std::string& tag, bool instances = true) {
  BagDataset ds = BagDataset::zeros(n, k, 2, {"a", "b"}, FeatureType::kUint8);
  ds.embedder = "logmel-stats";
  if (instances) ds.y_instance.assign(static_cast<std::size_t>(n * k * 2), 0);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = tag + std::to_string(i);
    ds.n_instances[i] = static_cast<std::int32_t>(k - i % 2);
    for (std::int64_t v = 0; v < k * 2; ++v)
      ds.x_u8[i * k * 2 + v] = static_cast<std::uint8_t>(100 * (tag == "q") + 10 * i + v + 1);
    ds.y_true[i * 2] = static_cast<float>(i % 2);
    ds.y_mask[i * 2] = ds.y_mask[i * 2 + 1] = 1;
    if (instances) ds.y_instance[i * k * 2 + 1] = 1;  // class b in the first instance
  }
  return ds;
}

}  // namespace

TEST(MergeDatasets, PadsToTheLargestKInOrder) {
  const BagDataset p = make(2, 2, "p"), q = make(3, 3, "q");
  const BagDataset m = merge_datasets({p, q}, {"p.npz", "q.npz"});
  ASSERT_EQ(m.size(), 5);
  EXPECT_EQ(m.max_instances, 3);
  EXPECT_EQ(m.dim, 2);
  EXPECT_EQ(m.embedder, "logmel-stats");
  EXPECT_EQ(m.keys, (std::vector<std::string>{"p0", "p1", "q0", "q1", "q2"}));
  EXPECT_EQ(m.n_instances, (std::vector<std::int32_t>{2, 1, 3, 2, 3}));
  // p's clips: their 2 instances, then one of zeros; q's unchanged.
  const std::vector<std::uint8_t> p0 = {1, 2, 3, 4, 0, 0}, q2 = {121, 122, 123, 124, 125, 126};
  EXPECT_EQ(std::vector<std::uint8_t>(m.x_u8.begin(), m.x_u8.begin() + 6), p0);
  EXPECT_EQ(std::vector<std::uint8_t>(m.x_u8.end() - 6, m.x_u8.end()), q2);
  EXPECT_EQ(m.y_true, (std::vector<float>{0, 0, 1, 0, 0, 0, 1, 0, 0, 0}));
  ASSERT_TRUE(m.has_instance_labels());
  EXPECT_EQ(m.y_instance.size(), 5u * 3 * 2);
  EXPECT_EQ(m.y_instance[1], 1);       // p0, instance 0, class b
  EXPECT_EQ(m.y_instance[6 + 1], 1);   // p1
  EXPECT_EQ(m.y_instance[6 + 5], 0);   // p1's padded instance
  EXPECT_EQ(m.y_instance[24 + 1], 1);  // q2

  // One part without instance labels: none in the result.
  EXPECT_FALSE(merge_datasets({p, make(1, 2, "r", false)}, {"p", "r"}).has_instance_labels());
  // An empty first part (D = 0) takes D from the next.
  BagDataset empty = BagDataset::zeros(0, 0, 0, {"a", "b"}, FeatureType::kUint8);
  empty.embedder = "logmel-stats";
  EXPECT_EQ(merge_datasets({empty, q}, {"e", "q"}).dim, 2);
}

TEST(MergeDatasets, MismatchesNameThePart) {
  const BagDataset p = make(2, 2, "p");
  BagDataset classes = make(1, 2, "c");
  classes.classes = {"a", "x"};
  EXPECT_EQ(error_of([&] {
              merge_datasets({p, classes}, {"p.npz", "c.npz"});
            }),
            "c.npz: classes differ from p.npz's");
  BagDataset emb = make(1, 2, "e");
  emb.embedder = "vggish";
  EXPECT_EQ(error_of([&] {
              merge_datasets({p, emb}, {"p.npz", "e.npz"});
            }),
            "e.npz: embedder 'vggish' differs from p.npz's 'logmel-stats'");
  BagDataset wide = BagDataset::zeros(1, 2, 3, {"a", "b"}, FeatureType::kUint8);
  wide.embedder = "logmel-stats";
  EXPECT_EQ(error_of([&] {
              merge_datasets({p, wide}, {"p.npz", "w.npz"});
            }),
            "w.npz: D = 3 differs from p.npz's 2");
  BagDataset f32 = BagDataset::zeros(1, 2, 2, {"a", "b"}, FeatureType::kFloat32);
  f32.embedder = "logmel-stats";
  EXPECT_EQ(error_of([&] {
              merge_datasets({p, f32}, {"p.npz", "f.npz"});
            }),
            "f.npz: feature type differs from p.npz's");
  EXPECT_THROW(merge_datasets({}, {}), tutti::Error);
  EXPECT_THROW(merge_datasets({p}, {"p", "extra"}), tutti::Error);
}
