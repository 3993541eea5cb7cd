// numpy <-> tutti conversions shared by the binding files of the `tutti._tutti` extension.
//
// Outputs hand their std::vector to numpy without a copy (the array owns the vector through a
// capsule). Inputs are checked here so that a wrong dtype is a TypeError and a wrong shape a
// ValueError, each naming the argument and what was expected; a C-contiguous array of the
// expected dtype is read in place.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::python {

namespace py = pybind11;

// Moves `v` into a numpy array of `shape` (C order) without copying the values.
template <typename T>
py::array_t<T> to_numpy(std::vector<T>&& v, const std::vector<py::ssize_t>& shape) {
  auto owned = std::make_unique<std::vector<T>>(std::move(v));
  T* data = owned->data();
  py::capsule owner(owned.get(), [](void* p) { delete static_cast<std::vector<T>*>(p); });
  owned.release();  // the capsule deletes it
  return py::array_t<T>(shape, data, owner);
}

// A numpy array (or something np.asarray accepts) whose dtype kind is one of `kinds` ("u", "f",
// "iub", ...) converted to T, C-contiguous; a copy is made only for another dtype or layout.
// TypeError "<arg>: expected <what>, got ..." otherwise.
template <typename T>
py::array_t<T, py::array::c_style> take_array(py::handle obj, const std::string& arg,
                                              const std::string& kinds, const std::string& what) {
  if (obj.is_none()) throw py::type_error(arg + ": expected " + what + ", got None");
  py::array a = py::module_::import("numpy").attr("asarray")(obj);
  const char kind = a.dtype().kind();
  if (kinds.find(kind) == std::string::npos)
    throw py::type_error(arg + ": expected " + what + ", got dtype " +
                         py::str(a.dtype()).cast<std::string>());
  return py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
}

// ValueError "<arg>: expected shape <expected>, got (a, b)" unless a.ndim() == ndim.
void check_ndim(const py::array& a, const std::string& arg, int ndim, const std::string& expected);
// "(3, 10, 128)"
std::string shape_text(const py::array& a);

// A list of str, or a 1-d numpy str/object array; TypeError otherwise.
std::vector<std::string> take_strings(py::handle obj, const std::string& arg);

// Python object (dict, list, number, str, None) <-> tutti's JSON, through the json module.
py::object to_python(const core::Json& j);
core::Json to_json(py::handle obj);

// A dict {"X", "n_instances", "Y_true", "Y_mask", "sample_key", "classes", "Y_instance"
// (when present), "embedder"} of numpy arrays taking over the dataset's vectors.
py::dict bags_to_dict(data::BagDataset&& ds);
// The inverse, for a dict with those keys (Y_instance and embedder optional); `what` prefixes
// the argument names in errors. X is read in place (one copy into the dataset).
data::BagDataset dict_to_bags(const py::dict& d, const std::string& what);

// A dataset holding only features: X (N, K, D) uint8 or float32 and n_instances (N,) (None: every
// clip has K instances), with `classes` and no known labels (for prediction).
data::BagDataset features_to_bags(py::handle x, py::handle n_instances,
                                  const std::vector<std::string>& classes);

// tutti.Error (tutti::Error, same message as the CLI) and tutti.UsageError (tutti::UsageError; also
// a ValueError).
void register_exceptions(py::module_& m);

// A private folder under the system's temporary folder, removed with its content on destruction
// (a model trained without an output path, a waveform handed to the decoder as a WAV file).
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A mono (n,) or multichannel (n, channels) float waveform written as a 32-bit float WAV file at
// `sample_rate` into `dir` (the decoder resamples it like any file). TypeError/ValueError name
// the argument `waveform`/`sample_rate`. Returns the file.
std::filesystem::path write_waveform(py::handle waveform, py::handle sample_rate,
                                     const ScratchDir& dir);

// The file to decode for `audio`: a path (str or os.PathLike; sample_rate must be None) as given,
// or a waveform written by write_waveform into `scratch` (created here).
std::filesystem::path audio_file(py::handle audio, py::handle sample_rate,
                                 std::unique_ptr<ScratchDir>& scratch);

void bind_data(py::module_& m);
void bind_model(py::module_& m);
void bind_train(py::module_& m);
void bind_audio(py::module_& m);

}  // namespace tutti::python
