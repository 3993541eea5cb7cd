// The typed schema of results.json (written by `tutti experiment`, read by the experiment
// report): one struct per JSON object, each with to_json() and from_json(). Torch-free.
//
//   auto r = tutti::report::Results::from_json(tutti::core::read_json_file(path), path.string());
//   for (const auto& run : r.runs) use(run.model, run.seed, run.metrics.mAP);
//   tutti::core::write_json_file(path, r.to_json());
//
// Layout (docs/report.md "What is read from results.json"):
//   {"tutti_version", "config": ExperimentConfig JSON (kept as JSON),
//    "data": {"train", "train_md5", "test", "test_md5", "classes"},
//    "runs": [Run], "summary": {"<model>": ModelSummary},
//    "skipped_models": {"<model>": "why"}?, "localization": LocalizationSection?,
//    "tsne": TsneSection?}
//
// Reading: a key that every tutti version writes is required; the others are optional (absent
// stays absent when written back). null stands for NaN wherever a number is expected. Unknown
// keys are ignored. Errors throw tutti::Error naming the file and the key, e.g.
// "results: runs/exp1/results.json: runs[3].seed: expected an integer, got string". For the
// nested structs, `what` is the location of `j` in such messages ("results: FILE: runs[3]").
// Writing gives the bytes tutti has always written for the same values (core::Json sorts keys).
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/eval/evaluate.h"

namespace tutti::report {

// Mean, sample standard deviation (ddof = 1) and count of one value over runs or draws:
// {"mean", "std", "n"}, NaN written as null (std is null for one value).
struct Stat {
  double mean = std::numeric_limits<double>::quiet_NaN();
  double std = std::numeric_limits<double>::quiet_NaN();
  std::int64_t n = 0;
  // A single value without spread, read from and written as a bare number (or null): e.g. a
  // deterministic localization method of one run. Its n is 1 (0 for null).
  bool bare = false;

  static Stat number(double v);  // bare
  core::Json to_json() const;
  // Accepts {"mean", "std"?, "n"?} (n defaults to 1 for a finite mean, else 0), a number or null.
  static Stat from_json(const core::Json& j, const std::string& what);
};

// Mean, sample std (ddof = 1) and count of the finite values (NaN mean with none, NaN std with
// fewer than two), as numpy.mean / numpy.std(ddof=1) over them.
Stat mean_std(const std::vector<double>& values);

// ---- summary: per model, every number of eval::EvalReport over the runs, and the costs --------

struct ClassSummary {  // the keys of EvalReport's per_class entries
  std::optional<Stat> ap, auc, precision, recall, f1, precision_05, recall_05, f1_05, f1_attmic,
      threshold, n_known, n_pos;
  core::Json to_json() const;
  static ClassSummary from_json(const core::Json& j, const std::string& what);
};

struct MicroSummary {
  std::optional<Stat> ap, auc, f1;
  core::Json to_json() const;
  static MicroSummary from_json(const core::Json& j, const std::string& what);
};

struct ModelSummary {
  std::optional<std::int64_t> n_runs;
  std::optional<Stat> mAP, auc, precision_pos, recall_pos, f1_pos, f1_pos_05, f1_attmic;
  std::optional<MicroSummary> micro;
  std::map<std::string, ClassSummary> per_class;  // written when not empty
  // Costs over the runs that record them.
  std::optional<Stat> train_seconds, seconds_per_epoch, infer_clips_per_s, params, epochs_run,
      best_epoch;

  // The metrics of eval::summarize_runs (its n_runs included; costs left empty).
  static ModelSummary from_runs_summary(const eval::RunsSummary& s);
  core::Json to_json() const;
  // Also reads eval::RunsSummary::to_json()'s layout ({"n_runs", "ddof", "mean": {...}, "std":
  // {...}, "n": {...}}, parallel trees), which older result files may hold.
  static ModelSummary from_json(const core::Json& j, const std::string& what);
};

// ---- localization ------------------------------------------------------------------------------

// TIMELINE of docs/report.md: one clip's per-instance outputs, drawn by the report.
struct TimelineExample {
  std::string clip;
  double hop_s = 0.96;                                        // instance length (s)
  std::optional<std::vector<std::string>> classes;            // absent: the data's classes
  std::vector<std::vector<double>> prob;                      // [class][instance], NaN = n/a
  std::optional<std::vector<std::vector<double>>> attention;  // [class][instance]
  // Per class, the [start_s, end_s] segments where it is active.
  std::optional<std::map<std::string, std::vector<std::array<double, 2>>>> truth;
  std::optional<std::vector<double>> clip_scores;  // [class]

