// meta.json sizes are checked on load against sane bounds (models::kMax*), so that a corrupt or
// hostile model file is refused with its name instead of asking LibTorch for terabytes.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/infer/model_file.h"

namespace tutti::infer {
namespace {

using tutti::testing::error_of;

core::Json good_meta() {
  ModelInfo m;
  m.spec.name = "att";
  m.spec.num_classes = 2;
  m.classes = {"a", "b"};
  m.thresholds = {0.5f, 0.5f};
  return m.to_json();
}

TEST(ModelMetaBounds, SizesAtTheBoundsLoadAndBeyondAreRefusedNamingTheFile) {
  EXPECT_NO_THROW(ModelInfo::from_json(good_meta(), "m.tutti"));
  auto at_bound = good_meta();
  at_bound["model"]["max_instances"] = models::kMaxInstances;
  at_bound["features"]["max_instances"] = models::kMaxInstances;
  at_bound["model"]["input_dim"] = models::kMaxInputDim;
  at_bound["features"]["dim"] = models::kMaxInputDim;
  EXPECT_NO_THROW(ModelInfo::from_json(at_bound, "m.tutti"));

  struct Case {
    const char* field;
    const char* key;
    std::int64_t value;
    const char* want;
  };
  const Case cases[] = {
      {"model", "max_instances", 1000000000000,
       "max_instances must be in [1, 100000], got 1000000000000"},
      {"model", "max_instances", 0, "max_instances must be in [1, 100000], got 0"},
      {"model", "input_dim", 65537, "input_dim must be in [1, 65536], got 65537"},
      {"model", "num_classes", 100001, "num_classes must be in [1, 100000], got 100001"},
      {"features", "max_instances", 100001, "features.max_instances must be in [1, 100000]"},
  };
  for (const auto& c : cases) {
    auto j = good_meta();
    j[c.field][c.key] = c.value;
    if (std::string(c.key) == "input_dim") j["features"]["dim"] = c.value;
    const auto msg = error_of([&] { ModelInfo::from_json(j, "m.tutti"); });
    EXPECT_EQ(msg.rfind("model: m.tutti: meta.json: ", 0), 0u) << msg;
    EXPECT_NE(msg.find(c.want), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace tutti::infer
