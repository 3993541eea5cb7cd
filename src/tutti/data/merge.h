// Several bag datasets one after the other in one dataset: `tutti data merge` and the shards of a
// manifest (merge_shards in shards.h).
//
//   auto all = tutti::data::merge_datasets({load_bags("a.npz"), load_bags("b.npz")},
//                                          {"a.npz", "b.npz"});
#pragma once

#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::data {

// K = the largest K (zero padding), Y_instance kept when every part has it, the classes, D,
// feature type and embedder of the first part with clips. names[i] names part i in errors; a part
// whose classes, D (unless it is empty), feature type or embedder differ from those is a
// tutti::Error naming both.
BagDataset merge_datasets(std::vector<BagDataset> parts, const std::vector<std::string>& names);

}  // namespace tutti::data
