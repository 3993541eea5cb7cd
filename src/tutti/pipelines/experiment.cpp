#include "tutti/pipelines/experiment.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/eval/evaluate.h"
#include "tutti/infer/ensemble.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/predictor.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/model_spec.h"
#include "tutti/pipelines/localize.h"
#include "tutti/train/extra_targets.h"
#include "tutti/train/validation.h"

namespace tutti::pipelines {

namespace fs = std::filesystem;

namespace {

// Keys of a run's config that may differ between the original run and a resumed experiment
// without changing what the run means (the embedder is a fact of the data, compared by md5).
// Options declared after a run was recorded are missing from its record: they had their defaults.
core::Json comparable(const core::Json& recorded) {
  core::Json train_config = train::TrainConfig::from_json(recorded).to_json();
  for (const char* k : {"threads", "device", "embedder"}) train_config.erase(k);
  return train_config;
}

std::string run_file_name(const std::string& model, int seed) {
  return model + "-seed" + std::to_string(seed) + ".tutti";
}

// "att+att+fc_t" -> {att, att, fc_t}.
std::vector<std::string> ensemble_members(const std::string& name) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t plus = name.find('+', start);
    out.push_back(name.substr(start, plus == std::string::npos ? plus : plus - start));
    if (plus == std::string::npos) return out;
    start = plus + 1;
  }
}

// Seeds of the extra members of one model in an ensemble: far from the experiment's 1..seeds.
constexpr int kMemberSeedStride = 1000;

// `--option MODEL.key=value` applies to MODEL's runs only; `--option key=value` to every model.
core::Json options_of(const std::string& model, const core::Json& given) {
  core::Json out = core::Json::object();
  for (const auto& [k, v] : given.items()) {
    const auto dot = k.find('.');
    if (dot == std::string::npos)
      out[k] = v;
    else if (k.substr(0, dot) == model)
      out[k.substr(dot + 1)] = v;
  }
  return out;
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
  if (overrides.contains("model_options"))
    for (const auto& [k, v] : overrides.at("model_options").items()) {
      const auto dot = k.find('.');
      if (dot == std::string::npos) continue;
      check<UsageError>(std::find(models.begin(), models.end(), k.substr(0, dot)) != models.end(),
                        "experiment: --option {}: '{}' is not one of --models", k,
                        k.substr(0, dot));
    }
  for (const auto& e : ensembles) {
    for (const auto& m : ensemble_members(e))
      check<UsageError>(std::find(models.begin(), models.end(), m) != models.end(),
                        "experiment: --ensembles {}: '{}' is not one of --models", e, m);
    check<UsageError>(seeds < kMemberSeedStride, "experiment: --ensembles needs --seeds < {}",
                      kMemberSeedStride);
  }
}

train::TrainConfig ExperimentConfig::run_config(const std::string& model, int seed) const {
  core::Json j = train::TrainConfig::for_model(model).to_json();
  for (const auto& [k, v] : overrides.items())
    j[k] = k == "model_options" ? options_of(model, v) : v;
  if (!embedder.empty()) j["embedder"] = embedder;
  j["model"] = model;
  j["seed"] = seed;
  return train::TrainConfig::from_json(j);
}

core::Json ExperimentConfig::to_json() const {
  core::Json per_model = core::Json::object();
  for (const auto& m : models) {
    auto c = run_config(m, 1).to_json();
    c.erase("seed");
    per_model[m] = c;
  }
  core::Json j = {{"train", train_path},
                  {"test", test_path},
                  {"models", models},
                  {"seeds", seeds},
                  {"overrides", overrides},
                  {"out_dir", out_dir.string()},
                  {"std", "sample standard deviation over seeds (ddof = 1)"},
                  {"model_configs", per_model}};
  if (!ensembles.empty()) j["ensembles"] = ensembles;
  return j;
}

