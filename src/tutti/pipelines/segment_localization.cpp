#include "tutti/pipelines/segment_localization.h"

#include <set>

#include "tutti/core/error.h"
#include "tutti/eval/event_list.h"
#include "tutti/infer/timeline.h"

namespace tutti::pipelines {

std::vector<eval::Event> read_strong_csv(const std::filesystem::path& csv,
                                         const std::vector<std::string>& classes) {
  return eval::read_event_list(csv, {.labels = classes, .require_header = true}).events;
}

std::vector<eval::Event> predicted_events(const infer::Predictions& p, const data::BagDataset& ds,
                                          const std::vector<float>& thresholds, double hop_s) {
  const std::int64_t c = ds.num_classes(), k = ds.max_instances;
  check(p.n == ds.size() && p.c == c && p.k == k && thresholds.size() == static_cast<size_t>(c),
        "localize: predictions ({}, {}, {}) / {} thresholds do not fit the data ({}, {}, {})", p.n,
        p.k, p.c, thresholds.size(), ds.size(), k, c);
  std::vector<eval::Event> out;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    infer::FileTags t;
    t.file = ds.keys[i];
    t.hop_s = hop_s;
    t.classes = ds.classes;
    t.thresholds = thresholds;
    t.n_instances = ds.n_instances[i];
    t.duration_s = static_cast<double>(t.n_instances) * hop_s;
    t.window_instances = k;
    if (t.n_instances > 0) {
      t.window_first = {0};
      t.window_count = {t.n_instances};
      t.window_scores.assign(p.scores.begin() + i * c, p.scores.begin() + (i + 1) * c);
      t.window_of.assign(static_cast<std::size_t>(t.n_instances), 0);
      if (!p.instance.empty())
        t.instance_prob.assign(p.instance.begin() + i * k * c,
                               p.instance.begin() + (i * k + t.n_instances) * c);
    }
    t.probability.assign(static_cast<std::size_t>(c), 0.0f);
    t.present.assign(static_cast<std::size_t>(c), 0);
    for (std::int64_t j = 0; j < c && t.n_instances > 0; ++j) {
      t.probability[j] = t.window_scores[j];
      t.present[j] = t.probability[j] >= thresholds[j];
    }
    const auto segs = infer::segments_from_timeline(t);
    for (auto& e : infer::to_events(t.file, segs)) out.push_back(std::move(e));
  }
  return out;
}

eval::SegmentReport segment_localization(const infer::Predictor& predictor,
                                         const data::BagDataset& ds,
                                         const std::filesystem::path& strong_csv,
                                         double resolution_s, int threads,
                                         const std::string& what) {
  const auto& info = predictor.info();
  check(info.classes == ds.classes,
        "localize: {}: its classes differ from the model's (same names in the same order needed)",
        what);
  auto ref = read_strong_csv(strong_csv, ds.classes);
  const std::set<std::string> keys(ds.keys.begin(), ds.keys.end());
  for (const auto& e : ref)
    check(keys.count(e.file), "localize: {}: file '{}' is not a clip of {}", strong_csv.string(),
          e.file, what);
  const auto p = predictor.predict(ds, /*with_instances=*/true, threads, what);
  std::vector<float> thr = info.thresholds;
  if (thr.empty()) thr.assign(static_cast<std::size_t>(ds.num_classes()), 0.5f);
  const auto est = predicted_events(p, ds, thr);
  return eval::segment_based_metrics(ref, est, ds.classes, resolution_s);
}

}  // namespace tutti::pipelines
