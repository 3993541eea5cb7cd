// Training flags shared by `tutti train` and `tutti experiment`, generated from the declarations
// (train::train_option_decls(): flag, help, default, choices) and applied on top of
// TrainConfig::for_model(model) only when given on the command line (so each model keeps its own
// default learning rate and epoch count).
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/progress.h"
#include "tutti/train/train_config.h"

namespace tutti::cli {

struct TrainFlags {
  train::TrainConfig values;  // holds whatever the user typed
  std::vector<std::string> options;  // --option key=value (model hyperparameters)
  std::vector<std::pair<std::string, CLI::Option*>> bound;  // config key -> flag
  std::vector<std::pair<std::string, CLI::Option*>> files;  // the flags that name input files

  // Binds one flag per declared option to `cmd`, in the declaration's groups. `with_seed` = false
  // for experiment (seeds 1..N); `with_checkpoints` = false leaves out the checkpoint group.
  void bind(CLI::App* cmd, bool with_seed, bool with_checkpoints = true) {
    for (const auto& d : train::train_option_decls()) {
      if (d.key == "seed" && !with_seed) continue;
      if (d.group == train::TrainGroup::kCheckpoint && !with_checkpoints) continue;
      CLI::Option* o = nullptr;
      if (d.is_switch) {
        // A switch is an int member (0/1) given without a value.
        o = cmd->add_flag(d.flag, values.*std::get<int train::TrainConfig::*>(d.field), d.help);
      } else {
        const std::string help = fmt::format("{} (default: {})", d.help, d.default_text());
        o = std::visit([&](auto member) { return cmd->add_option(d.flag, values.*member, help); },
                       d.field);
      }
      o->group(train::group_title(d.group));
      if (!d.choices.empty()) o->check(CLI::IsMember(d.choices));
      if (d.existing_file) o->check(CLI::ExistingFile);
      bound.emplace_back(d.key, o);
      if (d.existing_file) files.emplace_back(d.key, o);
    }
    // One validation part: an index file or a fraction.
    flag("val_fraction")->excludes(flag("val_split"));
    cmd->add_option("--option", options,
                    "Model hyperparameter key=value (JSON value), e.g. --option dropout=0.5; "
                    "the options of each model: docs/models.md. In experiment, MODEL.key=value "
                    "sets it for MODEL's runs only")
        ->group(train::group_title(train::TrainGroup::kNeural));
  }

  CLI::Option* flag(const std::string& key) const {
    for (const auto& [k, o] : bound)
      if (k == key) return o;
    fail("train flags: no flag for '{}'", key);
  }

  // The input files the given flags name (--val-split), for check_outputs_differ.
  std::vector<NamedPath> input_files() const {
    const core::Json all = values.to_json(/*with_run_control=*/true);
    std::vector<NamedPath> out;
    for (const auto& [key, opt] : files)
      if (opt->count() > 0) out.push_back({opt->get_name(), all.at(key).get<std::string>()});
    return out;
  }

  // Only the flags the user gave, as TrainConfig JSON keys.
  core::Json overrides() const {
    const core::Json all = values.to_json(/*with_run_control=*/true);
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

  // The configuration of `model` with the given flags (validated by train_model_file, once).
  train::TrainConfig config_for(const std::string& model) const {
    core::Json j = train::TrainConfig::for_model(model).to_json();
    const core::Json given = overrides();
    for (const auto& [k, v] : given.items()) j[k] = v;
    j["model"] = model;
    return train::TrainConfig::from_json(j);
  }
};

}  // namespace tutti::cli
