// `tutti experiment`: every model x every seed on one train/test pair, with results.json.
// Torch-free.
//
//   tutti::pipelines::ExperimentConfig e;
//   e.train_path = "openmic-train.npz";  e.test_path = "openmic-test.npz";
//   e.models = {"att", "rf"};  e.seeds = 10;  e.out_dir = "runs/exp1";
//   e.overrides = {{"epochs", 5}};  // on top of TrainConfig::for_model(m)
//   tutti::report::Results results = tutti::pipelines::run_experiment(e);
//
// Writes <out_dir>/<model>-seed<k>.tutti (k = 1..seeds; also for every ensemble) and
// <out_dir>/results.json (atomically, after every run). Rerunning with the same configuration and
// data resumes: runs already in results.json whose model file exists are skipped. A results.json of
// another configuration or other data is an error (choose another folder).
//
// results.json is report::Results (tutti/report/results.h): {"tutti_version", "config":
//   ExperimentConfig::to_json(), "data": {"train", "train_md5", "test", "test_md5", "classes"},
//   "runs": [{"model", "seed", "metrics": eval::EvalReport JSON (per-class thresholds from the
//             validation part; *_05 at 0.5), "train_seconds", "seconds_per_epoch", "epochs_run",
//             "best_epoch", "val_loss", "val_map", "params", "infer_clips_per_s", "model_file",
//             "train_config", "localization"?}],
//   "summary": {"<model>": {"n_runs", "<metric>": {"mean", "std", "n"}, ...,
//               "micro": {"ap": {...}, ...}, "per_class": {"<class>": {"f1": {...}, ...}},
//               "<cost>": {...}}},
//   "skipped_models"?, "localization"?, "tsne"?}
// std is the sample standard deviation (ddof = 1; null for a single run); n counts the runs where
// the value is defined.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/dist/process_group.h"
#include "tutti/models/model_decl.h"
#include "tutti/report/results.h"
#include "tutti/train/train.h"

namespace tutti::pipelines {

struct ExperimentConfig {
  std::string train_path, test_path;
  // Declared models or aliases (models/model_decl.h); by default the declared baselines.
  std::vector<std::string> models = models::default_experiment_models();
  int seeds = 10;  // seeds 1..seeds
  // Ensembles, each "m1+m2+...": for seed s, the mean of the runs m1, m2, ... of seed s (models
  // of `models`); a model named k times adds k - 1 members trained with seeds s + 1000 i and
  // the validation split of seed s (val_seed, files <m>-seed<s>-m<i>.tutti). Thresholds are
  // chosen on that validation part; runs are recorded under the ensemble's name.
  std::vector<std::string> ensembles;
  std::filesystem::path out_dir;
  core::Json overrides = core::Json::object();  // TrainConfig keys applied to every model
  // The training data's embedder (run_experiment sets it from the data; empty = none recorded):
  // every run's configuration records it, as its model file does.
  std::string embedder;

  // Throws tutti::UsageError naming the bad field.
  void validate() const;
  // The TrainConfig of one run.
  train::TrainConfig run_config(const std::string& model, int seed) const;
  core::Json to_json() const;  // paths, models, seeds, overrides, and each model's resolved config
};

struct ExperimentEvents {
  // Before a run starts (skipped = true when resumed from results.json).
  std::function<void(const std::string& model, int seed, bool skipped)> on_run_start;
  // A run recorded in results.json whose model file cannot be read (the error names it): it is
  // trained again.
  std::function<void(const std::string& model, int seed, const std::string& error)> on_run_redone;
  std::function<void(const std::string& model, int seed, const report::Run& run)> on_run_done;
  // A model that cannot run on these data (FC on variable-length bags); recorded in results.json
  // under "skipped_models".
  std::function<void(const std::string& model, const std::string& reason)> on_model_skipped;
  train::EpochCallback on_epoch;
};

// Runs everything not yet done; returns the final results.json content.
// With `group` (a distributed run, docs/distributed.md) every rank calls this with the same cfg
// and out_dir, a folder they all share: the (model, seed) runs left are split across the ranks,
// each trained as one process (the model file and scores one process gives), in rounds of one
// run per rank; rank 0 gathers each round's runs, in the one-process order, and alone writes
// results.json, the ensembles and (its caller) the report. The other ranks return the runs
// without the ensembles. Throws on every rank when the ranks see different runs left.
report::Results run_experiment(const ExperimentConfig& cfg, const ExperimentEvents& events = {},
                               dist::ProcessGroup* group = nullptr);

// The "summary" from the runs: per model, in the order of its first run, eval::summarize_runs of
// the metrics and the mean/std of the costs (also used by tests).
std::map<std::string, report::ModelSummary> summarize_experiment_runs(
    const std::vector<report::Run>& runs);

}  // namespace tutti::pipelines
