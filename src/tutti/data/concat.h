// Longer training clips by concatenation: each clip of A followed by randomly chosen clips of B.
//
//   tutti::data::ConcatOptions opt;   // one clip of B per clip, sharing a positive label, seed 0
//   opt.min_per_clip = 1; opt.max_per_clip = 2;
//   tutti::data::ConcatStats stats;
//   auto longer = tutti::data::concat_bags(a, b, opt, "a.npz", "b.npz", &stats);
//
// As the MMGAT source builds its longer training clips: clip i of A keeps its real instances and
// gets the real instances of m clips of B appended (m uniform in [min_per_clip, max_per_clip]),
// drawn without replacement from the clips of B that share a known positive label with clip i
// (same_label_only) or from all clips of B. A clip of B with the same key as clip i is never
// appended to it (so A = B works). When fewer candidates exist than m, all of them are used; a
// clip of A without a positive label (same_label_only) stays as it is. Both cases are counted.
//
// The result: one clip per clip of A, in A's order; key "<a key>+<b key>+..."; K = the longest
// total; labels are the union: Y_mask = OR of the parts, Y_true = the maximum over the parts where
// the label is known (A's value where no part knows it); Y_instance is concatenated along the
// instances when both A and B have it, and absent otherwise. Deterministic for a seed
// (std::mt19937_64, portable draws; core/random.h).
//
// Throws tutti::Error naming both files when the class lists differ (names and order), the
// feature dimension or type differ, or B is empty; tutti::UsageError for impossible options.
#pragma once

#include <cstdint>
#include <string>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::data {

struct ConcatOptions {
  int min_per_clip = 1;         // clips of B appended to each clip of A, at least ...
  int max_per_clip = 1;         // ... and at most (uniform in between)
  bool same_label_only = true;  // only clips of B sharing a known positive label
  std::uint64_t seed = 0;

  // Throws tutti::UsageError: min_per_clip < 0, max_per_clip < min_per_clip or max_per_clip < 1.
  void validate() const;
  core::Json to_json() const;
};

struct ConcatStats {
  std::int64_t clips = 0;              // clips written (= clips of A)
  std::int64_t appended = 0;           // clips of B appended in total
  std::int64_t short_of_candidates = 0;  // clips of A that got fewer than drawn (too few candidates)
  std::int64_t without_candidates = 0;   // clips of A that got nothing appended
  std::int64_t max_instances = 0;        // K of the result
  bool instance_labels = false;          // Y_instance kept (both inputs had it)
  core::Json to_json() const;
};

BagDataset concat_bags(const BagDataset& a, const BagDataset& b, const ConcatOptions& options,
                       const std::string& a_name = "A", const std::string& b_name = "B",
                       ConcatStats* stats = nullptr);

// Throws tutti::Error "<a_name> and <b_name> ..." when a and b differ in classes (names or order),
// feature dimension or feature type. Shared by concat and the test-time noise pool check.
void check_same_classes(const BagDataset& a, const BagDataset& b, const std::string& a_name,
                        const std::string& b_name);
void check_same_features(const BagDataset& a, const BagDataset& b, const std::string& a_name,
                         const std::string& b_name);

}  // namespace tutti::data
