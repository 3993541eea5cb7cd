// A dataset's summary: what `tutti data info` prints (table or JSON).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::data {

struct ClassCount {
  std::string name;
  std::int64_t known = 0;
  std::int64_t positive = 0;  // known and relevance >= 0.5
};

struct DatasetSummary {
  std::int64_t clips = 0;
  std::int64_t max_instances = 0;
  std::int64_t dim = 0;
  std::string feature_type;                               // "uint8" or "float32"
  std::map<std::int32_t, std::int64_t> instances_histogram;  // instances per clip -> clips
  std::vector<ClassCount> classes;
  bool has_instance_labels = false;

  core::Json to_json() const;
  std::string to_text() const;  // a human-readable table
};

DatasetSummary summarize(const BagDataset& ds);

}  // namespace tutti::data
