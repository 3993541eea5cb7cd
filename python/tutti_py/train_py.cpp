// Training (train/train.h) and the declarations the Python signature and docstring of
// tutti.train are generated from (train/train_config.h, models/model_decl.h).
#include <fmt/format.h>

#include <optional>

#include "convert.h"
#include "model_py.h"
#include "tutti/models/model_decl.h"
#include "tutti/train/train.h"
#include "tutti/train/validation.h"

namespace tutti::python {

namespace {

// "int", "float", "str": the Python type of a declared training option.
std::string option_type(const train::TrainOptionDecl& d) {
  return std::visit(
      [](auto member) -> std::string {
        using T = std::remove_reference_t<decltype(train::TrainConfig{}.*member)>;
        if constexpr (std::is_same_v<T, std::string>)
          return "str";
        else if constexpr (std::is_same_v<T, double>)
          return "float";
        else
          return "int";
      },
      d.field);
}

std::string option_type(models::OptionType t) {
  switch (t) {
    case models::OptionType::kNumber:
      return "float";
    case models::OptionType::kInteger:
      return "int";
    case models::OptionType::kIntegerList:
      return "list[int]";
    case models::OptionType::kBool:
      return "bool";
    case models::OptionType::kString:
    case models::OptionType::kChoice:
      return "str";
    case models::OptionType::kMatrix:
      return "list[list[float]]";
  }
  return "object";
}

py::list train_options() {
  py::list out;
  for (const auto& d : train::train_option_decls()) {
    py::dict o;
    o["key"] = d.key;
    o["flag"] = d.flag;
    o["group"] = train::group_title(d.group);
    o["type"] = option_type(d);
    o["default"] = to_python(d.def);  // None: the model's default
    o["default_text"] = d.default_text();
    o["rule"] = d.rule();
    o["choices"] = py::cast(d.choices);
    o["file"] = d.existing_file;  // a path (str or os.PathLike)
    o["help"] = d.help;
    out.append(o);
  }
  return out;
}

py::list model_declarations() {
  py::list out;
  for (const auto& m : models::model_decls()) {
    py::dict d;
    d["name"] = m.name;
    d["summary"] = m.summary;
    d["neural"] = m.neural();
    d["learning_rate"] = m.learning_rate;
    d["epochs"] = m.epochs;
    d["instance_outputs"] = m.instance_outputs;
    py::list options;
    for (const auto& o : m.options) {
      py::dict od;
      od["key"] = o.key;
      od["type"] = option_type(o.type);
      od["default"] = to_python(o.def);
      od["describe"] = o.describe();
      od["help"] = o.help;
      options.append(od);
    }
    d["options"] = options;
    out.append(d);
  }
  for (const auto& a : models::model_aliases()) {
    py::dict d;
    d["name"] = a.name;
    d["summary"] = a.summary;
    d["alias_of"] = a.model;
    d["options"] = to_python(a.options);
    out.append(d);
  }
  return out;
}

// Trains like `tutti train`: the model's declared configuration, then the given overrides (JSON
// keys of TrainConfig, "model_options" for the model's hyperparameters).
Model train_model(const py::dict& bags, const std::string& model, const py::dict& overrides,
                  const std::string& out, const py::object& progress) {
  const data::BagDataset ds = dict_to_bags(bags, "data");
  const core::Json given = to_json(overrides);
  core::Json j = train::TrainConfig::for_model(model).to_json();
  for (const auto& [k, v] : given.items()) j[k] = v;
  j["model"] = model;
  const train::TrainConfig cfg = train::TrainConfig::from_json(j);
  train::check_embedder_override(ds, given, "data");

  // A Python error raised while training (Ctrl-C, the progress callback) stops the trainer with
  // train::Cancelled and is raised again here, unchanged.
  std::optional<py::error_already_set> pending;
  auto cancelled = [&pending] {
    py::gil_scoped_acquire gil;
    if (PyErr_CheckSignals() == 0) return false;
    pending.emplace();
    return true;
  };
  train::EpochCallback on_epoch;
  if (!progress.is_none())
    on_epoch = [&](const infer::EpochRecord& e, int total) {
      py::gil_scoped_acquire gil;
      try {
        py::dict r;
        r["epoch"] = e.epoch;
        r["epochs"] = total;
        r["train_loss"] = e.train_loss;
        r["val_loss"] = e.val_loss;
        r["val_map"] = e.val_map;
        r["seconds"] = e.seconds;
        progress(r);
      } catch (py::error_already_set& err) {
        pending.emplace(std::move(err));
        throw train::Cancelled("train: stopped by the progress callback");
      }
    };

  std::optional<ScratchDir> scratch;
  if (out.empty()) scratch.emplace();
  const std::filesystem::path file =
      out.empty() ? scratch->path() / "model.tutti" : std::filesystem::path(out);
  try {
    py::gil_scoped_release nogil;
    train::train_model_file(ds, cfg, file, "data", on_epoch, cancelled);
  } catch (const train::Cancelled&) {
    if (!pending) throw;
    pending->restore();
    pending.reset();
    throw py::error_already_set();
  }
  Model m = Model::load(file);
  m.set_path(out);
  return m;
}

}  // namespace

void bind_train(py::module_& m) {
  m.def("train_options", &train_options);
  m.def("model_declarations", &model_declarations);
  m.def("train", &train_model, py::arg("bags"), py::arg("model"), py::arg("overrides"),
        py::arg("out"), py::arg("progress"));
}

}  // namespace tutti::python
