// Shared helpers of the training tests: the fixtures of tools/fixtures/make_train_fixtures.py.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/train/train_config.h"

namespace tutti::testing {

inline data::BagDataset train_fixture(const std::string& name) {
  return data::load_bags(fixture("train/" + name));
}

// Rows [from, to) of `ds`.
inline data::BagDataset row_range(const data::BagDataset& ds, std::int64_t from, std::int64_t to) {
  std::vector<std::int64_t> idx;
  for (std::int64_t i = from; i < to; ++i) idx.push_back(i);
  return ds.subset(idx);
}

// ATT for `epochs` epochs in small batches on one thread, seed 7.
inline train::TrainConfig small_att_config(int epochs) {
  auto cfg = train::TrainConfig::for_model("att");
  cfg.epochs = epochs;
  cfg.batch_size = 32;
  cfg.threads = 1;
  cfg.seed = 7;
  return cfg;
}

inline core::Json train_reference() {
  return core::read_json_file(fixture("train/reference.json"));
}

}  // namespace tutti::testing
