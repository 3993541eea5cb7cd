// tutti._tutti: the compiled half of the `tutti` Python package (python/tutti/ is the other half:
// signatures, docstrings and result classes). Each long call releases the GIL.
#include "convert.h"
#include "tutti/embed/embed_files.h"
#include "tutti/embed/embedder.h"

namespace tutti::python {

void bind_audio(py::module_& m) {
  m.def(
      "embed",
      [](py::handle audio, py::handle sample_rate, const std::string& embedder,
         const std::string& vggish, std::int64_t max_instances) {
        if (max_instances < 0)
          throw py::value_error("max_instances: " + std::to_string(max_instances) +
                                " is negative (0 = every instance)");
        std::unique_ptr<ScratchDir> scratch;
        const std::filesystem::path file = audio_file(audio, sample_rate, scratch);
        embed::FileEmbedding e;
        {
          py::gil_scoped_release nogil;
          embed::EmbedderOptions opt;
          opt.vggish_file = vggish;
          const auto emb = embed::make_embedder(embedder, opt);
          e = embed::embed_file(*emb, file, max_instances);
        }
        const auto count = static_cast<py::ssize_t>(e.count);
        return to_numpy(std::move(e.features), {count, static_cast<py::ssize_t>(e.dim)});
      },
      py::arg("audio"), py::arg("sample_rate") = py::none(), py::arg("embedder") = "logmel-stats",
      py::arg("vggish") = "", py::arg("max_instances") = 0);
  m.def("embedder_names", &embed::embedder_names);
}

}  // namespace tutti::python

PYBIND11_MODULE(_tutti, m) {
  m.doc() = "tutti's C++ library (use the `tutti` package, not this module)";
  m.attr("__version__") = TUTTI_VERSION;
  tutti::python::register_exceptions(m);
  tutti::python::bind_data(m);
  tutti::python::bind_model(m);
  tutti::python::bind_train(m);
  tutti::python::bind_audio(m);
}
