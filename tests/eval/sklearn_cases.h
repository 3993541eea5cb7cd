// The scikit-learn reference values (tests/fixtures/metrics/sklearn_cases.json, made by
// tools/fixtures/make_metrics_fixtures.py), read once per test program.
#pragma once

#include "test_util.h"
#include "tutti/core/json.h"

namespace tutti::eval {

inline const core::Json& cases() {
  static const core::Json j =
      core::read_json_file(tutti::testing::fixture("metrics/sklearn_cases.json"));
  return j;
}

}  // namespace tutti::eval
