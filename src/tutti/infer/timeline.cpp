#include "tutti/infer/timeline.h"

#include "tutti/core/error.h"

namespace tutti::infer {

void FileTags::validate() const {
  const auto c = static_cast<std::size_t>(num_classes());
  const auto t = static_cast<std::size_t>(n_instances);
  const auto w = window_first.size();
  check(thresholds.size() == c && probability.size() == c && present.size() == c,
        "tags of {}: {} classes but {} thresholds, {} probabilities, {} decisions", file, c,
        thresholds.size(), probability.size(), present.size());
  check(window_count.size() == w && window_scores.size() == w * c,
        "tags of {}: {} windows but {} counts and {} window scores", file, w, window_count.size(),
        window_scores.size());
  check(window_of.size() == t, "tags of {}: {} instances but {} window indices", file, t,
        window_of.size());
  for (std::size_t i = 0; i < t; ++i)
    check(window_of[i] >= 0 && static_cast<std::size_t>(window_of[i]) < w,
          "tags of {}: instance {} refers to window {} of {}", file, i, window_of[i], w);
  check(instance_prob.empty() || instance_prob.size() == t * c,
        "tags of {}: instance probabilities hold {} values, expected {}", file,
        instance_prob.size(), t * c);
  check(attention.empty() || attention.size() == t * c,
        "tags of {}: attention holds {} values, expected {}", file, attention.size(), t * c);
  check(hop_s > 0, "tags of {}: hop {} s must be > 0", file, hop_s);
}

std::vector<Segment> segments_from_timeline(const FileTags& tags) {
  tags.validate();
  const std::int64_t n_cls = tags.num_classes(), n = tags.n_instances;
  std::vector<Segment> out;
  for (std::int64_t c = 0; c < n_cls; ++c) {
    const float thr = tags.thresholds[static_cast<std::size_t>(c)];
    auto value = [&](std::int64_t t) { return tags.frame_score(t, c); };
    auto active = [&](std::int64_t t) {
      return tags.window_score_of(t, c) >= thr && value(t) >= thr;
    };
    for (std::int64_t t = 0; t < n;) {
      if (!active(t)) {
        ++t;
        continue;
      }
      const std::int64_t t0 = t;
      double sum = 0;
      for (; t < n && active(t); ++t) sum += value(t);
      out.push_back({tags.classes[static_cast<std::size_t>(c)], static_cast<int>(c),
                     tags.instance_start_s(t0), tags.instance_start_s(t),
                     static_cast<float>(sum / static_cast<double>(t - t0))});
    }
  }
  return out;
}

std::vector<eval::Event> to_events(const std::string& file, std::span<const Segment> segments) {
  std::vector<eval::Event> out;
  out.reserve(segments.size());
  for (const auto& s : segments) out.push_back({file, s.instrument, s.start_s, s.end_s});
  return out;
}

core::Json FileTags::to_json() const {
  const auto c = static_cast<std::size_t>(num_classes());
  core::Json j;
  j["file"] = file;
  j["duration_s"] = duration_s;
  j["hop_s"] = hop_s;
  if (start_s > 0) j["start_s"] = start_s;
  if (padded) j["padded"] = true;
  j["window_instances"] = window_instances;
  j["n_instances"] = n_instances;
  if (!note.empty()) j["note"] = note;
  core::Json inst = core::Json::object();
  for (std::size_t k = 0; k < c; ++k)
    inst[classes[k]] = {{"probability", core::number_or_null(probability[k])},
                        {"threshold", core::number_or_null(thresholds[k])},
                        {"present", present[k] != 0}};
  j["instruments"] = inst;
  core::Json tl = core::Json::array();
  for (std::int64_t t = 0; t < n_instances; ++t) {
    core::Json e;
    e["start_s"] = instance_start_s(t);
    e["end_s"] = instance_start_s(t + 1);
    e["window"] = window_of[static_cast<std::size_t>(t)];
    core::Json wp = core::Json::object(), p = core::Json::object(), a = core::Json::object();
    for (std::size_t k = 0; k < c; ++k) {
      wp[classes[k]] = window_score_of(t, static_cast<std::int64_t>(k));
      const std::size_t at = static_cast<std::size_t>(t) * c + k;
      if (!instance_prob.empty()) p[classes[k]] = core::number_or_null(instance_prob[at]);
      if (!attention.empty()) a[classes[k]] = core::number_or_null(attention[at]);
    }
    e["window_prob"] = wp;
    if (!instance_prob.empty()) e["prob"] = p;
    if (!attention.empty()) e["attention"] = a;
    tl.push_back(std::move(e));
  }
  j["timeline"] = tl;
  core::Json segs = core::Json::array();
  for (const auto& s : segments)
    segs.push_back({{"instrument", s.instrument},
                    {"start_s", s.start_s},
                    {"end_s", s.end_s},
                    {"mean_probability", core::number_or_null(s.mean_probability)}});
  j["segments"] = segs;
  return j;
}

}  // namespace tutti::infer
