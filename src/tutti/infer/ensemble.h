// Ensembles: one .tutti file holding N member models whose probabilities are averaged, with
// per-class thresholds chosen for the ensemble on validation data (model_file.h describes the
// entries; infer::Predictor loads and runs it like any model file).
//
//   tutti::infer::EnsembleOptions o;
//   o.members = {"att-seed1.tutti", "att-seed1001.tutti"};
//   o.validation = tutti::data::load_bags("val.npz");  o.validation_name = "val.npz";
//   tutti::infer::ModelInfo info = tutti::infer::write_ensemble(o, "att-x2.tutti");
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/infer/model_file.h"

namespace tutti::infer {

struct EnsembleOptions {
  std::vector<std::filesystem::path> members;  // model files (not ensembles), >= 1
  data::BagDataset validation;  // labelled clips none of the members chose its epoch or
                                // thresholds on elsewhere ideally: its own validation part
  std::string validation_name;  // names it in errors and in meta.json
  int threads = 0;              // CPU threads for the members' predictions (0 = all cores)
};

// Reads every member (read_model_file's checks, and the members must agree: classes, features,
// kind of model, as read_model_file requires of an ensemble), scores the validation clips with
// each, chooses per-class thresholds on the mean probabilities exactly as training does
// (eval::choose_thresholds), and writes `out` atomically. Returns its ModelInfo. Throws
// tutti::Error naming the file or "--validation <name>" for a dataset whose classes or features
// do not fit.
ModelInfo write_ensemble(const EnsembleOptions& o, const std::filesystem::path& out);

}  // namespace tutti::infer
