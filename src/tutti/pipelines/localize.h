// Localization of a trained model on strongly labeled data (`tutti localize`, and `tutti
// experiment` when the test set has Y_instance). Torch-free.
//
//   auto pred = tutti::infer::Predictor::load("att-seed1.tutti");
//   auto ds = tutti::data::load_bags("synth/dataset.npz");            // must have Y_instance
//   auto r = tutti::pipelines::localize(pred, ds, {.random_draws = 100, .seed = 0});
//   double ap = r.method("attention").report.mAP;
//
// For every class, the instances (0.96 s frames) of the clips where the class is present are
// ranked by a per-instance score and compared with Y_instance (eval::evaluate_instances:
// scikit-learn AP and ROC-AUC per class, macro over classes). Methods:
//   attention  the normalized attention weight a_{k,t} (ATT only)
//   frame      the model's per-instance probability: ATT's c_{k,t}, FC_T's classifier on each
//              instance, RNN's per-step output
//   product    attention x frame (ATT only)
//   uniform    a constant score (baseline: AP = the positive rate, AUC = 0.5, computed)
//   random     uniform random scores, mean and sample std over `random_draws` seeded draws
// Models without per-instance outputs (RF_BR, FC) are an error: they cannot localize, and
// baselines alone say nothing about them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/eval/localization.h"
#include "tutti/report/results.h"
#include "tutti/infer/predictor.h"

namespace tutti::pipelines {

struct LocalizeOptions {
  int random_draws = 100;  // >= 1
  std::uint64_t seed = 0;  // of the random baseline
  int threads = 0;         // prediction threads (0 = all cores)
  int examples = 3;        // example timelines in to_json() (0 = none)
  double hop_s = 0.96;     // instance length, for the example timelines
  // Throws tutti::UsageError naming the bad field.
  void validate() const;
};

struct LocalizationMethod {
  std::string name;
  eval::InstanceReport report;  // for "random": the first draw (per-class detail)
  // Over the draws for "random"; for the deterministic methods std = NaN, n = 1.
  double map_mean = 0, map_std = 0, auc_mean = 0, auc_std = 0;
  int n = 1;
};

struct LocalizationReport {
  std::string model;  // spec name ("att", ...)
  std::int64_t clips = 0;
  std::int64_t positive_pairs = 0;  // (clip, class) pairs where the class is present
  double positive_rate = 0;         // active instances / instances of those pairs
  int random_draws = 0;
  std::vector<LocalizationMethod> methods;        // in the order above; missing ones left out
  std::vector<report::TimelineExample> examples;  // example timelines

  const LocalizationMethod& method(const std::string& name) const;  // throws if absent
  bool has(const std::string& name) const;
  // The "localization" entry of a results.json run: the deterministic methods as bare numbers
  // with their per-class detail, "random" as {"mean", "std", "n"} over the draws.
  report::RunLocalization to_results() const;
  core::Json to_json() const { return to_results().to_json(); }
};

// From predictions made with with_instances = true. `what` names the data in errors. Throws
// tutti::Error when truth has no Y_instance, the shapes or classes differ, or p has no
// per-instance outputs.
LocalizationReport localize_predictions(const infer::Predictions& p, const data::BagDataset& truth,
                                        const std::vector<std::string>& model_classes,
                                        const std::string& model_name,
                                        const LocalizeOptions& opts = {},
                                        const std::string& what = "dataset");

// Predicts and localizes. Throws tutti::Error (see above).
LocalizationReport localize(const infer::Predictor& predictor, const data::BagDataset& truth,
                            const LocalizeOptions& opts = {}, const std::string& what = "dataset");

// Example timelines (docs/report.md TIMELINE): up to n clips with at least two present classes,
// preferring clips where a present class is active in only part of the instances; per clip the
// classes that are present or scored >= 0.5. truth segments are the active instances, merged.
std::vector<report::TimelineExample> localization_examples(const infer::Predictions& p,
                                                           const data::BagDataset& truth, int n,
                                                           double hop_s = 0.96);

// Mean/std over seeds of several reports' methods: per method, "mAP" and "auc" as
// {"mean", "std", "n"} (std: sample, ddof = 1, null for one report) of the runs' values (a bare
// number, or the mean of a {"mean", ...}).
std::map<std::string, report::LocalizationMethodResult> summarize_localization(
    const std::vector<report::RunLocalization>& reports);

// The "localization" section of an experiment's results.json (docs/report.md) from its runs: per
// model, the methods summarized over the runs that have a "localization" entry and the example
// timelines of the first such run. nullopt when no run has one. `skipped`: model -> why it has
// none.
std::optional<report::LocalizationSection> experiment_localization_section(
    const std::vector<report::Run>& runs, const std::map<std::string, std::string>& skipped);

}  // namespace tutti::pipelines
