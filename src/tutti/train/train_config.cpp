#include "tutti/train/train_config.h"

#include <cmath>
#include <set>

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::train {

TrainConfig TrainConfig::for_model(const std::string& model) {
  TrainConfig c;
  c.model = model;
  // The model's declared defaults; the forest records the common ones (it has no epochs).
  const models::ModelDecl& d = models::model_decl(model);
  if (d.neural()) {
    c.epochs = d.epochs;
    c.learning_rate = d.learning_rate;
  }
  return c;
}

bool TrainConfig::is_forest() const { return models::is_forest(model); }

void TrainConfig::validate() const {
  auto bad = [](bool ok, const char* field, const std::string& value, const char* why) {
    check<UsageError>(ok, "train config: {} = {}: {}", field, value, why);
  };
  bad(!model.empty(), "model", "''", "a model name is required");
  bad(models::find_model_decl(model) != nullptr, "model", model,
      ("must be one of " + models::describe_model_names()).c_str());
  bad(threads >= 0, "threads", std::to_string(threads), "must be >= 0 (0 = all cores)");
  bad(device == "cpu" || device == "cuda", "device", device, "must be cpu or cuda");
  bad(epochs >= 1, "epochs", std::to_string(epochs), "must be >= 1");
  bad(std::isfinite(learning_rate) && learning_rate > 0, "learning_rate",
      std::to_string(learning_rate), "must be > 0");
  bad(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay",
      std::to_string(weight_decay), "must be >= 0");
  bad(batch_size >= 2, "batch_size", std::to_string(batch_size),
      "must be >= 2 (batch normalization needs two clips)");
  bad(engine == "auto" || engine == "autograd" || engine == "fused", "engine", engine,
      "must be auto, autograd or fused");
  bad(patience >= 0, "patience", std::to_string(patience), "must be >= 0 (0 = off)");
  bad(val_fraction > 0 && val_fraction < 1, "val_fraction", std::to_string(val_fraction),
      "must be in (0, 1)");
  bad(rf_trees >= 1, "rf_trees", std::to_string(rf_trees), "must be >= 1");
  bad(rf_max_depth >= 1, "rf_max_depth", std::to_string(rf_max_depth), "must be >= 1");
  bad(rf_subsample > 0 && rf_subsample <= 1, "rf_subsample", std::to_string(rf_subsample),
      "must be in (0, 1]");
  bad(rf_features == "mean" || rf_features == "mean_std", "rf_features", rf_features,
      "must be mean or mean_std");
  bad(!embedder.empty(), "embedder", "''", "must name the feature extractor");
  bad(model_options.is_object(), "model_options", model_options.dump(), "must be a JSON object");
  // The forest has no model options and ignores them (an experiment's --option serves the
  // neural models it trains).
  if (!is_forest()) models::validate_model_options(models::model_decl(model), model_options);
}

core::Json TrainConfig::to_json() const {
  return core::Json{{"model", model},
                    {"seed", seed},
                    {"threads", threads},
                    {"device", device},
                    {"epochs", epochs},
                    {"learning_rate", learning_rate},
                    {"weight_decay", weight_decay},
                    {"batch_size", batch_size},
                    {"patience", patience},
                    {"engine", engine},
                    {"val_split", val_split},
                    {"val_fraction", val_fraction},
                    {"rf_trees", rf_trees},
                    {"rf_max_depth", rf_max_depth},
                    {"rf_subsample", rf_subsample},
                    {"rf_features", rf_features},
                    {"embedder", embedder},
                    {"model_options", model_options}};
}

TrainConfig TrainConfig::from_json(const core::Json& j) {
  check(j.is_object(), "train config: expected a JSON object, got {}", j.dump());
  TrainConfig c = for_model(j.value("model", std::string("att")));
  static const std::set<std::string> kKeys = {
      "model",        "seed",        "threads",      "device",       "epochs",
      "learning_rate", "weight_decay", "batch_size",  "patience", "engine",     "val_split",
      "val_fraction", "rf_trees",    "rf_max_depth", "rf_subsample", "rf_features",
      "embedder",     "model_options"};
  for (const auto& [key, value] : j.items())
    check(kKeys.count(key) != 0, "train config: unknown key '{}'", key);
  try {
    c.seed = j.value("seed", c.seed);
    c.threads = j.value("threads", c.threads);
    c.device = j.value("device", c.device);
    c.epochs = j.value("epochs", c.epochs);
    c.learning_rate = j.value("learning_rate", c.learning_rate);
    c.weight_decay = j.value("weight_decay", c.weight_decay);
    c.batch_size = j.value("batch_size", c.batch_size);
    c.patience = j.value("patience", c.patience);
    c.engine = j.value("engine", c.engine);
    c.val_split = j.value("val_split", c.val_split);
    c.val_fraction = j.value("val_fraction", c.val_fraction);
    c.rf_trees = j.value("rf_trees", c.rf_trees);
    c.rf_max_depth = j.value("rf_max_depth", c.rf_max_depth);
    c.rf_subsample = j.value("rf_subsample", c.rf_subsample);
    c.rf_features = j.value("rf_features", c.rf_features);
    c.embedder = j.value("embedder", c.embedder);
    if (j.contains("model_options")) c.model_options = j.at("model_options");
  } catch (const core::Json::exception& e) {
    fail("train config: {}", e.what());
  }
  return c;
}

}  // namespace tutti::train
