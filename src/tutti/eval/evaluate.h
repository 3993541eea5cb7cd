// Clip-level evaluation of a score matrix against a BagDataset: per class, macro and micro.
//
//   auto thr = tutti::eval::choose_thresholds(val, val_scores);    // [C], from validation
//   auto report = tutti::eval::evaluate(test, test_scores, thr);    // scores [N, C] row-major
//   core::write_json_file("metrics.json", report.to_json());
//   auto summary = tutti::eval::summarize_runs(reports);            // mean / std over seeds
//
// Conventions (docs/metrics.md has the full text):
// - Only known entries (Y_mask = 1) count; a known entry is positive when Y_true >= 0.5.
// - A prediction is positive when score >= threshold.
// - ap/auc: sklearn average_precision_score / roc_auc_score of the class.
// - precision/recall/f1: positive class at the class's threshold (zero_division=0);
//   *_05: the same at the fixed threshold 0.5.
// - f1_attmic: sklearn f1_score(average='macro') at 0.5, i.e. the mean of the F1 of "present"
//   and of "absent" as AttentionMIC (Gururani et al., 2019) report it (classification_report's
//   "macro avg", predictions >= 0.5 over the known entries).
// - A class whose known test entries hold no positive or no negative label is skipped: its ap and
//   auc are NaN (null in JSON), it is left out of every macro mean, and its name and the reason are
//   recorded. Its precision/recall/F1 values are still reported.
// - Macro means are unweighted means over the classes that are not skipped (NaN if none).
// - Micro values pool every known entry of every class (sklearn average='micro' restricted to the
//   known entries); micro f1 uses each class's threshold.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::eval {

struct ClassMetrics {
  std::string name;
  std::int64_t n_known = 0, n_pos = 0;
  double ap = 0, auc = 0;
  double precision = 0, recall = 0, f1 = 0;           // at `threshold`
  double precision_05 = 0, recall_05 = 0, f1_05 = 0;  // at 0.5
  double f1_attmic = 0;                               // macro F1 of {absent, present} at 0.5
  double threshold = 0.5;
  bool skipped = false;
  std::string skip_reason;  // empty unless skipped
};

struct MicroMetrics {
  double ap = 0, auc = 0, f1 = 0;
};

struct EvalReport {
  std::vector<ClassMetrics> per_class;  // in the dataset's class order
  // Macro means over the classes not skipped.
  double mAP = 0, auc = 0;
  double precision_pos = 0, recall_pos = 0, f1_pos = 0;  // per-class thresholds
  double f1_pos_05 = 0;                                  // at 0.5
  double f1_attmic = 0;                                  // at 0.5
  MicroMetrics micro;
  std::vector<std::string> skipped;  // names of skipped classes, in class order

  // Keys: mAP, auc, precision_pos, recall_pos, f1_pos, f1_pos_05, f1_attmic, micro {ap, auc, f1},
  // skipped [names], skip_reasons {name: reason}, per_class {name: {ap, auc, precision, recall,
  // f1, precision_05, recall_05, f1_05, f1_attmic, threshold, n_known, n_pos}}. NaN -> null.
  core::Json to_json() const;
  // Inverse of to_json (null -> NaN). per_class comes back in the JSON object's key order
  // (alphabetical). Throws tutti::Error naming the missing key.
  static EvalReport from_json(const core::Json& j);
};

// Evaluates scores [N, C] (row-major, clip i class c at i * C + c) against truth.
// thresholds: [C] per-class thresholds, or empty for 0.5 everywhere.
// Throws tutti::Error when the sizes disagree with truth, a score or threshold is NaN/infinite,
// or truth is inconsistent (truth.validate).
EvalReport evaluate(const data::BagDataset& truth, std::span<const float> scores,
                    std::span<const float> thresholds = {});

// Per-class thresholds maximising the F1 of the positive class on the known validation entries
// (best_f1_threshold in metrics.h: exact F1 comparison, ties to the highest score, midpoint to the
// next lower distinct score). A class without a positive known entry gets 0.5.
std::vector<float> choose_thresholds(const data::BagDataset& val,
                                     std::span<const float> val_scores);

// The known entries of one class: 0/1 labels and the matching scores (helper for callers that
// need the raw vectors, e.g. plots).
void known_entries(const data::BagDataset& truth, std::span<const float> scores, std::int64_t c,
                   std::vector<std::uint8_t>& labels, std::vector<float>& class_scores);

// Mean and spread of every number of several EvalReports (e.g. one per seed).
// std is the SAMPLE standard deviation (ddof = 1, the usual "mean ± std over runs" in papers; for
// one value it is NaN). A value that is NaN in some runs (a class skipped in one run) is summarised
// over the runs where it is defined; `n` counts them.
struct RunsSummary {
  std::int64_t n_runs = 0;
  // Each has the shape of EvalReport::to_json() without skipped/skip_reasons: the numbers at the
  // same keys (mean, sample std, and how many runs define the value).
  core::Json mean, sd, n;
  std::vector<std::string> skipped;  // classes skipped in at least one run

  // {"n_runs", "ddof": 1, "mean", "std", "n", "skipped"}; NaN -> null.
  core::Json to_json() const;
};
// Throws tutti::Error for no runs or runs with different class names.
RunsSummary summarize_runs(std::span<const EvalReport> runs);

}  // namespace tutti::eval
