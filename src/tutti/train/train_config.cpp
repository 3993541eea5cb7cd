// The training options' declarations and everything derived from them: defaults, validation,
// JSON in and out. Torch-free.
#include "tutti/train/train_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::train {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TrainOptionDecl option(std::string key, std::string flag, TrainGroup group,
                       TrainOptionDecl::Field field, core::Json def, std::string help) {
  TrainOptionDecl d;
  d.key = std::move(key);
  d.flag = std::move(flag);
  d.group = group;
  d.field = field;
  d.def = std::move(def);
  d.help = std::move(help);
  return d;
}

TrainOptionDecl range(TrainOptionDecl d, double lo, double hi, bool lo_open = false,
                      bool hi_open = false, std::string note = {}) {
  d.lo = lo;
  d.hi = hi;
  d.lo_open = lo_open;
  d.hi_open = hi_open;
  d.note = std::move(note);
  return d;
}

TrainOptionDecl choices(TrainOptionDecl d, std::vector<std::string> c) {
  d.choices = std::move(c);
  return d;
}

std::vector<TrainOptionDecl> make_decls() {
  using C = TrainConfig;
  const auto common = TrainGroup::kCommon, neural = TrainGroup::kNeural,
             forest = TrainGroup::kForest;
  std::vector<TrainOptionDecl> v;
  v.push_back(range(option("seed", "--seed", common, &C::seed, 1,
                           "Random seed (initialization, shuffling, dropout, validation split, "
                           "forests)"),
                    0, kInf));
  v.push_back(
      range(option("threads", "--threads", common, &C::threads, 0, "CPU threads (0 = all cores)"),
            0, kInf, false, false, "0 = all cores"));
  v.push_back(choices(option("device", "--device", common, &C::device, "cpu", "cpu or cuda"),
                      {"cpu", "cuda"}));
  auto embedder = option("embedder", "--embedder", common, &C::embedder, "vggish",
                         "Name of the features' embedder, recorded when the dataset has no "
                         "record (a dataset's record wins)");
  embedder.non_empty = true;
  embedder.note = "must name the feature extractor";
  v.push_back(embedder);
  auto split = option("val_split", "--val-split", common, &C::val_split, "",
                      "npz with int64 train/val row indices (AttentionMIC split)");
  split.existing_file = true;
  v.push_back(split);
  v.push_back(range(option("val_fraction", "--val-fraction", common, &C::val_fraction, 0.15,
                           "Seeded stratified validation fraction"),
                    0, 1, true, true));
  v.push_back(range(option("val_seed", "--val-seed", common, &C::val_seed, 0,
                           "Seed of the stratified validation split (0 = --seed); ensemble "
                           "members share one"),
                    0, kInf));

  v.push_back(range(option("epochs", "--epochs", neural, &C::epochs, nullptr, "Epochs"), 1, kInf));
  v.push_back(range(
      option("learning_rate", "--lr", neural, &C::learning_rate, nullptr, "Adam learning rate"), 0,
      kInf, true));
  v.push_back(range(option("weight_decay", "--weight-decay", neural, &C::weight_decay, 1e-5,
                           "Adam L2 weight decay"),
                    0, kInf));
  v.push_back(
      range(option("batch_size", "--batch-size", neural, &C::batch_size, 128, "Clips per batch"), 2,
            kInf, false, false, "batch normalization needs two clips"));
  v.push_back(range(option("patience", "--patience", neural, &C::patience, 0,
                           "Stop after N epochs without a lower validation loss (0 = off)"),
                    0, kInf, false, false, "0 = off"));
  v.push_back(choices(option("engine", "--engine", neural, &C::engine, "auto",
                             "auto (on the CPU the model's fused engine where it has one: ATT's "
                             "whole step, MMGAT's fused ops), autograd (LibTorch only) or fused"),
                      {"auto", "autograd", "fused"}));
  v.push_back(range(option("label_smoothing", "--label-smoothing", neural, &C::label_smoothing, 0.0,
                           "Train on targets y (1 - e) + e / 2 (validation loss on 0/1)"),
                    0, 1, false, true));
  v.push_back(choices(option("lr_schedule", "--lr-schedule", neural, &C::lr_schedule, "constant",
                             "constant, or cosine: lr (1 + cos(pi (epoch - 1) / epochs)) / 2"),
                      {"constant", "cosine"}));
  v.push_back(range(option("mixup", "--mixup", neural, &C::mixup, 0.0,
                           "Mixup of bags: train on pairs of a batch's clips mixed (features and "
                           "targets) with a weight from Beta(A, A) (0 = off)"),
                    0, kInf, false, false, "0 = off"));
  v.push_back(range(option("ema", "--ema", neural, &C::ema, 0.0,
                           "Exponential moving average of the weights with decay D, updated every "
                           "step; validation, best epoch and the written model use it (0 = off)"),
                    0, 1, false, true, "0 = off"));
  auto aux = option("aux_labels", "--aux-labels", neural, &C::aux_labels, "",
                    "Auxiliary task: bag dataset (.npz) of more clips and other classes (e.g. the "
                    "527 AudioSet classes), joined by clip key; the model file keeps only the "
                    "training classes");
  aux.existing_file = true;
  v.push_back(aux);
  v.push_back(range(option("aux_weight", "--aux-weight", neural, &C::aux_weight, 1.0,
                           "Loss weight of an --aux-labels label (a training label weighs 1)"),
                    0, kInf, true));
  v.push_back(option("teacher", "--teacher", neural, &C::teacher, "",
                     "Distillation: model file (e.g. an ensemble) whose probabilities are the "
                     "training targets; {seed} is replaced by the seed"));
  v.push_back(range(option("teacher_weight", "--teacher-weight", neural, &C::teacher_weight, 1.0,
                           "Share of the --teacher probability in a labeled clip's target (the "
                           "rest is its label)"),
                    0, 1));

  v.push_back(range(
      option("rf_trees", "--rf-trees", forest, &C::rf_trees, 100, "rf: trees per class"), 1, kInf));
  v.push_back(range(
      option("rf_max_depth", "--rf-max-depth", forest, &C::rf_max_depth, 8, "rf: maximum depth"), 1,
      kInf));
  v.push_back(range(option("rf_subsample", "--rf-subsample", forest, &C::rf_subsample, 0.632,
                           "rf: fraction of rows per tree"),
                    0, 1, true, false));
  v.push_back(choices(option("rf_features", "--rf-features", forest, &C::rf_features, "mean",
                             "rf: clip features (mean or mean_std over the real instances)"),
                      {"mean", "mean_std"}));

  const auto run = TrainGroup::kCheckpoint;
  v.push_back(range(option("checkpoint_every", "--checkpoint-every", run, &C::checkpoint_every, 0,
                           "Neural models: write OUT.ckpt (weights, optimizer, random states, best "
                           "so far) after every N-th epoch, atomically; removed once OUT is "
                           "written (0 = never)"),
                    0, kInf, false, false, "0 = never"));
  auto resume = range(option("resume", "--resume", run, &C::resume, 0,
                             "Neural models: continue from OUT.ckpt, ending with the model an "
                             "uninterrupted run writes"),
                      0, 1);
  resume.is_switch = true;
  v.push_back(resume);
  return v;
}

