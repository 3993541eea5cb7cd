// `tutti train DATA.npz --model M -o MODEL.tutti`: train one model (docs/training.md).
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "command.h"
#include "outputs.h"
#include "train_flags.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/dist/process_group.h"
#include "tutti/models/model_decl.h"
#include "tutti/train/train.h"
#include "tutti/train/validation.h"

namespace tutti::cli {
namespace {

// Every declared model and alias with its one-line summary.
std::string model_help() {
  std::string s = "Model:";
  for (const auto& d : models::model_decls()) s += fmt::format("\n  {:<16} {}", d.name, d.summary);
  for (const auto& a : models::model_aliases())
    s += fmt::format("\n  {:<16} {}", a.name, a.summary);
  return s;
}

void setup_train(CLI::App& root) {
  struct Opts {
    std::string data, model = "att", out;
    TrainFlags flags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "train", fmt::format("Train a model ({}) on a bag dataset and write a .tutti file",
                           models::describe_model_names()));
  cmd->add_option("DATA", o->data, "Training bag dataset (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--model,-m", o->model, model_help())->capture_default_str();
  cmd->add_option("-o,--output", o->out, "Output model file (.tutti)")->required();
  o->flags.bind(cmd, /*with_seed=*/true);
  cmd->callback([o] {
    auto inputs = o->flags.input_files();
    inputs.push_back({"DATA", o->data});
    check_outputs_differ("train", inputs, {{"-o", o->out}});
    const train::TrainConfig cfg = o->flags.config_for(o->model);
    // A distributed run (torchrun, srun, mpirun or `tutti launch`): join the group and check
    // that every rank runs the same tutti on the same data and options before any work.
    std::unique_ptr<dist::ProcessGroup> group;
    if (const auto env = dist::read_dist_env()) {
      group = dist::ProcessGroup::connect(*env);
      group->check_same("version", TUTTI_VERSION, "tutti version");
      group->check_same("options", cfg.to_json(/*with_run_control=*/true).dump(),
                        "training options");
      group->check_same("data", core::md5_file_hex(o->data),
                        "data digest (MD5 of " + o->data + ")");
    }
    const bool quiet = group && group->rank() != 0;  // rank 0 reports for all
    const auto ds = data::load_bags(o->data);
    train::check_embedder_override(ds, o->flags.overrides(), o->data);
    std::unique_ptr<core::Progress> bar;
    if (!cfg.is_forest() && !quiet)
      bar = std::make_unique<core::Progress>(fmt::format("train {} seed {}", cfg.model, cfg.seed),
                                             cfg.epochs);
    // Test hook: TUTTI_TEST_KILL_AFTER_EPOCH=N kills this process (SIGKILL, as a crash would)
    // once epoch N and its checkpoint are done, so that tests can resume a run deterministically.
    // Not for any other use.
    const char* kill_after = std::getenv("TUTTI_TEST_KILL_AFTER_EPOCH");
    const int kill_epoch = kill_after ? std::atoi(kill_after) : 0;
    const auto info = train::train_model_file(
        ds, cfg, o->out, o->data,
        [&](const infer::EpochRecord& e, int) {
          if (kill_epoch > 0 && e.epoch == kill_epoch) std::raise(SIGKILL);
          if (!bar) return;
          bar->set_status(fmt::format("epoch {} loss {:.4f} val {:.4f} mAP {:.3f}", e.epoch,
                                      e.train_loss, e.val_loss, e.val_map));
          bar->advance();
        },
        {}, group.get());
    if (bar) bar->finish();
    if (quiet) return;
    const auto& t = info.training;
    std::fprintf(stderr,
                 "trained %s (seed %llu) on %lld clips (+%lld validation) in %.1f s: best epoch "
                 "%d of %d, val loss %.4f, val mAP %.4f -> %s\n",
                 cfg.model.c_str(), static_cast<unsigned long long>(cfg.seed),
                 static_cast<long long>(t.n_train), static_cast<long long>(t.n_val),
                 t.train_seconds, t.best_epoch, t.epochs_run, t.val_loss, t.val_map,
                 o->out.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("train", 30, tutti::cli::setup_train);
