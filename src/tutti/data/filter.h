// Selecting clips and classes of a bag dataset: `tutti data filter`.
//
//   tutti::data::FilterOptions opt;
//   opt.instances = 10;                       // e.g. FC needs every clip at exactly K instances
//   auto r = tutti::data::filter_bags(ds, opt, "as20-train.npz");
//   // r.data, r.kept, r.dropped, r.dropped_by
//
// Clip conditions (all must hold): n_instances == instances (when >= 0), min_instances <=
// n_instances <= max_instances (when >= 0), a known positive label among with_any (when given),
// no known positive label among without_any, a key not in without_keys. Then `classes` (when given) keeps only those class
// columns, in the given order (Y_instance too). trim_k cuts K to the longest kept clip (only
// padding is removed). Rows keep their order.
//
// Throws tutti::UsageError for a class name not in the dataset (listing the classes) or
// impossible bounds; keeping no clip is allowed here (the CLI refuses to write an empty file).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::data {

struct FilterOptions {
  std::int64_t instances = -1;      // keep clips with exactly this many instances (-1: any)
  std::int64_t min_instances = 0;   // keep clips with at least this many
  std::int64_t max_instances = -1;  // keep clips with at most this many (-1: no bound)
  std::vector<std::string> with_any;     // keep clips with a known positive among these classes
  std::vector<std::string> without_any;  // drop clips with a known positive among these classes
  std::vector<std::string> classes;      // keep these class columns, in this order (empty: all)
  std::vector<std::string> without_keys;  // drop clips with these keys (e.g. a test set's)
  bool trim_k = false;                   // K = the longest kept clip

  void validate() const;  // tutti::UsageError for negative or crossed bounds
  core::Json to_json() const;
};

struct FilterResult {
  BagDataset data;
  std::int64_t kept = 0, dropped = 0;
  // Why clips were dropped (first failing condition): "instances", "min_instances",
  // "max_instances", "with_any", "without_any", "without_keys".
  std::map<std::string, std::int64_t> dropped_by;
  core::Json to_json() const;  // {"kept", "dropped", "dropped_by", "max_instances", "classes"}
};

FilterResult filter_bags(const BagDataset& ds, const FilterOptions& options,
                         const std::string& what = "dataset");

}  // namespace tutti::data
