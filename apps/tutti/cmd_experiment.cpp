// `tutti experiment --train T.npz --test E.npz --models att,rf --seeds 10 -o DIR`: every model
// with every seed, results.json and report.html; rerunning resumes (docs/training.md).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "train_flags.h"
#include "tutti/core/file_io.h"
#include "tutti/dist/process_group.h"
#include "tutti/models/model_decl.h"
#include "tutti/pipelines/experiment.h"
#include "tutti/report/experiment_report.h"

namespace tutti::cli {
namespace {

void setup_experiment(CLI::App& root) {
  struct Opts {
    pipelines::ExperimentConfig cfg;
    std::string out;
    TrainFlags flags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand("experiment",
                                  "Train every model with seeds 1..N, evaluate on a test set, "
                                  "write results.json + report.html");
  cmd->add_option("--train", o->cfg.train_path, "Training bag dataset (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--test", o->cfg.test_path, "Test bag dataset (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  std::string defaults;
  for (const auto& m : o->cfg.models) defaults += (defaults.empty() ? "" : ",") + m;
  cmd->add_option("--models", o->cfg.models,
                  fmt::format("Comma-separated models of {} (default {})",
                              models::describe_model_names(), defaults))
      ->delimiter(',');
  cmd->add_option("--ensembles", o->cfg.ensembles,
                  "Comma-separated ensembles m1+m2+... of --models: per seed, the mean of those "
                  "runs; a model named k times adds k - 1 seeds of it (docs/training.md)")
      ->delimiter(',');
  cmd->add_option("--seeds", o->cfg.seeds, "Number of seeds (runs use seeds 1..N)")
      ->capture_default_str();
  cmd->add_option("-o,--output", o->out, "Output folder")->required();
  o->flags.bind(cmd, /*with_seed=*/false, /*with_checkpoints=*/false);
  cmd->callback([o] {
    auto inputs = o->flags.input_files();
    inputs.push_back({"--train", o->cfg.train_path});
    inputs.push_back({"--test", o->cfg.test_path});
    check_output_folder("experiment", inputs, {"-o", o->out}, /*replaced=*/false);
    o->cfg.out_dir = o->out;
    o->cfg.overrides = o->flags.overrides();
    // A distributed run: the runs are split across the ranks (pipelines/experiment.h); every rank
    // must run the same tutti on the same data and options. Rank 0 reports for all.
    std::unique_ptr<dist::ProcessGroup> group;
    if (const auto env = dist::read_dist_env()) {
      group = dist::ProcessGroup::connect(*env);
      group->check_same("version", TUTTI_VERSION, "tutti version");
      group->check_same("options", o->cfg.to_json().dump(), "experiment options");
      group->check_same(
          "data",
          core::md5_file_hex(o->cfg.train_path) + " " + core::md5_file_hex(o->cfg.test_path),
          "data digest (MD5 of --train and --test)");
    }
    const bool quiet = group && group->rank() != 0;
    std::unique_ptr<core::Progress> bar;
    pipelines::ExperimentEvents ev;
    const int total =
        static_cast<int>(o->cfg.models.size() + o->cfg.ensembles.size()) * o->cfg.seeds;
    int index = 0;
    ev.on_run_start = [&](const std::string& model, int seed, bool skipped) {
      ++index;
      if (skipped) {
        std::fprintf(stderr, "[%d/%d] %s seed %d: done earlier, skipped\n", index, total,
                     model.c_str(), seed);
        return;
      }
      if (models::find_model_decl(model) != nullptr && !models::is_forest(model))
        bar = std::make_unique<core::Progress>(
            fmt::format("[{}/{}] {} seed {}", index, total, model, seed),
            o->cfg.run_config(model, seed).epochs);
    };
    ev.on_run_redone = [](const std::string& model, int seed, const std::string& error) {
      std::fprintf(stderr, "tutti: warning: %s seed %d: %s; training it again\n", model.c_str(),
                   seed, error.c_str());
    };
    ev.on_model_skipped = [&](const std::string& model, const std::string& reason) {
      index += o->cfg.seeds;
      std::fprintf(stderr, "%s: skipped: %s\n", model.c_str(), reason.c_str());
    };
    ev.on_epoch = [&](const infer::EpochRecord& e, int) {
      if (!bar) return;
      bar->set_status(
          fmt::format("loss {:.4f} val {:.4f} mAP {:.3f}", e.train_loss, e.val_loss, e.val_map));
      bar->advance();
    };
    ev.on_run_done = [&](const std::string& model, int seed, const report::Run& run) {
      if (bar) bar->finish();
      bar.reset();
      std::fprintf(stderr, "[%d/%d] %s seed %d: test mAP %.4f, F1 %.4f (%.1f s)\n", index, total,
                   model.c_str(), seed, run.metrics.mAP, run.metrics.f1_pos,
                   run.train_seconds.value_or(std::nan("")));
    };
    if (quiet) ev = {};
    const auto html = std::filesystem::path(o->out) / "report.html";
    const auto results = pipelines::run_experiment(o->cfg, ev, group.get());
    if (quiet) return;
    report::write_experiment_report(report::ExperimentResults(results), html);
    std::fprintf(stderr, "results: %s\nreport:  %s\n",
                 (std::filesystem::path(o->out) / "results.json").c_str(), html.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("experiment", 33, tutti::cli::setup_experiment);
