// Shared helpers of the training tests: the fixtures of tools/fixtures/make_train_fixtures.py.
#pragma once

#include <string>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"

namespace tutti::testing {

inline data::BagDataset train_fixture(const std::string& name) {
  return data::load_bags(fixture("train/" + name));
}

inline core::Json train_reference() { return core::read_json_file(fixture("train/reference.json")); }

}  // namespace tutti::testing
