// `tutti train-embedder DATA_DIRS... -o OUT.tutti-embedder`: trains the learned logmel-cnn
// embedder on `tutti synth` folders (docs/embed.md, "## Learned embedders").
#include <fmt/format.h>

#include <cstdio>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/core/progress.h"
#include "tutti/train/embedder_trainer.h"

namespace tutti::cli {
namespace {

void setup(CLI::App& root) {
  struct Opts {
    std::vector<std::string> dirs;
    std::string out, cache;
    std::vector<std::string> augment;
    train::EmbedderTrainOptions train;
  };
  auto o = std::make_shared<Opts>();
  auto& t = o->train;
  auto* cmd = root.add_subcommand(
      "train-embedder",
      "Train the learned log-mel CNN embedder on `tutti synth` folders (strong + weak labels)");
  cmd->add_option("DATA_DIRS", o->dirs, "Synth output folders (audio/, labels.csv, instances.csv)")
      ->required();
  cmd->add_option("-o,--output", o->out, "Embedder file to write (.tutti-embedder)")->required();
  cmd->add_option("--cache", o->cache, "Log-mel patch cache (default OUTPUT.patches.npz)");
  cmd->add_option("--epochs", t.epochs, "Passes over the data")->capture_default_str();
  cmd->add_option("--batch-clips", t.batch_clips, "Clips per batch (all their 0.96 s patches)")
      ->capture_default_str();
  cmd->add_option("--lr", t.learning_rate, "Adam learning rate (cosine decay to 0)")
      ->capture_default_str();
  cmd->add_option("--clip-weight", t.clip_weight, "Weight of the clip (weak label) loss")
      ->capture_default_str();
  cmd->add_option("--augment", o->augment,
                  "Random changes of the training patches, drawn anew every epoch: mix (two "
                  "clips, labels united), eq (a random EQ curve), mask (SpecAugment)")
      ->delimiter(',');
  cmd->add_option("--channels", t.net.channels, "Channels of the conv blocks")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--time-pool", t.net.time_pool, "Log-mel frames averaged before the blocks")
      ->capture_default_str();
  cmd->add_option("--dim", t.net.dim, "Embedding size")->capture_default_str();
  cmd->add_option("--seed", t.seed, "Random seed (weights, batch order)")->capture_default_str();
  cmd->add_option("--threads", t.threads, "Threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--resume", t.resume, "Continue from OUTPUT.ckpt (the last finished epoch)");
  cmd->callback([o] {
    auto& t = o->train;
    t.data_dirs.assign(o->dirs.begin(), o->dirs.end());
    t.output = o->out;
    t.cache = o->cache;
    t.augment = train::PatchAugment::parse(o->augment);
    std::unique_ptr<core::Progress> bar;
    train::EmbedderTrainCallbacks cb;
    cb.on_data = [&](std::int64_t done, std::int64_t total) {
      if (!bar) bar = std::make_unique<core::Progress>("log-mel patches", total);
      bar->advance();
      if (done == total) bar.reset();
    };
    cb.on_epoch_start = [&](int epoch, int epochs) {
      bar = std::make_unique<core::Progress>(fmt::format("epoch {}/{}", epoch + 1, epochs), 0);
    };
    cb.on_batch = [&](std::int64_t, std::int64_t, double loss) {
      bar->advance();
      bar->set_status(fmt::format("loss {:.4f}", loss));
    };
    cb.on_epoch_end = [&](int epoch, double loss) {
      bar.reset();
      std::fprintf(stderr, "epoch %d: loss %.4f\n", epoch + 1, loss);
    };
    const auto r = train::train_embedder(t, cb);
    bar.reset();
    std::fprintf(stderr, "%s: %lld clips, %lld patches, %zu classes, embedder logmel-cnn:%s%s\n",
                 o->out.c_str(), static_cast<long long>(r.clips), static_cast<long long>(r.frames),
                 r.classes.size(), r.id.c_str(), r.cache_reused ? " (patch cache reused)" : "");
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("train-embedder", 37, tutti::cli::setup);