std::string number_text(double x) { return fmt::format("{:g}", x); }

// The model's default of a per-model option, from its declaration.
double model_default(const std::string& key, const models::ModelDecl& d) {
  return key == "epochs" ? d.epochs : d.learning_rate;
}

// Whether the option's value in `c` is allowed; the value as text for errors.
bool allowed(const TrainOptionDecl& d, const TrainConfig& c, std::string& text) {
  return std::visit(
      [&](auto member) {
        const auto& v = c.*member;
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          text = v.empty() ? "''" : v;
          if (d.non_empty && v.empty()) return false;
          return d.choices.empty() ||
                 std::find(d.choices.begin(), d.choices.end(), v) != d.choices.end();
        } else {
          const auto x = static_cast<double>(v);
          text = std::is_floating_point_v<T> ? number_text(x) : fmt::format("{}", v);
          return std::isfinite(x) && (d.lo_open ? x > d.lo : x >= d.lo) &&
                 (std::isinf(d.hi) || (d.hi_open ? x < d.hi : x <= d.hi));
        }
      },
      d.field);
}

}  // namespace

const std::vector<TrainOptionDecl>& train_option_decls() {
  static const std::vector<TrainOptionDecl> decls = make_decls();
  return decls;
}

const TrainOptionDecl* find_train_option(const std::string& key) {
  for (const auto& d : train_option_decls())
    if (d.key == key) return &d;
  return nullptr;
}

std::string group_title(TrainGroup g) {
  switch (g) {
    case TrainGroup::kCommon:
      return "Training";
    case TrainGroup::kNeural:
      return "Neural training";
    case TrainGroup::kForest:
      return "Random forest (rf)";
    case TrainGroup::kCheckpoint:
      return "Checkpoints";
  }
  return {};
}

