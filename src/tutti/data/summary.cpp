#include "tutti/data/summary.h"

#include <fmt/format.h>

namespace tutti::data {

DatasetSummary summarize(const BagDataset& ds) {
  DatasetSummary s;
  s.clips = ds.size();
  s.max_instances = ds.max_instances;
  s.dim = ds.dim;
  s.feature_type = ds.feature_type == FeatureType::kUint8 ? "uint8" : "float32";
  s.has_instance_labels = ds.has_instance_labels();
  for (auto k : ds.n_instances) ++s.instances_histogram[k];
  for (std::int64_t c = 0; c < ds.num_classes(); ++c) {
    ClassCount cc{ds.classes[c], 0, 0};
    for (std::int64_t i = 0; i < ds.size(); ++i) {
      cc.known += ds.known(i, c);
      cc.positive += ds.positive(i, c);
    }
    s.classes.push_back(cc);
  }
  return s;
}

core::Json DatasetSummary::to_json() const {
  core::Json hist = core::Json::object();
  for (auto [k, n] : instances_histogram) hist[std::to_string(k)] = n;
  core::Json names = core::Json::array();
  core::Json per_class = core::Json::object();
  for (const auto& c : classes) {
    names.push_back(c.name);
    per_class[c.name] = {{"known", c.known}, {"positive", c.positive}};
  }
  return {{"clips", clips},
          {"max_instances", max_instances},
          {"dim", dim},
          {"feature_type", feature_type},
          {"instances_histogram", hist},
          {"has_instance_labels", has_instance_labels},
          {"classes", names},
          {"per_class", per_class}};
}

std::string DatasetSummary::to_text() const {
  std::string out = fmt::format("clips          {}\ninstances      max {} per clip, {} dims, {}\n",
                                clips, max_instances, dim, feature_type);
  out += "per clip       ";
  for (auto [k, n] : instances_histogram) out += fmt::format("{}: {}  ", k, n);
  out += fmt::format("\nstrong labels  {}\n\n", has_instance_labels ? "yes" : "no");
  out += fmt::format("{:<20} {:>8} {:>8}\n", "class", "known", "positive");
  for (const auto& c : classes) out += fmt::format("{:<20} {:>8} {:>8}\n", c.name, c.known, c.positive);
  return out;
}

}  // namespace tutti::data
