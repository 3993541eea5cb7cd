// TrainConfig: defaults per model, validation of every field, JSON round trip, the option
// declarations (flags, help defaults from the model declarations, ranges) and old JSON.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"
#include "tutti/train/train_config.h"

using tutti::train::TrainConfig;

TEST(TrainConfig, DefaultsFollowTheAttentionMicStudy) {
  const auto att = TrainConfig::for_model("att");
  EXPECT_EQ(att.epochs, 250);
  EXPECT_DOUBLE_EQ(att.learning_rate, 5e-4);
  EXPECT_DOUBLE_EQ(att.weight_decay, 1e-5);
  EXPECT_EQ(att.batch_size, 128);
  EXPECT_EQ(att.patience, 0);
  EXPECT_DOUBLE_EQ(att.val_fraction, 0.15);
  const auto fc = TrainConfig::for_model("fc");
  EXPECT_EQ(fc.epochs, 100);
  EXPECT_DOUBLE_EQ(fc.learning_rate, 1e-4);
  for (const char* m : {"fc_t", "rnn"}) {
    const auto c = TrainConfig::for_model(m);
    EXPECT_EQ(c.epochs, 100) << m;
    EXPECT_DOUBLE_EQ(c.learning_rate, 5e-4) << m;
  }
  for (const char* m : {"mmgat", "mmgat-single", "mmgat-principal", "mmgat-graph"}) {
    const auto c = TrainConfig::for_model(m);
    EXPECT_EQ(c.epochs, 100) << m;
    EXPECT_DOUBLE_EQ(c.learning_rate, 2.5e-4) << m;  // tutti's measured choice (docs/models.md)
  }
  const auto rf = TrainConfig::for_model("rf");
  EXPECT_TRUE(rf.is_forest());
  EXPECT_EQ(rf.rf_trees, 100);
  EXPECT_EQ(rf.rf_max_depth, 8);
  EXPECT_NO_THROW(att.validate());
}

TEST(TrainConfig, ValidateNamesTheBadField) {
  struct Case {
    const char* field;
    void (*edit)(TrainConfig&);
  };
  const Case cases[] = {
      {"epochs", [](TrainConfig& c) { c.epochs = 0; }},
      {"learning_rate", [](TrainConfig& c) { c.learning_rate = 0; }},
      {"weight_decay", [](TrainConfig& c) { c.weight_decay = -1; }},
      {"batch_size", [](TrainConfig& c) { c.batch_size = 1; }},
      {"patience", [](TrainConfig& c) { c.patience = -2; }},
      {"val_fraction", [](TrainConfig& c) { c.val_fraction = 1.0; }},
      {"threads", [](TrainConfig& c) { c.threads = -1; }},
      {"device", [](TrainConfig& c) { c.device = "tpu"; }},
      {"rf_trees", [](TrainConfig& c) { c.rf_trees = 0; }},
      {"rf_max_depth", [](TrainConfig& c) { c.rf_max_depth = 0; }},
      {"rf_subsample", [](TrainConfig& c) { c.rf_subsample = 1.5; }},
      {"rf_features", [](TrainConfig& c) { c.rf_features = "median"; }},
      {"model", [](TrainConfig& c) { c.model = ""; }},
  };
  for (const auto& cs : cases) {
    auto c = TrainConfig::for_model("att");
    cs.edit(c);
    try {
      c.validate();
      ADD_FAILURE() << cs.field << " accepted";
    } catch (const tutti::UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(cs.field), std::string::npos) << e.what();
    }
  }
}

TEST(TrainConfig, JsonRoundTrip) {
  auto c = TrainConfig::for_model("rf");
  c.seed = 42;
  c.threads = 3;
  c.rf_features = "mean_std";
  c.val_split = "/x/split.npz";
  c.embedder = "logmel-stats";
  c.model_options = {{"dropout", 0.25}};
  const auto back = TrainConfig::from_json(c.to_json());
  EXPECT_EQ(back.to_json(), c.to_json());
  EXPECT_EQ(back.seed, 42u);
  EXPECT_EQ(back.rf_features, "mean_std");
}

