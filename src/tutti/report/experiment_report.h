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
// results.json is read through its typed schema (results.h): a missing optional key, null (NaN)
// and a model with one seed (std undefined) render as "n/a"; a value of the wrong type or a
// missing required key throws tutti::Error naming the file and the key. Output is deterministic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/report/plots.h"
#include "tutti/report/results.h"

namespace tutti::report {

// A number from JSON: numbers as they are, anything else (null, missing, a string) NaN.
double json_number(const core::Json* j);

// Mean ± sample std over seeds (results.h).
using MeanStd = Stat;

// One number of a run's eval::EvalReport and where the summary holds it over the seeds.
struct Metric {
  std::function<double(const eval::EvalReport&)> value;
  std::function<const std::optional<Stat>*(const ModelSummary&)> summary;

  // A macro mean, e.g. macro(&eval::EvalReport::mAP, &ModelSummary::mAP).
  static Metric macro(double eval::EvalReport::*value, std::optional<Stat> ModelSummary::*summary);
  // One class's value (NaN in a run that does not have the class).
  static Metric per_class(const std::string& cls, double eval::ClassMetrics::*value,
                          std::optional<Stat> ClassSummary::*summary);
};

// results.json read through the typed schema (results.h), with what the sections share.
class ExperimentResults {
 public:
  // Parses with Results::from_json: throws tutti::Error naming `file` and the bad key.
  explicit ExperimentResults(const core::Json& results, const std::string& file = "results.json");
  explicit ExperimentResults(Results results);

  const Results& results() const { return results_; }
  // The JSON read (or Results::to_json()), for sections that read keys of their own.
  const core::Json& json() const { return json_; }
  // Models in the order of their first run, then models that only appear in "summary".
  const std::vector<std::string>& models() const { return models_; }
  // data.classes, else the sorted union of the per-class names in the runs.
  const std::vector<std::string>& classes() const { return classes_; }
  // The runs of a model, in file order.
  std::vector<const Run*> runs(const std::string& model) const;
  // Distinct seeds over all runs.
  std::size_t seed_count() const { return seed_count_; }

  // The metric of each of the model's runs.
  std::vector<double> run_values(const std::string& model, const Metric& metric) const;
  // Mean/std/n of a metric over the model's runs: the summary's value when it has one, else
  // computed from the runs (mean_std).
  Stat stat(const std::string& model, const Metric& metric) const;

 private:
  void index();

  Results results_;
  core::Json json_;
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
// A JSON `results` is parsed first (ExperimentResults).
std::string render_experiment_report(
    const ExperimentResults& results,
    const std::vector<ReportSection>& sections = default_experiment_sections());
std::string render_experiment_report(const core::Json& results);
std::string render_experiment_report(const core::Json& results,
                                     const std::vector<ReportSection>& sections);

// Renders and writes atomically (core::write_file_atomic).
void write_experiment_report(
    const ExperimentResults& results, const std::filesystem::path& html_path,
    const std::vector<ReportSection>& sections = default_experiment_sections());
void write_experiment_report(const core::Json& results, const std::filesystem::path& html_path);
void write_experiment_report(const core::Json& results, const std::filesystem::path& html_path,
                             const std::vector<ReportSection>& sections);

// The timeline of one example; `default_classes` is used when it has no "classes". Throws
// tutti::Error naming the clip when shapes disagree (a truth class not among the classes, no
// "prob" for the classes).
Timeline to_timeline(const TimelineExample& example,
                     const std::vector<std::string>& default_classes = {});
// The same from JSON (docs/report.md TIMELINE, TimelineExample::from_json).
Timeline timeline_from_json(const core::Json& example,
                            const std::vector<std::string>& default_classes = {});

}  // namespace tutti::report
