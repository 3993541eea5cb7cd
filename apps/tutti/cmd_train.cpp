// `tutti train DATA.npz --model M -o MODEL.tutti`: train one model (docs/training.md).
// `tutti train --train 'DIR/*.npz' --val VAL.npz ...`: the same on training data streamed from
// shards (data/shards.h, docs/distributed.md).
#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "command.h"
#include "outputs.h"
#include "train_flags.h"
#include "tutti/core/file_io.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/shards.h"
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
    std::string data, model = "att", out, shards, val;
    int window = 4;
    TrainFlags flags;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "train", fmt::format("Train a model ({}) on a bag dataset and write a .tutti file",
                           models::describe_model_names()));
  auto* data =
      cmd->add_option("DATA", o->data, "Training bag dataset (.npz)")->check(CLI::ExistingFile);
  auto* shards =
      cmd->add_option("--train", o->shards,
                      "Stream the training clips from shards instead: 'DIR/*.npz' (quoted), a "
                      "manifest.json or one .npz (needs --val)")
          ->excludes(data);
  cmd->add_option("--val", o->val, "Validation bag dataset (.npz) for --train")
      ->check(CLI::ExistingFile)
      ->needs(shards);
  cmd->add_option("--shuffle-window", o->window,
                  "--train: shards open and shuffled together (memory: their pages)")
      ->check(CLI::Range(1, 1 << 20))
      ->capture_default_str()
      ->needs(shards);
  cmd->add_option("--model,-m", o->model, model_help())->capture_default_str();
  cmd->add_option("-o,--output", o->out, "Output model file (.tutti)")->required();
  o->flags.bind(cmd, /*with_seed=*/true);
  // Streamed clips are not split: the validation set is --val.
  shards->excludes(o->flags.flag("val_split"))->excludes(o->flags.flag("val_fraction"));
  cmd->callback([o] {
    check<UsageError>(!o->data.empty() || !o->shards.empty(),
                      "train: no training data (give DATA.npz, or --train SHARDS --val VAL.npz)");
    check<UsageError>(o->shards.empty() || !o->val.empty(),
                      "train: --train {} needs --val VAL.npz (streamed clips are not split)",
                      o->shards);
    auto inputs = o->flags.input_files();
    inputs.push_back({"DATA", o->data});
    inputs.push_back({"--val", o->val});
    check_outputs_differ("train", inputs, {{"-o", o->out}});
    const train::TrainConfig cfg = o->flags.config_for(o->model);
    std::optional<data::ShardStream> stream;
    if (!o->shards.empty()) stream.emplace(data::resolve_shards(o->shards), o->window);
    // A distributed run (torchrun, srun, mpirun or `tutti launch`): join the group and check
    // that every rank runs the same tutti on the same data and options before any work.
    std::unique_ptr<dist::ProcessGroup> group;
    if (const auto env = dist::read_dist_env()) {
      group = dist::ProcessGroup::connect(*env);
      group->check_same("version", TUTTI_VERSION, "tutti version");
      group->check_same("options", cfg.to_json(/*with_run_control=*/true).dump(),
                        "training options");
      if (stream) {
        group->check_same("shards", stream->digest(), "training shards (" + o->shards + ")");
        group->check_same("data", core::md5_file_hex(o->val),
                          "data digest (MD5 of " + o->val + ")");
      } else {
        group->check_same("data", core::md5_file_hex(o->data),
                          "data digest (MD5 of " + o->data + ")");
      }
    }
    const bool quiet = group && group->rank() != 0;  // rank 0 reports for all
    const auto ds = data::load_bags(stream ? o->val : o->data);
    train::check_embedder_override(stream ? stream->like() : ds, o->flags.overrides(),
                                   stream ? o->shards : o->data);
    std::unique_ptr<core::Progress> bar;
    if (!cfg.is_forest() && !quiet)
      bar = std::make_unique<core::Progress>(fmt::format("train {} seed {}", cfg.model, cfg.seed),
                                             cfg.epochs);
    // Test hook: TUTTI_TEST_KILL_AFTER_EPOCH=N kills this process (SIGKILL, as a crash would)
    // once epoch N and its checkpoint are done, so that tests can resume a run deterministically.
    // Not for any other use.
    const char* kill_after = std::getenv("TUTTI_TEST_KILL_AFTER_EPOCH");
    const int kill_epoch = kill_after ? std::atoi(kill_after) : 0;
    const train::EpochCallback on_epoch = [&](const infer::EpochRecord& e, int) {
      if (kill_epoch > 0 && e.epoch == kill_epoch) std::raise(SIGKILL);
      if (!bar) return;
      bar->set_status(fmt::format("epoch {} loss {:.4f} val {:.4f} mAP {:.3f}", e.epoch,
                                  e.train_loss, e.val_loss, e.val_map));
      bar->advance();
    };
    const auto info =
        stream ? train::train_model_file_streamed(*stream, ds, cfg, o->out, o->shards, on_epoch, {},
                                                  group.get())
               : train::train_model_file(ds, cfg, o->out, o->data, on_epoch, {}, group.get());
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