TEST(TrainConfig, FromJsonRejectsUnknownKeysAndWrongTypes) {
  EXPECT_THROW(TrainConfig::from_json({{"model", "att"}, {"epochz", 3}}), tutti::Error);
  EXPECT_THROW(TrainConfig::from_json({{"model", "att"}, {"epochs", "many"}}), tutti::Error);
  EXPECT_THROW(TrainConfig::from_json(tutti::core::Json::array()), tutti::Error);
  // Missing keys take the model's defaults.
  EXPECT_EQ(TrainConfig::from_json({{"model", "fc"}}).learning_rate, 1e-4);
}

// --- The declarations ----------------------------------------------------------------------------

namespace {

using tutti::train::train_option_decls;
using tutti::train::TrainOptionDecl;

std::string usage_error_of(const TrainConfig& c) {
  try {
    c.validate();
  } catch (const tutti::UsageError& e) {
    return e.what();
  }
  return "(accepted)";
}

// Sets the option `d` of `c` from a JSON value through from_json (the path of files and flags).
TrainConfig with(const TrainConfig& c, const std::string& key, const tutti::core::Json& v) {
  auto j = c.to_json();
  j[key] = v;
  return TrainConfig::from_json(j);
}

}  // namespace

TEST(TrainOptionDecls, KeysAndFlagsAreUniqueAndCoverTheJson) {
  std::set<std::string> keys, flags;
  for (const auto& d : train_option_decls()) {
    EXPECT_TRUE(keys.insert(d.key).second) << d.key;
    EXPECT_TRUE(flags.insert(d.flag).second) << d.flag;
    EXPECT_EQ(d.flag.rfind("--", 0), 0u) << d.flag;
    EXPECT_FALSE(d.help.empty()) << d.key;
  }
  // The flags of today's CLI, each for its key.
  const std::map<std::string, std::string> want = {{"seed", "--seed"},
                                                   {"threads", "--threads"},
                                                   {"device", "--device"},
                                                   {"embedder", "--embedder"},
                                                   {"val_split", "--val-split"},
                                                   {"val_fraction", "--val-fraction"},
                                                   {"val_seed", "--val-seed"},
                                                   {"label_smoothing", "--label-smoothing"},
                                                   {"lr_schedule", "--lr-schedule"},
                                                   {"mixup", "--mixup"},
                                                   {"ema", "--ema"},
                                                   {"aux_labels", "--aux-labels"},
                                                   {"aux_weight", "--aux-weight"},
                                                   {"teacher", "--teacher"},
                                                   {"teacher_weight", "--teacher-weight"},
                                                   {"epochs", "--epochs"},
                                                   {"learning_rate", "--lr"},
                                                   {"weight_decay", "--weight-decay"},
                                                   {"batch_size", "--batch-size"},
                                                   {"patience", "--patience"},
                                                   {"engine", "--engine"},
                                                   {"rf_trees", "--rf-trees"},
                                                   {"rf_max_depth", "--rf-max-depth"},
                                                   {"rf_subsample", "--rf-subsample"},
                                                   {"rf_features", "--rf-features"},
                                                   {"checkpoint_every", "--checkpoint-every"},
                                                   {"resume", "--resume"}};
  for (const auto& d : train_option_decls()) EXPECT_EQ(want.at(d.key), d.flag) << d.key;
  EXPECT_EQ(keys.size(), want.size());
  // to_json(true) writes exactly the declared keys plus the model and its options (flat, as
  // always); to_json() leaves out the checkpoint group (run control, not part of the model).
  std::set<std::string> json_keys, model_keys;
  const auto all = TrainConfig().to_json(true), model = TrainConfig().to_json();
  for (const auto& [k, v] : all.items()) json_keys.insert(k);
  for (const auto& [k, v] : model.items()) model_keys.insert(k);
  keys.insert("model");
  keys.insert("model_options");
  EXPECT_EQ(json_keys, keys);
  keys.erase("checkpoint_every");
  keys.erase("resume");
  EXPECT_EQ(model_keys, keys);
  EXPECT_TRUE(tutti::train::find_train_option("resume")->is_switch);
}

