// `tutti localize MODEL.tutti DATA.npz [--json] [--draws N] [--seed S]`: how well a model's
// per-instance outputs find WHEN a present instrument plays (data with Y_instance, e.g. the
// dataset.npz of `tutti synth --embed`). docs/training.md "Localization".
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <optional>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/infer/predictor.h"
#include "tutti/pipelines/localize.h"
#include "tutti/pipelines/segment_localization.h"

namespace tutti::cli {
namespace {

std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.4f}", x) : "n/a"; }

void setup_localize(CLI::App& root) {
  struct Opts {
    std::string model, data, strong;
    double resolution = 1.0;
    pipelines::LocalizeOptions opts;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  o->opts.examples = 0;
  auto* cmd = root.add_subcommand(
      "localize",
      "Instance-level localization (AP, AUC) of a model on strongly labeled data, with baselines");
  cmd->add_option("MODEL", o->model, "Model file (.tutti; att, fc_t or rnn)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("DATA", o->data, "Bag dataset with Y_instance (.npz)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json, "Print the full report as JSON (per-class values included)");
  cmd->add_option("--draws", o->opts.random_draws, "Draws of the random baseline")
      ->capture_default_str();
  cmd->add_option("--seed", o->opts.seed, "Seed of the random baseline")->capture_default_str();
  cmd->add_option("--examples", o->opts.examples, "Example timelines in the JSON")
      ->capture_default_str();
  cmd->add_option("--threads", o->opts.threads, "CPU threads (default: all cores)");
  cmd->add_option("--strong", o->strong,
                  "strong.csv of the clips (tutti synth): also segment-based F1 of the tag "
                  "timeline")
      ->check(CLI::ExistingFile);
  cmd->add_option("--resolution", o->resolution, "Segment length (s) of the segment metrics")
      ->capture_default_str();
  cmd->callback([o] {
    o->opts.validate();
    const auto predictor = infer::Predictor::load(o->model);
    const auto ds = data::load_bags(o->data);
    check<UsageError>(std::isfinite(o->resolution) && o->resolution > 0,
                      "localize: --resolution {} must be > 0", o->resolution);
    const auto r = pipelines::localize(predictor, ds, o->opts, o->data);
    std::optional<eval::SegmentReport> seg;
    if (!o->strong.empty())
      seg = pipelines::segment_localization(predictor, ds, o->strong, o->resolution, o->opts.threads,
                                      o->data);
    if (o->json) {
      auto j = r.to_json();
      if (seg) j["segment"] = seg->to_json();
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("model %s on %s: %lld clips, %lld (clip, class) pairs present, %.1f%% of their "
                "instances active\n",
                r.model.c_str(), o->data.c_str(), static_cast<long long>(r.clips),
                static_cast<long long>(r.positive_pairs), 100.0 * r.positive_rate);
    std::printf("%-10s %-18s %-18s\n", "method", "instance mAP", "instance AUC");
    for (const auto& m : r.methods) {
      if (m.name == "random")
        std::printf("%-10s %-18s %-18s  (%d draws, mean ± std)\n", m.name.c_str(),
                    (num(m.map_mean) + " ± " + num(m.map_std)).c_str(),
                    (num(m.auc_mean) + " ± " + num(m.auc_std)).c_str(), m.n);
      else
        std::printf("%-10s %-18s %-18s\n", m.name.c_str(), num(m.map_mean).c_str(),
                    num(m.auc_mean).c_str());
    }
    if (seg)
      std::printf("tag timeline vs %s, %g s segments: F1 %s (precision %s, recall %s), "
                  "macro F1 %s, error rate %s\n",
                  o->strong.c_str(), seg->resolution_s, num(seg->f1).c_str(),
                  num(seg->precision).c_str(), num(seg->recall).c_str(),
                  num(seg->f1_macro).c_str(), num(seg->error_rate).c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("localize", 34, tutti::cli::setup_localize);
