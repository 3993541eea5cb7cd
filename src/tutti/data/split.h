// Deterministic, stratified train/test splits of multi-label bag datasets.
//
// Iterative stratification (Sechidis, Tsoumakas & Vlahavas, "On the Stratification of Multi-Label
// Data", ECML PKDD 2011): labels are handled rarest first; each clip carrying the label goes to the
// side that still wants most of that label's positives. Ties are broken by a seeded RNG, so the same
// data and seed always give the same split. A final repair moves one clip so that every class with
// at least two positives has a positive on both sides. Only known positives (mask true, relevance
// >= 0.5) count; clips without any go by the overall fraction.
#pragma once

#include <cstdint>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::data {

struct SplitIndices {
  std::vector<std::int64_t> train;  // ascending row indices
  std::vector<std::int64_t> test;   // ascending row indices
};

// test_fraction in (0, 1). Throws tutti::UsageError for an impossible fraction or an empty dataset.
SplitIndices stratified_split(const BagDataset& ds, double test_fraction, std::uint64_t seed);

}  // namespace tutti::data