TEST(TrainOptionDecls, DefaultsPassAndOutOfRangeValuesAreRefusedNamingTheKey) {
  for (const auto& name : tutti::models::model_names()) {
    EXPECT_NO_THROW(TrainConfig::for_model(name).validate()) << name;
  }
  EXPECT_EQ(TrainConfig().to_json(), TrainConfig::for_model("att").to_json());
  const auto base = TrainConfig::for_model("att");
  for (const auto& d : train_option_decls()) {
    SCOPED_TRACE(d.key);
    std::vector<tutti::core::Json> bad;
    if (!d.choices.empty()) bad.push_back("no_such_value");
    if (d.non_empty) bad.push_back("");
    const bool is_string = std::holds_alternative<std::string TrainConfig::*>(d.field);
    const bool is_double = std::holds_alternative<double TrainConfig::*>(d.field);
    if (!is_string) {
      // Just outside each finite bound (integers: the next integer).
      const double step = is_double ? 1e-9 : 1.0;
      if (d.lo > 0 || d.lo_open) {
        const double x = d.lo_open ? d.lo : d.lo - step;
        bad.push_back(is_double ? tutti::core::Json(x)
                                : tutti::core::Json(static_cast<std::int64_t>(x)));
      }
      if (!std::isinf(d.hi)) {
        const double x = d.hi_open ? d.hi : d.hi + step;
        bad.push_back(is_double ? tutti::core::Json(x)
                                : tutti::core::Json(static_cast<std::int64_t>(x)));
      }
    }
    for (const auto& v : bad) {
      const auto what = usage_error_of(with(base, d.key, v));
      EXPECT_NE(what.find("train config: " + d.key + " = "), std::string::npos) << what;
      EXPECT_NE(what.find(d.rule()), std::string::npos) << what;
    }
    // A wrong JSON type is refused on reading.
    EXPECT_THROW(with(base, d.key, is_string ? tutti::core::Json(3) : tutti::core::Json("x")),
                 tutti::Error);
  }
  // The model and its options are checked against the model declarations.
  auto c = base;
  c.model = "svm";
  EXPECT_NE(usage_error_of(c).find("model = svm: must be one of att"), std::string::npos);
  c = base;
  c.model_options = {{"dropout", 2.0}};
  EXPECT_NE(usage_error_of(c).find("model 'att': option 'dropout'"), std::string::npos);
  c = TrainConfig::for_model("rf");
  c.model_options = {{"dropout", 0.5}};  // an experiment's options for its neural models
  EXPECT_NO_THROW(c.validate());
}

TEST(TrainOptionDecls, HelpDefaultsComeFromTheModelDeclarations) {
  EXPECT_EQ(tutti::train::find_train_option("epochs")->default_text(),
            "250 for att, 100 otherwise");
  EXPECT_EQ(tutti::train::find_train_option("learning_rate")->default_text(),
            "0.0001 for fc, 0.00025 for mmgat, 0.0005 otherwise");
  EXPECT_EQ(tutti::train::find_train_option("weight_decay")->default_text(), "1e-05");
  EXPECT_EQ(tutti::train::find_train_option("val_split")->default_text(), "none");
  EXPECT_EQ(tutti::train::find_train_option("rf_features")->default_text(), "mean");
  EXPECT_EQ(tutti::train::find_train_option("val_fraction")->rule(), "must be in (0, 1)");
  EXPECT_EQ(tutti::train::find_train_option("batch_size")->rule(),
            "must be >= 2 (batch normalization needs two clips)");
  EXPECT_EQ(tutti::train::find_train_option("engine")->rule(), "must be auto, autograd or fused");
  EXPECT_EQ(tutti::train::find_train_option("nope"), nullptr);
}

