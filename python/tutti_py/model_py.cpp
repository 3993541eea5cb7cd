// Trained models: infer/model_file.h, predictor.h and tag.h behind one Python class.
#include "model_py.h"

#include <fmt/format.h>

#include <mutex>
#include <string_view>

#include "convert.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/infer/tag.h"
#include "tutti/models/model_decl.h"

namespace tutti::python {

Model Model::load(const std::filesystem::path& path) {
  Model m;
  m.predictor_ = std::make_shared<infer::Predictor>(infer::Predictor::load(path));
  // The bytes just checked by the predictor are what save() writes.
  m.bytes_ = core::read_file_bytes(path);
  m.path_ = path;
  return m;
}

py::object Model::predict(py::handle x, py::handle n_instances, bool instances, int threads) const {
  const auto& info = predictor_->info();
  if (instances && !models::has_instance_outputs(info.spec.name)) {
    std::vector<std::string> with;
    for (const auto& name : models::model_names())
      if (models::has_instance_outputs(name)) with.push_back(name);
    throw py::value_error(fmt::format(
        "instances: model '{}' has no per-instance outputs (instances=True needs one of {})",
        info.spec.name, fmt::join(with, ", ")));
  }
  if (threads < 0) throw py::value_error(fmt::format("threads: {} is negative", threads));
  const data::BagDataset ds = features_to_bags(x, n_instances, info.classes);
  infer::Predictions p;
  {
    py::gil_scoped_release nogil;
    p = predictor_->predict(ds, instances, threads, "X");
  }
  const py::ssize_t n = p.n, k = p.k, c = p.c;
  py::dict out;
  out["scores"] = to_numpy(std::move(p.scores), {n, c});
  if (instances) {
    out["instance_prob"] = p.instance.empty()
                               ? py::object(py::none())
                               : py::object(to_numpy(std::move(p.instance), {n, k, c}));
    out["attention"] = p.attention.empty()
                           ? py::object(py::none())
                           : py::object(to_numpy(std::move(p.attention), {n, k, c}));
  }
  return out;
}

void Model::save(const std::filesystem::path& path) const {
  py::gil_scoped_release nogil;
  core::write_file_atomic(
      path, std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
}

py::dict Model::tag(py::handle audio, py::handle sample_rate, const std::string& vggish) const {
  std::unique_ptr<ScratchDir> scratch;
  const std::filesystem::path file = audio_file(audio, sample_rate, scratch);
  infer::FileTags t;
  {
    py::gil_scoped_release nogil;
    // The tagger reads the model from a file: this model's own bytes, not whatever is at path_
    // now.
    ScratchDir model_dir;
    const auto model_file = model_dir.path() / "model.tutti";
    core::write_file_atomic(
        model_file, std::string_view(reinterpret_cast<const char*>(bytes_.data()), bytes_.size()));
    infer::TagOptions opt;
    opt.embedder_options.vggish_file = vggish;
    const infer::Tagger tagger(model_file, opt);
    t = tagger.tag_file(file);
  }
  const core::Json json = t.to_json();
  const py::ssize_t n_t = t.n_instances, c = t.num_classes();
  std::vector<float> window_prob(static_cast<std::size_t>(n_t * c));
  std::vector<double> start(static_cast<std::size_t>(n_t)), end(static_cast<std::size_t>(n_t));
  for (py::ssize_t i = 0; i < n_t; ++i) {
    start[static_cast<std::size_t>(i)] = static_cast<double>(i) * t.hop_s;
    end[static_cast<std::size_t>(i)] = static_cast<double>(i + 1) * t.hop_s;
    for (py::ssize_t j = 0; j < c; ++j)
      window_prob[static_cast<std::size_t>(i * c + j)] = t.window_score_of(i, j);
  }
  py::dict out;
  out["classes"] = py::cast(t.classes);
  out["probability"] = to_numpy(std::move(t.probability), {c});
  out["thresholds"] = to_numpy(std::move(t.thresholds), {c});
  out["present"] = to_numpy(std::move(t.present), {c}).attr("view")("bool");
  out["start_s"] = to_numpy(std::move(start), {n_t});
  out["end_s"] = to_numpy(std::move(end), {n_t});
  out["window_prob"] = to_numpy(std::move(window_prob), {n_t, c});
  out["instance_prob"] = t.instance_prob.empty()
                             ? py::object(py::none())
                             : py::object(to_numpy(std::move(t.instance_prob), {n_t, c}));
  out["attention"] = t.attention.empty() ? py::object(py::none())
                                         : py::object(to_numpy(std::move(t.attention), {n_t, c}));
  out["duration_s"] = t.duration_s;
  out["hop_s"] = t.hop_s;
  out["note"] = t.note;
  out["json"] = to_python(json);
  return out;
}

void bind_model(py::module_& m) {
  py::class_<Model>(m, "Model")
      .def_static(
          "load",
          [](const std::string& path) {
            py::gil_scoped_release nogil;
            return Model::load(path);
          },
          py::arg("path"))
      .def("predict", &Model::predict, py::arg("X"), py::arg("n_instances") = py::none(),
           py::arg("instances") = false, py::arg("threads") = 0)
      .def(
          "save", [](const Model& self, const std::string& path) { self.save(path); },
          py::arg("path"))
      .def("tag", &Model::tag, py::arg("audio"), py::arg("sample_rate") = py::none(),
           py::arg("vggish") = "")
      .def_property_readonly("info",
                             [](const Model& self) { return to_python(self.info().to_json()); })
      .def_property_readonly("classes", [](const Model& self) { return self.info().classes; })
      .def_property_readonly("thresholds",
                             [](const Model& self) {
                               auto t = self.info().thresholds;
                               const py::ssize_t c = static_cast<py::ssize_t>(t.size());
                               return to_numpy(std::move(t), {c});
                             })
      .def_property_readonly("name", [](const Model& self) { return self.info().spec.name; })
      .def_property_readonly("path", [](const Model& self) { return self.path().string(); });
}

}  // namespace tutti::python
