#include "tutti/train/experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/eval/evaluate.h"
#include "tutti/models/model_decl.h"
#include "tutti/train/localize.h"
#include "tutti/train/predictor.h"
#include "tutti/train/validation.h"

namespace tutti::train {

namespace fs = std::filesystem;

namespace {

// Keys of a run's config that may differ between the original run and a resumed experiment
// without changing what the run means (the embedder is a fact of the data, compared by md5).
core::Json comparable(core::Json train_config) {
  for (const char* k : {"threads", "device", "embedder"}) train_config.erase(k);
  return train_config;
}

std::string run_file_name(const std::string& model, int seed) {
  return model + "-seed" + std::to_string(seed) + ".tutti";
}

// Recursively turns parallel {mean, std, n} trees into {"key": {"mean", "std", "n"}} leaves.
core::Json merge_stats(const core::Json& mean, const core::Json& sd, const core::Json& n) {
  if (mean.is_object()) {
    core::Json out = core::Json::object();
    for (const auto& [k, v] : mean.items()) {
      const core::Json empty;
      out[k] = merge_stats(v, sd.is_object() && sd.contains(k) ? sd.at(k) : empty,
                           n.is_object() && n.contains(k) ? n.at(k) : empty);
    }
    return out;
  }
  return {{"mean", mean}, {"std", sd}, {"n", n.is_null() ? core::Json(0) : n}};
}

}  // namespace

void ExperimentConfig::validate() const {
  check<UsageError>(!train_path.empty(), "experiment: --train is required");
  check<UsageError>(!test_path.empty(), "experiment: --test is required");
  check<UsageError>(!models.empty(), "experiment: --models lists no model");
  check<UsageError>(seeds >= 1, "experiment: --seeds {} must be >= 1", seeds);
  check<UsageError>(!out_dir.empty(), "experiment: -o DIR is required");
  check<UsageError>(overrides.is_object(), "experiment: overrides must be a JSON object");
  for (const auto& m : models) {
    check<UsageError>(!m.empty(), "experiment: empty model name in --models");
    run_config(m, 1).validate();
  }
}

TrainConfig ExperimentConfig::run_config(const std::string& model, int seed) const {
  core::Json j = TrainConfig::for_model(model).to_json();
  for (const auto& [k, v] : overrides.items()) j[k] = v;
  if (!embedder.empty()) j["embedder"] = embedder;
  j["model"] = model;
  j["seed"] = seed;
  return TrainConfig::from_json(j);
}

core::Json ExperimentConfig::to_json() const {
  core::Json per_model = core::Json::object();
  for (const auto& m : models) {
    auto c = run_config(m, 1).to_json();
    c.erase("seed");
    per_model[m] = c;
  }
  return {{"train", train_path}, {"test", test_path},          {"models", models},
          {"seeds", seeds},      {"overrides", overrides},      {"out_dir", out_dir.string()},
          {"std", "sample standard deviation over seeds (ddof = 1)"},
          {"model_configs", per_model}};
}

core::Json summarize_experiment_runs(const core::Json& runs) {
  core::Json summary = core::Json::object();
  std::vector<std::string> order;
  for (const auto& r : runs) {
    const auto m = r.at("model").get<std::string>();
    if (std::find(order.begin(), order.end(), m) == order.end()) order.push_back(m);
  }
  for (const auto& m : order) {
    std::vector<eval::EvalReport> reports;
    for (const auto& r : runs)
      if (r.at("model") == m) reports.push_back(eval::EvalReport::from_json(r.at("metrics")));
    const auto s = eval::summarize_runs(reports);
    core::Json sj = s.to_json();
    core::Json out = merge_stats(sj.at("mean"), sj.at("std"), sj.at("n"));
    out["n_runs"] = s.n_runs;
    // Costs, averaged the same way.
    for (const char* key : {"train_seconds", "seconds_per_epoch", "infer_clips_per_s", "params",
                            "epochs_run", "best_epoch"}) {
      std::vector<double> v;
      for (const auto& r : runs)
        if (r.at("model") == m && r.contains(key) && r.at(key).is_number())
          v.push_back(r.at(key).get<double>());
      double mean = 0, var = 0;
      for (double x : v) mean += x;
      mean /= std::max<std::size_t>(1, v.size());
      for (double x : v) var += (x - mean) * (x - mean);
      core::Json sd = v.size() > 1 ? core::Json(std::sqrt(var / (v.size() - 1))) : core::Json();
      out[key] = {{"mean", v.empty() ? core::Json() : core::Json(mean)}, {"std", sd},
                  {"n", v.size()}};
    }
    summary[m] = out;
  }
  return summary;
}

namespace {

// The report's t-SNE section from `DIR/tsne-<name>.json` files (`tutti tsne MODEL DATA --json`
// output): t-SNE is an analysis of chosen models, run after the experiment, and a rerun of the
// experiment (all runs done: only the report is rewritten) puts its maps side by side.
core::Json tsne_section(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name.starts_with("tsne-") && name.ends_with(".json"))
      files.push_back(e.path());
  }
  if (files.empty()) return nullptr;
  std::sort(files.begin(), files.end());
  core::Json models = core::Json::object();
  for (const auto& f : files) {
    core::Json j = core::read_json_file(f);
    check(j.is_object() && j.contains("x") && j.contains("y") && j.contains("labels"),
          "{}: not a t-SNE map (expected the output of `tutti tsne MODEL DATA --json`)",
          f.string());
    const auto name = f.stem().string().substr(5);
    models[name] = std::move(j);
  }
  return {{"description",
           "t-SNE maps of the pre-classifier clip features (files tsne-<name>.json of the "
           "experiment folder, made with `tutti tsne MODEL DATA --json`)"},
          {"models", std::move(models)}};
}

}  // namespace