// The recipe options: off by default, their ranges and choices checked.
TEST(TrainConfig, RecipeOptionsDefaultOffAndAreChecked) {
  TrainConfig c;
  EXPECT_EQ(c.val_seed, 0u);
  EXPECT_EQ(c.label_smoothing, 0.0);
  EXPECT_EQ(c.lr_schedule, "constant");
  c.label_smoothing = 1;
  EXPECT_NE(usage_error_of(c).find("train config: label_smoothing = 1: must be in [0, 1)"),
            std::string::npos);
  c.label_smoothing = 0.1;
  c.lr_schedule = "linear";
  EXPECT_NE(
      usage_error_of(c).find("train config: lr_schedule = linear: must be constant or cosine"),
      std::string::npos);
  c.lr_schedule = "cosine";
  EXPECT_EQ(c.mixup, 0.0);
  c.mixup = -0.1;
  EXPECT_NE(usage_error_of(c).find("train config: mixup = -0.1: must be >= 0"), std::string::npos)
      << usage_error_of(c);
  c.mixup = 0.2;
  EXPECT_NO_THROW(c.validate());
  EXPECT_EQ(c.ema, 0.0);
  for (const double bad : {-0.1, 1.0}) {
    c.ema = bad;
    EXPECT_NE(usage_error_of(c).find(fmt::format("train config: ema = {}: must be", bad)),
              std::string::npos)
        << usage_error_of(c);
  }
  c.ema = 0.999;
  EXPECT_NO_THROW(c.validate());
}

// A train_config as today's main writes it into meta.json (every key), and the one of the old
// model file fixture: both load with their values, and write back the same keys and values.
TEST(TrainConfig, OldJsonLoadsAndWritesBackTheSame) {
  const auto old = tutti::core::Json::parse(R"({
    "batch_size": 32, "device": "cpu", "embedder": "vggish", "engine": "auto", "epochs": 2,
    "learning_rate": 0.00025, "model": "mmgat-single",
    "model_options": {"ae_hidden": 4, "hidden": 8}, "patience": 0, "rf_features": "mean",
    "rf_max_depth": 8, "rf_subsample": 0.632, "rf_trees": 100, "seed": 2, "threads": 1,
    "val_fraction": 0.15, "val_split": "", "weight_decay": 1e-05})");
  const auto c = TrainConfig::from_json(old);
  EXPECT_EQ(c.model, "mmgat-single");
  EXPECT_EQ(c.epochs, 2);
  EXPECT_EQ(c.seed, 2u);
  EXPECT_DOUBLE_EQ(c.learning_rate, 2.5e-4);
  // Options declared since are written back with their defaults, which keep the old behaviour.
  auto now = old;
  now["val_seed"] = 0;
  now["label_smoothing"] = 0.0;
  now["lr_schedule"] = "constant";
  now["mixup"] = 0.0;
  now["ema"] = 0.0;
  now["aux_labels"] = "";
  now["aux_weight"] = 1.0;
  now["teacher"] = "";
  now["teacher_weight"] = 1.0;
  EXPECT_EQ(c.to_json(), now);
  EXPECT_NO_THROW(c.validate());
  // The auxiliary task's and the teacher's weights are checked against their ranges.
  auto bad = c;
  bad.aux_weight = 0;
  EXPECT_THROW(bad.validate(), tutti::UsageError);
  bad = c;
  bad.teacher_weight = 1.5;
  EXPECT_THROW(bad.validate(), tutti::UsageError);
  // Keys missing in a file take the stored model's defaults.
  const auto partial = TrainConfig::from_json({{"model", "att"}, {"seed", 4}});
  EXPECT_EQ(partial.epochs, 250);
  EXPECT_EQ(partial.batch_size, 128);
  EXPECT_EQ(partial.seed, 4u);
  EXPECT_THROW(TrainConfig::from_json({{"model", 3}}), tutti::Error);
  EXPECT_THROW(TrainConfig::from_json({{"model", "att"}, {"seed", -1}}), tutti::Error);
  EXPECT_THROW(TrainConfig::from_json({{"model", "att"}, {"epochs", 2.5}}), tutti::Error);
}
