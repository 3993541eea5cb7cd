// The HTML report of an experiment: renders results.json (written by `tutti experiment`) as one
// self-contained page (inline CSS and SVG, a tiny inline script that checks the plots; no network).
//
//   tutti::core::Json results = tutti::core::read_json_file("runs/exp1/results.json");
//   tutti::report::write_experiment_report(results, "runs/exp1/report.html");
//
// Sections (in order): overview (version, data paths and md5, config, seeds), summary table
// (mean ± std over seeds per model), box plots over seeds of macro precision/recall/F1 (ISMIR 2019
// attention paper, Fig. 2), per-instrument F1 bars (Fig. 3), per-instrument F1 heatmap, per-class
// metrics tables, cost table (parameters, s/epoch, clips/s), the runs, and, when results.json has
// them, "localization" and "tsne" (schemas in docs/report.md). Other code can add sections: append
// a ReportSection to default_experiment_sections() and call the overload that takes the list.
//
// Reading is lenient: missing keys, null (NaN) and a model with one seed (std undefined) render as
// "n/a". Only a `results` that is not a JSON object throws tutti::Error. Output is deterministic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/report/plots.h"

namespace tutti::report {

// A number from JSON: numbers as they are, anything else (null, missing, a string) NaN.
double json_number(const core::Json* j);

struct MeanStd {
  double mean = kNaN;
  double std = kNaN;  // sample std (ddof = 1); NaN for fewer than 2 values
  std::int64_t n = 0;
};
// Mean, sample std and count of the finite values.
MeanStd mean_std(const std::vector<double>& values);

// A lenient view of results.json shared by the sections.
class ExperimentResults {
 public:
  explicit ExperimentResults(const core::Json& results);  // throws if not an object

  const core::Json& json() const { return *results_; }
  // Models in the order of their first run, then models that only appear in "summary".
  const std::vector<std::string>& models() const { return models_; }
  // data.classes, else the sorted union of the per-class names in the runs.
  const std::vector<std::string>& classes() const { return classes_; }
  // The runs of a model, in file order.
  std::vector<const core::Json*> runs(const std::string& model) const;
  // Distinct seeds over all runs.
  std::size_t seed_count() const { return seed_count_; }

  // The metric at `path` inside each run's "metrics" (e.g. {"per_class", "piano", "f1"}).
  std::vector<double> run_values(const std::string& model,
                                 const std::vector<std::string>& path) const;
  // Mean/std/n of a metric over the model's runs: taken from "summary" when it holds the value
  // (either {"<metric>": {"mean","std","n"}} or eval::RunsSummary's {"mean":{..},"std":{..},
  // "n":{..}} layout), else computed from the runs.
  MeanStd stat(const std::string& model, const std::vector<std::string>& path) const;

 private:
  const core::Json* results_;
  std::vector<std::string> models_;
  std::vector<std::string> classes_;
  std::size_t seed_count_ = 0;
};

// One section of the report.
struct ReportSection {
  std::string id;     // HTML anchor (unique within the page)
  std::string title;  // heading and table-of-contents entry
  // The section's HTML body, or std::nullopt when results.json has nothing for it (the section
  // and its table-of-contents entry are then left out).
  std::function<std::optional<std::string>(const ExperimentResults& results)> render;
};

// The sections listed above, in order.
std::vector<ReportSection> default_experiment_sections();

// The whole page. The inline script sets data-plots-ok (plots with a non-empty bounding box) and
// data-plots-total on <body> and logs a console error for an empty plot.
std::string render_experiment_report(const core::Json& results);
std::string render_experiment_report(const core::Json& results,
                                     const std::vector<ReportSection>& sections);

// Renders and writes atomically (core::write_file_atomic).
void write_experiment_report(const core::Json& results, const std::filesystem::path& html_path);
void write_experiment_report(const core::Json& results, const std::filesystem::path& html_path,
                             const std::vector<ReportSection>& sections);

// A timeline from the JSON of one example (docs/report.md: {"clip", "hop_s", "classes", "prob",
// "attention"?, "truth"?, "clip_scores"?}); `default_classes` is used when it has no "classes".
// Throws tutti::Error naming the bad key when shapes disagree.
Timeline timeline_from_json(const core::Json& example,
                            const std::vector<std::string>& default_classes = {});

}  // namespace tutti::report