core::Json run_experiment(const ExperimentConfig& given, const ExperimentEvents& events) {
  given.validate();
  ExperimentConfig cfg = given;
  fs::create_directories(cfg.out_dir);
  const fs::path results_path = cfg.out_dir / "results.json";
  const data::BagDataset train = data::load_bags(cfg.train_path);
  const data::BagDataset test = data::load_bags(cfg.test_path);
  check(test.classes == train.classes,
        "{}: the test classes differ from the training classes of {}", cfg.test_path,
        cfg.train_path);
  check(train.embedder.empty() || test.embedder.empty() || train.embedder == test.embedder,
        "{}: made by embedder '{}', but {} by '{}'", cfg.test_path, test.embedder, cfg.train_path,
        train.embedder);
  check_embedder_override(train, cfg.overrides, cfg.train_path);
  if (!train.embedder.empty()) cfg.embedder = train.embedder;
  const std::string train_md5 = core::md5_file_hex(cfg.train_path);
  const std::string test_md5 = core::md5_file_hex(cfg.test_path);

  core::Json results = {{"tutti_version", TUTTI_VERSION},
                        {"config", cfg.to_json()},
                        {"data",
                         {{"train", cfg.train_path},
                          {"train_md5", train_md5},
                          {"test", cfg.test_path},
                          {"test_md5", test_md5},
                          {"classes", train.classes}}},
                        {"runs", core::Json::array()},
                        {"summary", core::Json::object()}};
  if (fs::exists(results_path)) {
    const core::Json old = core::read_json_file(results_path);
    check(old.contains("data") && old["data"].value("train_md5", "") == train_md5 &&
              old["data"].value("test_md5", "") == test_md5,
          "{}: made from other data (train/test md5 differ); use another output folder",
          results_path.string());
    for (const auto& r : old.value("runs", core::Json::array())) {
      const auto model = r.at("model").get<std::string>();
      const int seed = r.at("seed").get<int>();
      if (!fs::exists(cfg.out_dir / r.value("model_file", run_file_name(model, seed)))) continue;
      // Runs of the models asked for now must have been made as they would be now; runs of
      // other models are kept with the configuration they record (a folder can gather models
      // trained with different options, e.g. --patience for some, into one report).
      const bool asked = std::find(cfg.models.begin(), cfg.models.end(), model) != cfg.models.end();
      check(r.contains("train_config") &&
                (!asked || comparable(r.at("train_config")) ==
                               comparable(cfg.run_config(model, seed).to_json())),
            "{}: run {} seed {} was made with another configuration; use another output folder "
            "or the same options",
            results_path.string(), model, seed);
      results["runs"].push_back(r);
    }
  }
  auto done = [&](const std::string& model, int seed) {
    for (const auto& r : results["runs"])
      if (r.at("model") == model && r.at("seed") == seed) return true;
    return false;
  };
  // Localization (test data with Y_instance): models without per-instance outputs are named.
  core::Json not_localized = core::Json::object();
  if (test.has_instance_labels())
    for (const auto& m : cfg.models)
      if (!models::has_instance_outputs(m)) not_localized[m] = "no per-instance outputs";
  // Read once, before any training: a broken tsne-*.json fails now, not after the first run.
  const core::Json tsne = tsne_section(cfg.out_dir);
  auto save = [&] {
    results["summary"] = summarize_experiment_runs(results["runs"]);
    if (auto loc = experiment_localization_section(results["runs"], not_localized); !loc.is_null())
      results["localization"] = loc;
    if (!tsne.is_null()) results["tsne"] = tsne;
    core::write_json_file(results_path, results);
  };

  for (const auto& model : cfg.models) {
    // A fixed-length model (FC) cannot take variable-length bags; `tutti train` refuses them, and
    // an experiment comparing many models goes on without it, saying why in results.json.
    if (models::requires_fixed_length(model) && !(train.fixed_length() && test.fixed_length())) {
      const std::string reason = fmt::format(
          "needs exactly K = {} instances in every clip; {} has shorter clips", train.max_instances,
          train.fixed_length() ? cfg.test_path : cfg.train_path);
      results["skipped_models"][model] = reason;
      if (events.on_model_skipped) events.on_model_skipped(model, reason);
      continue;
    }
    for (int seed = 1; seed <= cfg.seeds; ++seed) {
      if (done(model, seed)) {
        if (events.on_run_start) events.on_run_start(model, seed, true);
        continue;
      }
      if (events.on_run_start) events.on_run_start(model, seed, false);
      const TrainConfig rc = cfg.run_config(model, seed);
      const std::string file = run_file_name(model, seed);
      const fs::path model_path = cfg.out_dir / file;
      const ModelInfo info = train_model_file(train, rc, model_path, cfg.train_path,
                                              events.on_epoch);
      const Predictor pred = Predictor::load(model_path);
      const auto t0 = std::chrono::steady_clock::now();
      const Predictions p = pred.predict(test, false, rc.threads, cfg.test_path);
      const double infer_s =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const auto report = eval::evaluate(test, p.scores, info.thresholds);
      const auto& t = info.training;
      core::Json run = {
          {"model", model},
          {"seed", seed},
          {"metrics", report.to_json()},
          {"train_seconds", t.train_seconds},
          {"seconds_per_epoch", t.train_seconds / std::max(1, t.epochs_run)},
          {"epochs_run", t.epochs_run},
          {"best_epoch", t.best_epoch},
          {"val_loss", t.val_loss},
          {"val_map", t.val_map},
          {"params", t.params},
          {"infer_clips_per_s", infer_s > 0 ? test.size() / infer_s : 0.0},
          {"model_file", file},
          {"train_config", rc.to_json()}};
      if (test.has_instance_labels() && models::has_instance_outputs(model)) {
        LocalizeOptions lo;
        lo.threads = rc.threads;
        lo.seed = static_cast<std::uint64_t>(seed);
        lo.examples = seed == 1 ? 3 : 0;
        run["localization"] = localize(pred, test, lo, cfg.test_path).to_json();
      }
      results["runs"].push_back(run);
      save();
      if (events.on_run_done) events.on_run_done(model, seed, run);
    }
  }
  save();
  return results;
}

}  // namespace tutti::train
