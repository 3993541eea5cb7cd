// The per-file result of tagging and the segment extraction rule, torch-free (no model needed):
// `tutti tag` fills FileTags; `tutti localize` and tests can build one from stored scores and
// call segments_from_timeline.
//
//   tutti::infer::FileTags t;              // classes, thresholds, n_instances, window_of,
//   t.window_scores = ...;               // window_scores [n_windows, C], instance_prob [T, C]
//   auto segs = tutti::infer::segments_from_timeline(t);
//   auto events = tutti::infer::to_events(t.file, segs);   // for eval::segment_based_metrics
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/eval/localization.h"

namespace tutti::infer {

struct Segment {
  std::string instrument;
  int class_index = 0;
  double start_s = 0, end_s = 0;  // [first instance * hop, (last instance + 1) * hop)
  float mean_probability = 0;     // mean instance probability (window score without one)
};

struct FileTags {
  std::string file;       // as given
  double duration_s = 0;  // analysed audio (mono 16 kHz samples / 16000)
  double hop_s = 0.96;    // instance length
  double start_s = 0;     // where instance 0 starts in the file (a --start window); all times
                          // below (timeline, segments) are file times: start_s + t * hop_s
  bool padded = false;    // shorter than one example: padded with silence to one
  std::string note;       // e.g. "shorter than one 0.96 s example"
  std::vector<std::string> classes;   // [C] the model's
  std::vector<float> thresholds;      // [C] the model's decision thresholds
  std::vector<float> probability;     // [C] clip level: max over windows (0 without instances)
  std::vector<std::uint8_t> present;  // [C] probability >= threshold

  std::int64_t n_instances = 0;            // T
  std::int64_t window_instances = 0;       // W (the model's bag length)
  std::vector<std::int64_t> window_first;  // [n_windows] first instance of each window
  std::vector<std::int64_t> window_count;  // [n_windows] instances in each window
  std::vector<float> window_scores;        // [n_windows, C] the window's clip probability
  std::vector<std::int32_t> window_of;     // [T] window whose outputs describe instance t
  std::vector<float> instance_prob;        // [T, C], or empty (model without instance outputs)
  std::vector<float> attention;            // [T, C] attention within the window, or empty
  std::vector<Segment> segments;           // segments_from_timeline(*this)

  std::int64_t num_classes() const { return static_cast<std::int64_t>(classes.size()); }
  std::int64_t num_windows() const { return static_cast<std::int64_t>(window_first.size()); }
  // The window probability of instance t for class c.
  float window_score_of(std::int64_t t, std::int64_t c) const {
    return window_scores[static_cast<std::size_t>(window_of[t] * num_classes() + c)];
  }
  // The score of instance t for class c: the instance probability when the model gives one, else
  // the window's (what segments and frame-score outputs use).
  float frame_score(std::int64_t t, std::int64_t c) const {
    return instance_prob.empty() ? window_score_of(t, c)
                                 : instance_prob[static_cast<std::size_t>(t * num_classes() + c)];
  }
  double instance_start_s(std::int64_t t) const { return start_s + static_cast<double>(t) * hop_s; }

  // {"file", "duration_s", "hop_s", ["start_s" when > 0], ["padded": true when padded],
  //  "window_instances", "n_instances", "note",
  //  "instruments": {name: {"probability", "threshold", "present"}},
  //  "timeline": [{"start_s", "end_s", "window", "window_prob": {name: p},
  //                "prob": {name: p} (when instance outputs), "attention": {name: a} (when)}],
  //  "segments": [{"instrument", "start_s", "end_s", "mean_probability"}]}
  core::Json to_json() const;
  // Throws tutti::Error when the arrays disagree in size.
  void validate() const;
};

// The segment rule: class c is active in instance t when the clip probability of t's window is
// >= thresholds[c] (the window is tagged with c) and, when instance probabilities exist,
// instance_prob[t, c] >= thresholds[c]. Runs of adjacent active instances of a class merge into
// one segment [t0 * hop, (t1 + 1) * hop). Sorted by class index, then start.
std::vector<Segment> segments_from_timeline(const FileTags& tags);

// Segments as eval::Event{file, instrument, start, end} for eval::segment_based_metrics.
std::vector<eval::Event> to_events(const std::string& file, std::span<const Segment> segments);

}  // namespace tutti::infer
