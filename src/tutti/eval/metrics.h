// Binary classification metrics for one class, numerically identical to scikit-learn 1.2.
//
//   std::vector<std::uint8_t> y = {1, 0, 1, 0};      // 0/1 labels
//   std::vector<float> s = {0.9f, 0.8f, 0.4f, 0.1f};  // scores, higher = more likely positive
//   double ap = tutti::eval::average_precision(y, s);  // 0.8333...
//   double auc = tutti::eval::roc_auc(y, s);           // 0.75
//   auto cm = tutti::eval::confusion_at(y, s, 0.5f);   // positive when score >= 0.5
//   double f1 = tutti::eval::f1(cm);                   // 0.5
//   auto best = tutti::eval::best_f1_threshold(y, s);  // the F1-maximising threshold
//
// References (see docs/metrics.md for the full definitions and edge cases):
// - average_precision = sklearn.metrics.average_precision_score: sum over the distinct score
//   thresholds (descending) of (R_k - R_{k-1}) * P_k, a step function, no interpolation. Tied
//   scores form one operating point.
// - roc_auc = sklearn.metrics.roc_auc_score: trapezoids between the ROC points at distinct
//   thresholds, so a tie between a positive and a negative earns 0.5 credit.
// - precision / recall / f1 of the positive class with zero_division=0 (a 0/0 ratio is 0).
// - f1_macro = sklearn f1_score(average='macro') for binary labels: the mean F1 of the labels
//   present in the truth or the predictions (classification_report's "macro avg" f1).
//
// Failures: every function throws tutti::Error when labels and scores differ in length, a label is
// not 0/1, or a score is NaN or infinite (the message names the function and the position).
#pragma once

#include <cstdint>
#include <span>

namespace tutti::eval {

// Counts at one threshold; a prediction is positive when score >= threshold.
struct Confusion {
  std::int64_t tp = 0, fp = 0, fn = 0, tn = 0;
  std::int64_t total() const { return tp + fp + fn + tn; }
  Confusion& operator+=(const Confusion& o) {
    tp += o.tp, fp += o.fp, fn += o.fn, tn += o.tn;
    return *this;
  }
};

Confusion confusion_at(std::span<const std::uint8_t> labels, std::span<const float> scores,
                       float threshold);

// Of the positive class; 0 when the ratio is 0/0 (sklearn zero_division=0).
double precision(const Confusion& c);
double recall(const Confusion& c);
double f1(const Confusion& c);
// F1 of the negative class ("absent"), i.e. with the roles of the labels swapped.
double f1_negative(const Confusion& c);
// sklearn f1_score(average='macro'): mean F1 over the labels {0, 1} that occur in the truth or in
// the predictions (one label -> that label's F1 alone). NaN for no entries.
double f1_macro(const Confusion& c);

// Average precision; NaN when there is no positive label (undefined). 1 when every label is
// positive (as sklearn).
double average_precision(std::span<const std::uint8_t> labels, std::span<const float> scores);
// ROC-AUC; NaN when there is no positive or no negative label (undefined).
double roc_auc(std::span<const std::uint8_t> labels, std::span<const float> scores);

// Both of the above from one sort of the scores (what evaluate() uses).
struct RankingMetrics {
  double ap = 0, auc = 0;
};
RankingMetrics ranking_metrics(std::span<const std::uint8_t> labels, std::span<const float> scores);

// The threshold that maximises the F1 of the positive class on (labels, scores).
// Candidates are the distinct scores; F1 is compared exactly (integer cross-multiplication), ties
// go to the highest candidate (fewest positive calls). The returned threshold is the midpoint
// between the winning score and the next lower distinct score, so that scores near the boundary on
// new data are not decided by float noise, and it reproduces the validation F1 exactly; when the
// midpoint rounds (in float) onto the lower score, or the winner is the lowest score, the winning
// score itself. No positive label -> threshold `fallback` and f1 = NaN.
struct ThresholdChoice {
  float threshold = 0.5f;
  double f1 = 0.0;  // F1 on the given data at `threshold`
};
ThresholdChoice best_f1_threshold(std::span<const std::uint8_t> labels,
                                  std::span<const float> scores, float fallback = 0.5f);

}  // namespace tutti::eval
