// Datasets and metrics: data/bag_io.h, audioset.h, openmic.h, split.h, filter.h, eval/evaluate.h.
#include <fmt/format.h>

#include "convert.h"
#include "tutti/data/audioset.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/filter.h"
#include "tutti/data/openmic.h"
#include "tutti/data/split.h"
#include "tutti/eval/evaluate.h"

namespace tutti::python {

namespace {

std::vector<py::ssize_t> rows_shape(const std::vector<std::int64_t>& v) {
  return {static_cast<py::ssize_t>(v.size())};
}

py::dict evaluate(py::handle y_true, py::handle y_mask, py::handle scores, py::handle thresholds,
                  py::handle classes) {
  auto y = take_array<float>(y_true, "Y_true", "fiub", "a float array");
  check_ndim(y, "Y_true", 2, "(N, C)");
  const py::ssize_t n = y.shape(0), c = y.shape(1);
  const std::string nc = fmt::format("(N, C) = ({}, {}) like Y_true", n, c);
  auto same_shape = [&](const py::array& a, const std::string& arg) {
    check_ndim(a, arg, 2, nc);
    if (a.shape(0) != n || a.shape(1) != c)
      throw py::value_error(arg + ": expected shape " + nc + ", got " + shape_text(a));
  };
  py::dict d;
  d["X"] = py::array_t<std::uint8_t>(std::vector<py::ssize_t>{n, 0, 0});
  d["n_instances"] = py::none();
  d["Y_true"] = y;
  same_shape(py::module_::import("numpy").attr("asarray")(y_mask), "Y_mask");
  d["Y_mask"] = y_mask;
  std::vector<std::string> names;
  if (classes.is_none()) {
    for (py::ssize_t i = 0; i < c; ++i) names.push_back(fmt::format("class_{}", i));
  } else {
    names = take_strings(classes, "classes");
    if (static_cast<py::ssize_t>(names.size()) != c)
      throw py::value_error(fmt::format(
          "classes: expected {} names (one per column of Y_true), got {}", c, names.size()));
  }
  d["classes"] = py::cast(names);
  d["sample_key"] = py::cast(std::vector<std::string>(static_cast<std::size_t>(n)));
  data::BagDataset truth = dict_to_bags(d, "truth");
  // The keys only name clips in error messages.
  for (py::ssize_t i = 0; i < n; ++i) truth.keys[static_cast<std::size_t>(i)] = std::to_string(i);
  auto s = take_array<float>(scores, "scores", "fiu", "a float array");
  same_shape(s, "scores");
  std::vector<float> thr;
  if (!thresholds.is_none()) {
    auto t = take_array<float>(thresholds, "thresholds", "fiu", "a float array");
    check_ndim(t, "thresholds", 1, fmt::format("(C,) = ({},)", c));
    if (t.shape(0) != c)
      throw py::value_error(
          fmt::format("thresholds: expected shape ({},), got {}", c, shape_text(t)));
    thr.assign(t.data(), t.data() + c);
  }
  core::Json j;
  {
    py::gil_scoped_release nogil;
    j = eval::evaluate(truth, std::span<const float>(s.data(), static_cast<std::size_t>(s.size())),
                       thr)
            .to_json();
  }
  return to_python(j);
}

}  // namespace

void bind_data(py::module_& m) {
  m.def(
      "load_bags",
      [](const std::string& path) {
        data::BagDataset ds;
        {
          py::gil_scoped_release nogil;
          ds = data::load_bags(path);
        }
        return bags_to_dict(std::move(ds));
      },
      py::arg("path"));
  m.def(
      "save_bags",
      [](const std::string& path, const py::dict& d) {
        const data::BagDataset ds = dict_to_bags(d, "bags");
        py::gil_scoped_release nogil;
        data::save_bags(path, ds);
      },
      py::arg("path"), py::arg("bags"));
  m.def(
      "read_audioset",
      [](const std::string& path, const std::string& metadata_dir, const py::dict& options) {
        const auto opt = data::AudioSetOptions::from_json(to_json(options));
        data::BagDataset ds;
        {
          py::gil_scoped_release nogil;
          ds = data::read_audioset(path, metadata_dir, opt);
        }
        return bags_to_dict(std::move(ds));
      },
      py::arg("path"), py::arg("metadata_dir"), py::arg("options"));
  m.def(
      "read_openmic",
      [](const std::string& root, const std::string& split, const std::string& partition,
         std::int64_t max_instances) {
        data::BagDataset ds;
        {
          py::gil_scoped_release nogil;
          ds = split == "clips" ? data::read_openmic_clips(root, max_instances)
                                : data::read_openmic_release(root, split, partition);
        }
        return bags_to_dict(std::move(ds));
      },
      py::arg("root"), py::arg("split"), py::arg("partition"), py::arg("max_instances"));
  m.def(
      "stratified_split",
      [](const py::dict& d, double test_fraction, std::uint64_t seed) {
        const data::BagDataset ds = dict_to_bags(d, "data");
        data::SplitIndices s;
        {
          py::gil_scoped_release nogil;
          s = data::stratified_split(ds, test_fraction, seed);
        }
        const auto train_shape = rows_shape(s.train), test_shape = rows_shape(s.test);
        return py::make_tuple(to_numpy(std::move(s.train), train_shape),
                              to_numpy(std::move(s.test), test_shape));
      },
      py::arg("data"), py::arg("test_fraction"), py::arg("seed"));
  m.def(
      "filter_bags",
      [](const py::dict& d, std::int64_t instances, std::int64_t min_instances,
         std::int64_t max_instances, const std::vector<std::string>& with_any,
         const std::vector<std::string>& without_any, const std::vector<std::string>& classes,
         bool trim_k) {
        const data::BagDataset ds = dict_to_bags(d, "data");
        data::FilterOptions o;
        o.instances = instances;
        o.min_instances = min_instances;
        o.max_instances = max_instances;
        o.with_any = with_any;
        o.without_any = without_any;
        o.classes = classes;
        o.trim_k = trim_k;
        o.validate();
        data::FilterResult r;
        {
          py::gil_scoped_release nogil;
          r = data::filter_bags(ds, o, "data");
        }
        const core::Json report = r.to_json();
        return py::make_tuple(bags_to_dict(std::move(r.data)), to_python(report));
      },
      py::arg("data"), py::arg("instances"), py::arg("min_instances"), py::arg("max_instances"),
      py::arg("with_any"), py::arg("without_any"), py::arg("classes"), py::arg("trim_k"));
  m.def("audioset_defaults", [] { return to_python(data::AudioSetOptions{}.to_json()); });
  m.def("evaluate", &evaluate, py::arg("Y_true"), py::arg("Y_mask"), py::arg("scores"),
        py::arg("thresholds") = py::none(), py::arg("classes") = py::none());
}

}  // namespace tutti::python
