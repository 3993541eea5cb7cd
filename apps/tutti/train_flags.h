// Training flags shared by `tutti train` and `tutti experiment`: bound once here, applied on top of
// TrainConfig::for_model(model) only when given on the command line (so each model keeps its own
// default learning rate and epoch count).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <string>
#include <vector>

#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/progress.h"
#include "tutti/train/train_config.h"

namespace tutti::cli {

struct TrainFlags {
  train::TrainConfig values;  // holds whatever the user typed
  std::vector<std::string> options;  // --option key=value (model hyperparameters)
  std::vector<std::pair<std::string, CLI::Option*>> bound;  // config key -> flag

  // Binds the flags to `cmd`. `with_seed` = false for experiment (seeds 1..N).
  void bind(CLI::App* cmd, bool with_seed) {
    auto& v = values;
    auto add = [&](const char* key, CLI::Option* o) { bound.emplace_back(key, o); };
    if (with_seed) add("seed", cmd->add_option("--seed", v.seed, "Random seed (default 1)"));
    add("epochs", cmd->add_option("--epochs", v.epochs, "Epochs (default: 250 att, 100 others)"));
    add("learning_rate",
        cmd->add_option("--lr", v.learning_rate, "Adam learning rate (default 5e-4; fc 1e-4, mmgat* 2.5e-4)"));
    add("weight_decay", cmd->add_option("--weight-decay", v.weight_decay,
                                        "Adam L2 weight decay (default 1e-5)"));
    add("batch_size", cmd->add_option("--batch-size", v.batch_size, "Clips per batch (default 128)"));
    add("engine", cmd->add_option("--engine", v.engine,
                                  "auto (on the CPU: ATT's fused engine, MMGAT's fused ops), "
                                  "autograd (LibTorch only) or fused")
                      ->check(CLI::IsMember({"auto", "autograd", "fused"})));
    add("patience", cmd->add_option("--patience", v.patience,
                                    "Stop after N epochs without a lower validation loss (0 = off)"));
    auto* split = cmd->add_option("--val-split", v.val_split,
                                  "npz with int64 train/val row indices (AttentionMIC split)")
                      ->check(CLI::ExistingFile);
    add("val_split", split);
    add("val_fraction", cmd->add_option("--val-fraction", v.val_fraction,
                                        "Seeded stratified validation fraction (default 0.15)")
                            ->excludes(split));
    add("threads", cmd->add_option("--threads", v.threads, "CPU threads (default: all cores)"));
    add("device", cmd->add_option("--device", v.device, "cpu or cuda (default cpu)")
                      ->check(CLI::IsMember({"cpu", "cuda"})));
    add("embedder", cmd->add_option("--embedder", v.embedder,
                                    "Name of the features' embedder, recorded (default vggish)"));
    add("rf_trees", cmd->add_option("--rf-trees", v.rf_trees, "rf: trees per class (default 100)"));
    add("rf_max_depth",
        cmd->add_option("--rf-max-depth", v.rf_max_depth, "rf: maximum depth (default 8)"));
    add("rf_subsample", cmd->add_option("--rf-subsample", v.rf_subsample,
                                        "rf: fraction of rows per tree (default 0.632)"));
    add("rf_features", cmd->add_option("--rf-features", v.rf_features,
                                       "rf: clip features mean or mean_std (default mean)")
                           ->check(CLI::IsMember({"mean", "mean_std"})));
    cmd->add_option("--option", options,
                    "Model hyperparameter key=value (JSON value), e.g. --option dropout=0.5");
  }

  // Only the flags the user gave, as TrainConfig JSON keys.
  core::Json overrides() const {
    const core::Json all = values.to_json();
    core::Json out = core::Json::object();
    for (const auto& [key, opt] : bound)
      if (opt->count() > 0) out[key] = all.at(key);
    if (!options.empty()) {
      core::Json mo = core::Json::object();
      for (const auto& kv : options) {
        const auto eq = kv.find('=');
        check<UsageError>(eq != std::string::npos && eq > 0,
                          "--option {}: expected key=value", kv);
        const std::string key = kv.substr(0, eq), val = kv.substr(eq + 1);
        mo[key] = core::Json::accept(val) ? core::Json::parse(val) : core::Json(val);
      }
      out["model_options"] = mo;
    }
    return out;
  }

  train::TrainConfig config_for(const std::string& model) const {
    core::Json j = train::TrainConfig::for_model(model).to_json();
    const core::Json given = overrides();
    for (const auto& [k, v] : given.items()) j[k] = v;
    j["model"] = model;
    auto c = train::TrainConfig::from_json(j);
    c.validate();
    return c;
  }
};

}  // namespace tutti::cli
