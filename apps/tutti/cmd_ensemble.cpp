// `tutti ensemble -o OUT.tutti MODEL... --validation DATA [--val-seed S]`: one model file whose
// probabilities are the mean of its members', thresholds chosen for it on validation data
// (docs/training.md, "Ensembles").
#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/split.h"
#include "tutti/infer/ensemble.h"
#include "tutti/train/train_config.h"

namespace tutti::cli {
namespace {

void setup_ensemble(CLI::App& root) {
  struct Opts {
    std::vector<std::string> models;
    std::string validation, out;
    std::uint64_t val_seed = 0;
    double val_fraction = train::find_train_option("val_fraction")->def.get<double>();
    int threads = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "ensemble",
      "Combine model files into one that averages their probabilities, with thresholds chosen "
      "for it on validation data");
  cmd->add_option("MODELS", o->models, "Member model files (.tutti; same classes and features)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--validation", o->validation,
                  "Labelled bag dataset (.npz) the thresholds are chosen on")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--val-seed", o->val_seed,
                  "Use only the seeded stratified validation part of --validation that "
                  "`tutti train --seed S` (or --val-seed S) keeps: the members' own (0 = all of "
                  "it)");
  cmd->add_option("--val-fraction", o->val_fraction,
                  "Fraction of that validation part, as in `tutti train`")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("-o,--output", o->out, "Output model file (.tutti)")->required();
  cmd->add_option("--threads", o->threads, "CPU threads (default: all cores)");
  cmd->callback([o] {
    std::vector<NamedPath> inputs{{"--validation", o->validation}};
    for (const auto& m : o->models) inputs.push_back({"MODEL", m});
    check_outputs_differ("ensemble", inputs, {{"-o", o->out}});
    infer::EnsembleOptions e;
    e.members.assign(o->models.begin(), o->models.end());
    e.validation = data::load_bags(o->validation);
    e.validation_name = o->validation;
    if (o->val_seed != 0) {
      check<UsageError>(o->val_fraction > 0 && o->val_fraction < 1,
                        "ensemble: --val-fraction {} must be in (0, 1)", o->val_fraction);
      e.validation = e.validation.subset(
          data::stratified_split(e.validation, o->val_fraction, o->val_seed).test);
      e.validation_name +=
          fmt::format(" (validation part, fraction {}, seed {})", o->val_fraction, o->val_seed);
    }
    e.threads = o->threads;
    const infer::ModelInfo info = infer::write_ensemble(e, o->out);
    std::fprintf(stderr, "ensemble of %d models, validation mAP %.4f on %lld clips -> %s\n",
                 info.ensemble_members, info.training.val_map,
                 static_cast<long long>(info.training.n_val), o->out.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("ensemble", 36, tutti::cli::setup_ensemble);
