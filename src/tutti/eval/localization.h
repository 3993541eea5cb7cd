// Localization metrics: how well instance (0.96 s frame) scores find WHEN a present class plays.
//
// 1. Instance-level ranking inside positive clips:
//      auto r = tutti::eval::evaluate_instances(truth, instance_scores);  // scores [N, K, C]
//    For every class k: AP and ROC-AUC (sklearn definitions, metrics.h) over the real instances
//    (t < n_instances[i]) of the clips where k is present; padded instances and clips without k
//    are ignored. Macro means skip classes with no positive or no negative instance.
//
// 2. Segment-based metrics at a fixed resolution (default 1 s), following sed_eval's
//    SegmentBasedMetrics (Mesaros, Heittola, Virtanen, "Metrics for polyphonic sound event
//    detection", 2016): per file, each event marks segments floor(onset/res) .. ceil(offset/res)-1
//    active for its class, in the reference and in the estimate; TP/FP/FN are counted over all
//    segments, classes and files.
//      std::vector<tutti::eval::Event> ref = {{"a.ogg", "piano", 0.0, 2.5}};
//      std::vector<tutti::eval::Event> est = {{"a.ogg", "piano", 0.4, 3.1}};
//      auto s = tutti::eval::segment_based_metrics(ref, est);  // s.f1 = 0.857..
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::eval {

// ---- Instance-level ranking --------------------------------------------------------------------

struct InstanceClassMetrics {
  std::string name;
  std::int64_t n_instances = 0;  // real instances of the clips where the class is present
  std::int64_t n_pos = 0;        // of which active
  double ap = 0, auc = 0;        // NaN when skipped
  bool skipped = false;
  std::string skip_reason;
};

struct InstanceReport {
  std::vector<InstanceClassMetrics> per_class;
  double mAP = 0, auc = 0;  // macro over classes not skipped (NaN if none)
  std::vector<std::string> skipped;

  // {"mAP", "auc", "skipped": [names], "skip_reasons": {name: reason},
  //  "per_class": {name: {"ap", "auc", "n_instances", "n_pos"}}}; NaN -> null.
  core::Json to_json() const;
};

// Raw form. scores, y_instance: [N, K, C] row-major (clip i, instance t, class c at
// (i * K + t) * C + c); n_instances: [N] in [0, K]; clip_positive: [N, C] 0/1; classes: [C].
// Throws tutti::Error on size mismatches, n_instances outside [0, K], non-0/1 flags, or a
// non-finite score of a real instance.
InstanceReport evaluate_instances(std::span<const float> scores,
                                  std::span<const std::uint8_t> y_instance,
                                  std::span<const std::int32_t> n_instances,
                                  std::span<const std::uint8_t> clip_positive, std::int64_t K,
                                  std::span<const std::string> classes);
// From a dataset with strong labels: clip_positive = truth.positive(i, c) (known and >= 0.5).
// Throws tutti::Error when truth has no Y_instance.
InstanceReport evaluate_instances(const data::BagDataset& truth, std::span<const float> scores);

// ---- Segment-based event detection metrics -----------------------------------------------------

struct Event {
  std::string file;
  std::string label;  // class name
  double onset_s = 0, offset_s = 0;
};

struct SegmentCounts {
  std::int64_t tp = 0, fp = 0, fn = 0;
};

struct SegmentClassMetrics {
  std::string label;
  SegmentCounts counts;
  double precision = 0, recall = 0, f1 = 0;  // 0 for 0/0 (as sed_eval's eps-guarded ratios)
  // sed_eval's class-wise error rate: deletions = fn, insertions = fp (no substitutions within a
  // class), each divided by N_ref + eps (eps = 2^-52, numpy.spacing(1)), so a class absent from
  // the reference with insertions has an error rate of about 4.5e15 per inserted segment, as in
  // sed_eval.
  double deletion_rate = 0, insertion_rate = 0, error_rate = 0;
};

// sed_eval's class_wise_average: the mean of each class-wise value over every class of the list
// (classes active in neither side count with F1 0 and error rate 0).
struct SegmentClassWiseAverage {
  double f1 = 0, precision = 0, recall = 0, error_rate = 0, deletion_rate = 0, insertion_rate = 0;
};

struct SegmentReport {
  double resolution_s = 1.0;
  SegmentCounts counts;                      // summed over classes and files
  double precision = 0, recall = 0, f1 = 0;  // micro (overall)
  // sed_eval's segment error rate (S + D + I) / N_ref with per-segment substitutions,
  // deletions, insertions; NaN when the reference has no active segment.
  double error_rate = 0;
  std::int64_t substitutions = 0, deletions = 0, insertions = 0;
  // S / N_ref, D / N_ref, I / N_ref (error_rate is their sum); NaN when N_ref = 0.
  double substitution_rate = 0, deletion_rate = 0, insertion_rate = 0;
  SegmentClassWiseAverage class_wise;
  std::vector<SegmentClassMetrics> per_class;
  // Mean per-class F1 over classes active in the reference or the estimate; classes active in
  // neither are listed in `skipped` (sed_eval would count them as F1 = 0).
  double f1_macro = 0;
  std::vector<std::string> skipped;

  // {"resolution_s", "tp", "fp", "fn", "precision", "recall", "f1", "error_rate",
  //  "substitutions", "deletions", "insertions", "substitution_rate", "deletion_rate",
  //  "insertion_rate", "f1_macro", "skipped",
  //  "class_wise": {"f1", "precision", "recall", "error_rate", "deletion_rate", "insertion_rate"},
  //  "per_class": {label: {"tp", "fp", "fn", "precision", "recall", "f1", "error_rate",
  //                        "deletion_rate", "insertion_rate"}}}; NaN -> null.
  core::Json to_json() const;
};

// classes: the label set, in report order; empty = the sorted union of labels in reference and
// estimate. Throws tutti::Error for an event whose label is not in `classes`, a negative or
// non-finite onset, offset < onset, or resolution_s not > 0.
SegmentReport segment_based_metrics(std::span<const Event> reference,
                                    std::span<const Event> estimated,
                                    std::span<const std::string> classes = {},
                                    double resolution_s = 1.0);

}  // namespace tutti::eval