std::map<std::string, report::ModelSummary> summarize_experiment_runs(
    const std::vector<report::Run>& runs) {
  std::map<std::string, report::ModelSummary> summary;
  std::vector<std::string> order;
  for (const auto& r : runs)
    if (std::find(order.begin(), order.end(), r.model) == order.end()) order.push_back(r.model);
  for (const auto& m : order) {
    std::vector<eval::EvalReport> reports;
    for (const auto& r : runs) {
      if (r.model != m) continue;
      // Classes in name order, as a run read back from results.json has them, so that fresh and
      // resumed runs line up in eval::summarize_runs.
      auto e = r.metrics;
      std::sort(e.per_class.begin(), e.per_class.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      reports.push_back(std::move(e));
    }
    report::ModelSummary out =
        report::ModelSummary::from_runs_summary(eval::summarize_runs(reports));
    // Costs, averaged the same way over the runs that record them.
    auto cost = [&]<typename T>(std::optional<T> report::Run::*field) {
      std::vector<double> v;
      for (const auto& r : runs)
        if (r.model == m && r.*field) v.push_back(static_cast<double>(*(r.*field)));
      return report::mean_std(v);
    };
    out.train_seconds = cost(&report::Run::train_seconds);
    out.seconds_per_epoch = cost(&report::Run::seconds_per_epoch);
    out.infer_clips_per_s = cost(&report::Run::infer_clips_per_s);
    out.params = cost(&report::Run::params);
    out.epochs_run = cost(&report::Run::epochs_run);
    out.best_epoch = cost(&report::Run::best_epoch);
    summary[m] = std::move(out);
  }
  return summary;
}

namespace {

// The report's t-SNE section from `DIR/tsne-<name>.json` files (`tutti tsne MODEL DATA --json`
// output): t-SNE is an analysis of chosen models, run after the experiment, and a rerun of the
// experiment (all runs done: only the report is rewritten) puts its maps side by side.
std::optional<report::TsneSection> tsne_section(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.is_regular_file() && name.starts_with("tsne-") && name.ends_with(".json"))
      files.push_back(e.path());
  }
  if (files.empty()) return std::nullopt;
  std::sort(files.begin(), files.end());
  report::TsneSection section;
  for (const auto& f : files) {
    const core::Json j = core::read_json_file(f);
    check(j.is_object() && j.contains("x") && j.contains("y") && j.contains("labels"),
          "{}: not a t-SNE map (expected the output of `tutti tsne MODEL DATA --json`)",
          f.string());
    section.models[f.stem().string().substr(5)] = report::TsneMap::from_json(j, f.string());
  }
  section.description =
      "t-SNE maps of the pre-classifier clip features (files tsne-<name>.json of the experiment "
      "folder, made with `tutti tsne MODEL DATA --json`)";
  return section;
}

}  // namespace

