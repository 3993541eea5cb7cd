// `tutti eval MODEL.tutti TEST.npz [--json]`: clip-level metrics of a model on a labeled dataset,
// with the model's per-class thresholds (chosen on its validation data) and at 0.5.
// With --noise-instances P --noise-pool NOISE.npz, each real test instance is first replaced with
// probability P by a random instance of the pool (data/noise.h; the noise robustness protocol of
// docs/analysis.md).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/noise.h"
#include "tutti/eval/evaluate.h"
#include "tutti/infer/predictor.h"

namespace tutti::cli {
namespace {

std::string num(double v) { return std::isnan(v) ? "   n/a" : fmt::format("{:6.3f}", v); }

std::string table(const eval::EvalReport& r, const infer::ModelInfo& info) {
  std::string s = fmt::format("{:<24} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>6} {:>5}\n",
                              "class", "AP", "AUC", "P", "R", "F1", "thr", "F1@.5", "F1att", "known");
  for (const auto& c : r.per_class)
    s += fmt::format("{:<24} {} {} {} {} {} {} {} {} {:>5}{}\n", c.name, num(c.ap), num(c.auc),
                     num(c.precision), num(c.recall), num(c.f1), num(c.threshold), num(c.f1_05),
                     num(c.f1_attmic), c.n_known, c.skipped ? "  (skipped: " + c.skip_reason + ")" : "");
  s += fmt::format("{:<24} {} {} {} {} {} {:>6} {} {}\n", "macro", num(r.mAP), num(r.auc),
                   num(r.precision_pos), num(r.recall_pos), num(r.f1_pos), "", num(r.f1_pos_05),
                   num(r.f1_attmic));
  s += fmt::format("{:<24} {} {} {:>6} {:>6} {}\n", "micro", num(r.micro.ap), num(r.micro.auc),
                   "", "", num(r.micro.f1));
  s += fmt::format("\nmodel {} ({} classes, best epoch {}, val mAP {:.4f})\n", info.spec.name,
                   info.classes.size(), info.training.best_epoch, info.training.val_map);
  return s;
}

void setup_eval(CLI::App& root) {
  struct Opts {
    std::string model, data;
    bool json = false;
    int threads = 0;
    double noise_instances = 0.0;
    std::string noise_pool;
    std::uint64_t noise_seed = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "eval", "Evaluate a model on a labeled bag dataset (mAP, AUC, F1 per class and macro)");
  cmd->add_option("MODEL", o->model, "Model file (.tutti)")->required()->check(CLI::ExistingFile);
  cmd->add_option("DATA", o->data, "Labeled bag dataset (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json, "Print one JSON object instead of a table");
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)");
  auto* noise = cmd->add_option("--noise-instances", o->noise_instances,
                                "Replace each real instance with probability P in [0, 1] by a "
                                "random instance of --noise-pool before predicting");
  auto* pool = cmd->add_option("--noise-pool", o->noise_pool,
                               "Bag dataset (.npz) the noise instances come from")
                   ->check(CLI::ExistingFile);
  noise->needs(pool);
  pool->needs(noise);
  cmd->add_option("--noise-seed", o->noise_seed, "Seed of the noise draws")
      ->capture_default_str()
      ->needs(noise);
  cmd->callback([o] {
    const bool noisy = !o->noise_pool.empty();
    if (noisy) data::InstanceNoise{o->noise_instances, o->noise_seed}.validate();
    const auto predictor = infer::Predictor::load(o->model);
    const auto& info = predictor.info();
    auto ds = data::load_bags(o->data);
    infer::check_compatible(ds, o->data, info.spec.name, info.features.dim,
                            info.features.max_instances, info.classes, /*require_classes=*/true);
    data::NoiseStats noise_stats;
    if (noisy) {
      const auto pool = data::load_bags(o->noise_pool);
      ds = data::add_instance_noise(ds, pool, {o->noise_instances, o->noise_seed}, o->data,
                                    o->noise_pool, &noise_stats);
    }
    const auto pred = predictor.predict(ds, false, o->threads, o->data);
    const auto report = eval::evaluate(ds, pred.scores, info.thresholds);
    if (o->json) {
      auto j = report.to_json();
      j["model"] = o->model;
      j["model_type"] = info.spec.name;
      j["data"] = o->data;
      j["n_clips"] = ds.size();
      if (noisy) {
        j["noise_instances"] = o->noise_instances;
        j["noise_pool"] = {{"path", o->noise_pool},
                           {"clips", noise_stats.pool_clips},
                           {"instances", noise_stats.pool_instances}};
        j["noise_seed"] = o->noise_seed;
        j["noise_replaced"] = noise_stats.replaced;
        j["noise_real_instances"] = noise_stats.instances;
      }
      std::fputs((j.dump(2) + "\n").c_str(), stdout);
    } else {
      std::fputs(table(report, info).c_str(), stdout);
      if (noisy)
        std::fputs(fmt::format("noise: {} of {} real instances replaced (P = {}, seed {}) from {} "
                               "({} clips, {} instances)\n",
                               noise_stats.replaced, noise_stats.instances, o->noise_instances,
                               o->noise_seed, o->noise_pool, noise_stats.pool_clips,
                               noise_stats.pool_instances)
                       .c_str(),
                   stdout);
    }
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("eval", 31, tutti::cli::setup_eval);
