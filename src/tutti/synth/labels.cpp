#include "tutti/synth/labels.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "tutti/core/error.h"

namespace tutti::synth {

std::vector<Segment> merge_segments(std::vector<Segment> segs, double merge_gap_s) {
  std::sort(segs.begin(), segs.end(),
            [](const Segment& a, const Segment& b) { return a.onset_s < b.onset_s; });
  std::vector<Segment> out;
  for (const auto& s : segs) {
    if (!out.empty() && s.onset_s - out.back().offset_s < merge_gap_s) {
      out.back().offset_s = std::max(out.back().offset_s, s.offset_s);
    } else {
      out.push_back(s);
    }
  }
  return out;
}

std::vector<StrongLabel> strong_labels(const Score& score, double release_s, double merge_gap_s) {
  check<UsageError>(release_s >= 0 && merge_gap_s >= 0,
                    "synth labels: release_s ({}) and merge_gap_s ({}) must be >= 0", release_s,
                    merge_gap_s);
  const double sr = score.sample_rate_hz;
  const double end_s = score.duration_s();
  std::map<int, std::vector<Segment>> by_class;
  for (const auto& part : score.parts) {
    auto& segs = by_class[part.class_index];
    for (const auto& n : part.notes) {
      const double on = n.on / sr;
      const double off = std::min(n.off / sr + release_s, end_s);
      if (off > on) segs.push_back({on, off});
    }
  }
  std::vector<StrongLabel> out;
  for (auto& [c, segs] : by_class)
    for (const auto& s : merge_segments(std::move(segs), merge_gap_s))
      out.push_back({c, s.onset_s, s.offset_s});
  return out;
}

WeakLabels weak_labels(std::span<const StrongLabel> strong,
                       std::span<const std::uint8_t> playable) {
  WeakLabels w;
  w.relevance.assign(playable.size(), 0.0f);
  w.known.assign(playable.begin(), playable.end());
  for (auto& k : w.known) k = k ? 1 : 0;
  for (const auto& s : strong) {
    check(s.class_index >= 0 && static_cast<std::size_t>(s.class_index) < playable.size(),
          "synth labels: class index {} outside [0, {})", s.class_index, playable.size());
    w.relevance[static_cast<std::size_t>(s.class_index)] = 1.0f;
    w.known[static_cast<std::size_t>(s.class_index)] = 1;
  }
  return w;
}

int num_instances(double duration_s, double hop_s) {
  check<UsageError>(hop_s > 0 && duration_s > 0,
                    "synth labels: duration {} s and hop {} s must be > 0", duration_s, hop_s);
  return std::max(1, static_cast<int>(std::floor(duration_s / hop_s + 1e-9)));
}

InstanceTruth instance_truth(std::span<const StrongLabel> strong, int num_classes,
                             int num_instances, double hop_s, double fraction) {
  check<UsageError>(hop_s > 0 && std::isfinite(hop_s), "synth labels: hop_s must be > 0, got {}",
                    hop_s);
  check<UsageError>(fraction > 0 && fraction <= 1,
                    "synth labels: instance fraction must be in (0, 1], got {}", fraction);
  check<UsageError>(num_instances >= 1 && num_classes >= 1,
                    "synth labels: need K >= 1 instances and C >= 1 classes, got K={} C={}",
                    num_instances, num_classes);
  InstanceTruth t;
  t.num_instances = num_instances;
  t.num_classes = num_classes;
  t.active.assign(static_cast<std::size_t>(num_instances) * num_classes, 0);
  std::vector<std::vector<Segment>> per_class(static_cast<std::size_t>(num_classes));
  for (const auto& s : strong) {
    check<UsageError>(s.class_index >= 0 && s.class_index < num_classes,
                      "synth labels: class index {} outside [0, {})", s.class_index, num_classes);
    per_class[static_cast<std::size_t>(s.class_index)].push_back({s.onset_s, s.offset_s});
  }
  for (int c = 0; c < num_classes; ++c) {
    // Union first, so overlapping labels are not counted twice.
    const auto segs = merge_segments(per_class[static_cast<std::size_t>(c)], 0.0);
    for (int k = 0; k < num_instances; ++k) {
      const double a = k * hop_s, b = (k + 1) * hop_s;
      double covered = 0;
      for (const auto& s : segs)
        covered += std::max(0.0, std::min(b, s.offset_s) - std::max(a, s.onset_s));
      // A tiny tolerance so that exactly f of the window counts as active despite rounding.
      if (covered >= fraction * hop_s - 1e-9)
        t.active[static_cast<std::size_t>(k) * num_classes + c] = 1;
    }
  }
  return t;
}

}  // namespace tutti::synth