std::string TrainOptionDecl::default_text() const {
  if (def.is_null()) {
    // The most common model default is "otherwise"; the others are named.
    std::map<double, std::vector<std::string>> by_value;
    for (const auto& m : models::model_decls())
      if (m.neural()) by_value[model_default(key, m)].push_back(m.name);
    const auto common = std::max_element(by_value.begin(), by_value.end(), [](auto& a, auto& b) {
      return a.second.size() < b.second.size();
    });
    std::string s;
    for (const auto& [value, names] : by_value) {
      if (value == common->first) continue;
      std::string who;
      for (const auto& n : names) who += (who.empty() ? "" : ", ") + n;
      s += fmt::format("{} for {}, ", number_text(value), who);
    }
    return s + number_text(common->first) + " otherwise";
  }
  if (def.is_string()) return def.get<std::string>().empty() ? "none" : def.get<std::string>();
  if (def.is_number_float()) return number_text(def.get<double>());
  return def.dump();
}

std::string TrainOptionDecl::rule() const {
  std::string r;
  if (std::holds_alternative<std::string TrainConfig::*>(field)) {
    if (!choices.empty()) {
      for (std::size_t i = 0; i < choices.size(); ++i)
        r += (i == 0 ? "" : i + 1 == choices.size() ? " or " : ", ") + choices[i];
      r = "must be " + r;
    } else {
      r = note;
    }
    return r;
  }
  if (std::isinf(hi))
    r = fmt::format("must be {} {}", lo_open ? ">" : ">=", number_text(lo));
  else
    r = fmt::format("must be in {}{}, {}{}", lo_open ? "(" : "[", number_text(lo), number_text(hi),
                    hi_open ? ")" : "]");
  return note.empty() ? r : fmt::format("{} ({})", r, note);
}

TrainConfig::TrainConfig() {
  for (const auto& d : train_option_decls()) {
    std::visit(
        [&](auto member) {
          auto& v = this->*member;
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_arithmetic_v<T>) {
            if (d.def.is_null()) {  // the model's own default
              v = static_cast<T>(model_default(d.key, models::model_decl(model)));
              return;
            }
          }
          v = d.def.get<T>();
        },
        d.field);
  }
}

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
  auto bad = [](bool ok, const std::string& field, const std::string& value,
                const std::string& why) {
    check<UsageError>(ok, "train config: {} = {}: {}", field, value, why);
  };
  bad(!model.empty(), "model", "''", "a model name is required");
  bad(models::find_model_decl(model) != nullptr, "model", model,
      "must be one of " + models::describe_model_names());
  for (const auto& d : train_option_decls()) {
    std::string text;
    bad(allowed(d, *this, text), d.key, text, d.rule());
  }
  bad(model_options.is_object(), "model_options", model_options.dump(), "must be a JSON object");
  // The forest has no model options and ignores them (an experiment's --option serves the
  // neural models it trains).
  if (!is_forest()) models::validate_model_options(models::model_decl(model), model_options);
}

core::Json TrainConfig::to_json(bool with_run_control) const {
  core::Json j = {{"model", model}, {"model_options", model_options}};
  for (const auto& d : train_option_decls())
    if (with_run_control || d.group != TrainGroup::kCheckpoint)
      std::visit([&](auto member) { j[d.key] = this->*member; }, d.field);
  return j;
}

TrainConfig TrainConfig::from_json(const core::Json& j) {
  check(j.is_object(), "train config: expected a JSON object, got {}", j.dump());
  const auto name = j.find("model");
  check(name == j.end() || name->is_string(), "train config: 'model' must be a string, got {}",
        name == j.end() ? "" : name->dump());
  TrainConfig c = for_model(name == j.end() ? std::string("att") : name->get<std::string>());
  for (const auto& [key, value] : j.items()) {
    if (key == "model") continue;
    if (key == "model_options") {
      c.model_options = value;
      continue;
    }
    const TrainOptionDecl* d = find_train_option(key);
    check(d != nullptr, "train config: unknown key '{}'", key);
    std::visit(
        [&](auto member) {
          auto& v = c.*member;
          using T = std::decay_t<decltype(v)>;
          bool ok = false;
          if constexpr (std::is_same_v<T, std::string>) {
            ok = value.is_string();
          } else if constexpr (std::is_floating_point_v<T>) {
            ok = value.is_number();
          } else if constexpr (std::is_unsigned_v<T>) {
            ok = value.is_number_unsigned() ||
                 (value.is_number_integer() && value.get<std::int64_t>() >= 0);
          } else {
            ok = value.is_number_integer() &&
                 value.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                 value.get<std::int64_t>() <= std::numeric_limits<T>::max();
          }
          check(ok, "train config: '{}' must be {}, got {}", key,
                std::is_same_v<T, std::string> ? "a string"
                : std::is_floating_point_v<T>  ? "a number"
                                               : "an integer",
                value.dump());
          v = value.get<T>();
        },
        d->field);
  }
  return c;
}

}  // namespace tutti::train