report::Results run_experiment(const ExperimentConfig& given, const ExperimentEvents& events,
                               dist::ProcessGroup* group) {
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
  train::check_embedder_override(train, cfg.overrides, cfg.train_path);
  if (!train.embedder.empty()) cfg.embedder = train.embedder;
  // An auxiliary file is the one input that could bring test clips into training.
  if (!cfg.models.empty())
    train::check_aux_excludes(cfg.run_config(cfg.models.front(), 1), test, cfg.test_path);
  const std::string train_md5 = core::md5_file_hex(cfg.train_path);
  const std::string test_md5 = core::md5_file_hex(cfg.test_path);

  report::Results results;
  results.tutti_version = TUTTI_VERSION;
  results.config = cfg.to_json();
  results.data =
      report::DataInfo{cfg.train_path, train_md5, cfg.test_path, test_md5, train.classes};
  if (fs::exists(results_path)) {
    const report::Results old = report::Results::load(results_path.string());
    check(old.data && old.data->train_md5 == train_md5 && old.data->test_md5 == test_md5,
          "{}: made from other data (train/test md5 differ); use another output folder",
          results_path.string());
    for (const auto& r : old.runs) {
      const auto& model = r.model;
      const int seed = r.seed;
      const fs::path model_file = cfg.out_dir / r.model_file.value_or(run_file_name(model, seed));
      if (!fs::exists(model_file)) continue;
      // Runs of the models asked for now must have been made as they would be now; runs of
      // other models are kept with the configuration they record (a folder can gather models
      // trained with different options, e.g. --patience for some, into one report).
      const bool asked = std::find(cfg.models.begin(), cfg.models.end(), model) != cfg.models.end();
      if (asked) {
        // A model file cut short (a full disk, a copy interrupted) is not a finished run: it is
        // trained again rather than skipped.
        try {
          (void)infer::read_model_file(model_file);
        } catch (const Error& e) {
          if (events.on_run_redone) events.on_run_redone(model, seed, e.what());
          continue;
        }
      }
      check(!r.train_config.is_null() &&
                (!asked ||
                 comparable(r.train_config) == comparable(cfg.run_config(model, seed).to_json())),
            "{}: run {} seed {} was made with another configuration; use another output folder "
            "or the same options",
            results_path.string(), model, seed);
      results.runs.push_back(r);
    }
  }
  auto done = [&](const std::string& model, int seed) {
    for (const auto& r : results.runs)
      if (r.model == model && r.seed == seed) return true;
    return false;
  };
  // Localization (test data with Y_instance): models without per-instance outputs are named.
  std::map<std::string, std::string> not_localized;
  if (test.has_instance_labels())
    for (const auto& m : cfg.models)
      if (!models::has_instance_outputs(m)) not_localized[m] = "no per-instance outputs";
  // Read once, before any training: a broken tsne-*.json fails now, not after the first run.
  const auto tsne = tsne_section(cfg.out_dir);
  auto save = [&] {
    results.summary = summarize_experiment_runs(results.runs);
    if (auto loc = experiment_localization_section(results.runs, not_localized))
      results.localization = std::move(loc);
    if (tsne) results.tsne = tsne;
    core::write_json_file(results_path, results.to_json());
  };

  // A run's test scores and costs (the model file is read back, as a user would).
  auto test_run = [&](const std::string& model, int seed, const fs::path& model_path,
                      const infer::ModelInfo& info, int threads) {
    const infer::Predictor pred = infer::Predictor::load(model_path);
    const auto t0 = std::chrono::steady_clock::now();
    const infer::Predictions p = pred.predict(test, false, threads, cfg.test_path);
    const double infer_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& t = info.training;
    report::Run run;
    run.model = model;
    run.seed = seed;
    run.metrics = eval::evaluate(test, p.scores, info.thresholds);
    run.train_seconds = t.train_seconds;
    run.seconds_per_epoch = t.train_seconds / std::max(1, t.epochs_run);
    run.epochs_run = t.epochs_run;
    run.best_epoch = t.best_epoch;
    run.val_loss = t.val_loss;
    run.val_map = t.val_map;
    run.params = t.params;
    run.infer_clips_per_s = infer_s > 0 ? test.size() / infer_s : 0.0;
    run.model_file = model_path.filename().string();
    return run;
  };

  // One (model, seed) run: train, write its model file, test it.
  auto train_and_test = [&](const std::string& model, int seed) {
    const train::TrainConfig rc = cfg.run_config(model, seed);
    const std::string file = run_file_name(model, seed);
    const fs::path model_path = cfg.out_dir / file;
    const infer::ModelInfo info =
        train::train_model_file(train, rc, model_path, cfg.train_path, events.on_epoch);
    report::Run run = test_run(model, seed, model_path, info, rc.threads);
    run.train_config = rc.to_json();
    if (test.has_instance_labels() && models::has_instance_outputs(model)) {
      LocalizeOptions lo;
      lo.threads = rc.threads;
      lo.seed = static_cast<std::uint64_t>(seed);
      lo.examples = seed == 1 ? 3 : 0;
      run.localization =
          localize(infer::Predictor::load(model_path), test, lo, cfg.test_path).to_results();
    }
    return run;
  };
  // Member i of model m in an ensemble of seed `seed`: i = 0 is the experiment's own run; the
  // others are trained with seed + 1000 i on the validation split of `seed`.
  auto member_run = [&](const std::string& m, int seed, int i) {
    train::TrainConfig rc = cfg.run_config(m, seed);
    if (i == 0) return std::pair{rc, cfg.out_dir / run_file_name(m, seed)};
    rc.seed = static_cast<std::uint64_t>(seed + kMemberSeedStride * i);
    rc.val_seed = static_cast<std::uint64_t>(seed);
    return std::pair{rc, cfg.out_dir / fmt::format("{}-seed{}-m{}.tutti", m, seed, i)};
  };
  auto usable_file = [](const fs::path& path) {
    if (!fs::exists(path)) return false;
    try {
      (void)infer::read_model_file(path);
      return true;
    } catch (const Error&) {
      return false;
    }
  };
  // The extra members the ensembles not yet made still need, each once, in the order rank 0
  // alone would train them.
  auto missing_members = [&] {
    std::vector<std::pair<train::TrainConfig, fs::path>> out;
    for (const auto& name : cfg.ensembles)
      for (int seed = 1; seed <= cfg.seeds; ++seed) {
        if (done(name, seed)) continue;
        std::map<std::string, int> count;
        for (const auto& m : ensemble_members(name)) {
          const int i = count[m]++;
          if (i == 0) continue;
          auto run = member_run(m, seed, i);
          const bool listed = std::any_of(out.begin(), out.end(),
                                          [&](const auto& o) { return o.second == run.second; });
          if (!listed && !usable_file(run.second)) out.push_back(std::move(run));
        }
      }
    return out;
  };
  const bool rank0 = !group || group->rank() == 0;
  std::vector<std::pair<std::string, int>> pending;  // the runs left, in the one-process order
  for (const auto& model : cfg.models) {
    // A fixed-length model (FC) cannot take variable-length bags; `tutti train` refuses them, and
    // an experiment comparing many models goes on without it, saying why in results.json.
    if (models::requires_fixed_length(model) && !(train.fixed_length() && test.fixed_length())) {
      const std::string reason =
          fmt::format("needs exactly K = {} instances in every clip; {} has shorter clips",
                      train.max_instances, train.fixed_length() ? cfg.test_path : cfg.train_path);
      results.skipped_models[model] = reason;
      if (events.on_model_skipped) events.on_model_skipped(model, reason);
      continue;
    }
    for (int seed = 1; seed <= cfg.seeds; ++seed) {
      if (done(model, seed)) {
        if (events.on_run_start) events.on_run_start(model, seed, true);
        continue;
      }
      if (group) {
        pending.emplace_back(model, seed);
        continue;
      }
      if (events.on_run_start) events.on_run_start(model, seed, false);
      report::Run run = train_and_test(model, seed);
      results.runs.push_back(run);
      save();
      if (events.on_run_done) events.on_run_done(model, seed, run);
    }
  }
  if (group) {
    // Every rank must see the same runs left (one results.json in a folder they share).
    std::string names;
    for (const auto& [m, s] : pending)
      names += fmt::format("{}{}-seed{}", names.empty() ? "" : ",", m, s);
    group->check_same("experiment_runs", names.empty() ? "none" : names,
                      "list of runs left to do (is -o a folder every rank shares?)");
    // Rounds of W runs: run k of a round goes to rank k; the results are gathered in order.
    const auto w = static_cast<std::size_t>(group->world_size());
    const auto r = static_cast<std::size_t>(group->rank());
    for (std::size_t round = 0; round < pending.size(); round += w) {
      std::string mine;
      if (round + r < pending.size()) {
        const auto& [model, seed] = pending[round + r];
        if (rank0 && events.on_run_start) events.on_run_start(model, seed, false);
        mine = train_and_test(model, seed).to_json().dump();
      }
      const auto all = group->all_gather(std::vector<std::uint8_t>(mine.begin(), mine.end()));
      for (std::size_t k = 0; k < w && round + k < pending.size(); ++k) {
        const auto& [model, seed] = pending[round + k];
        const report::Run run =
            report::Run::from_json(core::Json::parse(std::string(all[k].begin(), all[k].end())),
                                   fmt::format("rank {}'s run {} seed {}", k, model, seed));
        results.runs.push_back(run);
        if (!rank0) continue;
        if (k > 0 && events.on_run_start) events.on_run_start(model, seed, false);
        if (events.on_run_done) events.on_run_done(model, seed, run);
      }
      if (rank0) save();
    }
    // The ensembles' extra members are independent runs too: they go in rounds of W as well,
    // and every rank waits for the round's files before rank 0 reads them.
    const auto members = missing_members();
    std::string files;
    for (const auto& [rc, path] : members)
      files += fmt::format("{}{}", files.empty() ? "" : ",", path.filename().string());
    group->check_same("experiment_members", files.empty() ? "none" : files,
                      "list of ensemble members left to train (is -o a folder every rank shares?)");
    for (std::size_t round = 0; round < members.size(); round += w) {
      if (round + r < members.size()) {
        const auto& [rc, path] = members[round + r];
        train::train_model_file(train, rc, path, cfg.train_path, events.on_epoch);
      }
      group->barrier();
    }
    // Rank 0 makes the ensembles (from every rank's model files) and writes the report.
    if (!rank0) return results;
  }
  for (const auto& name : cfg.ensembles) {
    for (int seed = 1; seed <= cfg.seeds; ++seed) {
      if (done(name, seed)) {
        if (events.on_run_start) events.on_run_start(name, seed, true);
        continue;
      }
      if (events.on_run_start) events.on_run_start(name, seed, false);
      infer::EnsembleOptions eo;
      std::map<std::string, int> count;
      core::Json members = core::Json::array();
      for (const auto& m : ensemble_members(name)) {
        const int i = count[m]++;
        const auto [rc, path] = member_run(m, seed, i);
        if (i > 0 && !usable_file(path))
          train::train_model_file(train, rc, path, cfg.train_path, events.on_epoch);
        eo.members.push_back(path);
        members.push_back(path.filename().string());
        if (eo.members.size() == 1) {
          eo.validation = train.subset(train::make_validation_split(train, rc).val);
          eo.validation_name = fmt::format("{} (validation part of seed {})", cfg.train_path, seed);
          eo.threads = rc.threads;
        }
      }
      const fs::path path = cfg.out_dir / run_file_name(name, seed);
      const infer::ModelInfo info = infer::write_ensemble(eo, path);
      report::Run run = test_run(name, seed, path, info, eo.threads);
      run.seconds_per_epoch.reset();
      run.epochs_run.reset();
      run.best_epoch.reset();
      run.train_config = {{"ensemble", members}, {"val_seed", seed}};
      results.runs.push_back(run);
      save();
      if (events.on_run_done) events.on_run_done(name, seed, run);
    }
  }
  save();
  return results;
}

}  // namespace tutti::pipelines