  core::Json to_json() const;
  static TimelineExample from_json(const core::Json& j, const std::string& what);
};

struct InstanceClassResult {  // eval::InstanceReport's per_class entry
  double ap = std::numeric_limits<double>::quiet_NaN();
  double auc = std::numeric_limits<double>::quiet_NaN();
  std::int64_t n_instances = 0, n_pos = 0;
  core::Json to_json() const;
  static InstanceClassResult from_json(const core::Json& j, const std::string& what);
};

// One localization method: in a run, bare numbers for the deterministic methods (with their
// per-class detail) and {"mean", "std", "n"} over the draws for "random"; in the section,
// {"mean", "std", "n"} over the runs (or bare numbers, as other producers write them).
struct LocalizationMethodResult {
  std::optional<Stat> mAP;  // read from "mAP", else "ap"
  std::optional<Stat> auc;
  std::optional<std::vector<std::string>> skipped;                      // classes skipped
  std::optional<std::map<std::string, InstanceClassResult>> per_class;  // in a run
  // Other keys holding a number or {"mean", ...} (the report shows them as extra columns);
  // nulls and other values are ignored.
  std::map<std::string, Stat> other;

  core::Json to_json() const;
  static LocalizationMethodResult from_json(const core::Json& j, const std::string& what);
};

// A run's "localization" (pipelines::LocalizationReport, `tutti localize --json`).
struct RunLocalization {
  std::string model;
  std::int64_t clips = 0;
  std::int64_t positive_pairs = 0;  // (clip, class) pairs where the class is present
  double positive_rate = std::numeric_limits<double>::quiet_NaN();
  int random_draws = 0;
  std::map<std::string, LocalizationMethodResult> methods;
  std::vector<TimelineExample> examples;

  core::Json to_json() const;
  static RunLocalization from_json(const core::Json& j, const std::string& what);
};

struct LocalizationModel {
  std::map<std::string, LocalizationMethodResult> methods;
  std::optional<std::int64_t> runs;  // runs summarized
  std::optional<std::vector<TimelineExample>> examples;
  core::Json to_json() const;
  static LocalizationModel from_json(const core::Json& j, const std::string& what);
};

// An optional top-level section of the report: free text and one entry per model.
template <typename Entry>
struct ModelSection {
  std::optional<std::string> description;
  std::map<std::string, Entry> models;
  core::Json to_json() const;
  static ModelSection from_json(const core::Json& j, const std::string& what);
};

// The top-level "localization" section.
using LocalizationSection = ModelSection<LocalizationModel>;

// ---- t-SNE --------------------------------------------------------------------------------------

// One `tutti tsne --json` map: the points, and the rest of that record kept as it is.
struct TsneMap {
  std::vector<double> x, y;  // NaN = null (skipped when drawn)
  std::vector<std::string> labels;
  std::optional<std::string> title;
  core::Json details = core::Json::object();  // every other key (model, data, config, ...)
  core::Json to_json() const;
  static TsneMap from_json(const core::Json& j, const std::string& what);
};

using TsneSection = ModelSection<TsneMap>;

// ---- runs and the whole file --------------------------------------------------------------------

struct DataInfo {
  std::string train, train_md5, test, test_md5;
  std::vector<std::string> classes;
  core::Json to_json() const;
  static DataInfo from_json(const core::Json& j, const std::string& what);
};

struct Run {
  std::string model;
  int seed = 0;
  // Per-class thresholds from the validation part; *_05 at 0.5.
  eval::EvalReport metrics;
  std::optional<double> train_seconds, seconds_per_epoch;
  std::optional<int> epochs_run, best_epoch;
  std::optional<double> val_loss, val_map;  // NaN = null (e.g. no validation part)
  std::optional<std::int64_t> params;
  std::optional<double> infer_clips_per_s;
  std::optional<std::string> model_file;  // relative to the results.json folder
  core::Json train_config;                // the run's TrainConfig JSON; null = absent
  std::optional<RunLocalization> localization;

  core::Json to_json() const;
  static Run from_json(const core::Json& j, const std::string& what);
};

struct Results {
  std::optional<std::string> tutti_version;
  core::Json config;  // the ExperimentConfig JSON; null = absent
  std::optional<DataInfo> data;
  std::vector<Run> runs;
  std::map<std::string, ModelSummary> summary;
  std::map<std::string, std::string> skipped_models;  // written when not empty
  std::optional<LocalizationSection> localization;
  std::optional<TsneSection> tsne;

  core::Json to_json() const;
  // `file` names the source in errors ("results: <file>: <key>: ...").
  static Results from_json(const core::Json& j, const std::string& file);
  static Results load(const std::string& path);  // read_json_file + from_json
};

}  // namespace tutti::report
