#include "convert.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <cstring>
#include <system_error>

#include "tutti/core/error.h"
#include "tutti/synth/dataset.h"

namespace tutti::python {

std::string shape_text(const py::array& a) {
  std::string s = "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s += (i ? ", " : "") + std::to_string(a.shape(i));
  return s + (a.ndim() == 1 ? ",)" : ")");
}

void check_ndim(const py::array& a, const std::string& arg, int ndim, const std::string& expected) {
  if (a.ndim() != ndim)
    throw py::value_error(arg + ": expected shape " + expected + ", got " + shape_text(a));
}

std::vector<std::string> take_strings(py::handle obj, const std::string& arg) {
  if (py::isinstance<py::str>(obj) || obj.is_none())
    throw py::type_error(arg + ": expected a list of str, got " +
                         py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
  std::vector<std::string> out;
  for (py::handle item : py::iter(obj)) {
    if (!py::isinstance<py::str>(item))
      throw py::type_error(arg + ": expected a list of str, got an item of type " +
                           py::str(py::type::of(item).attr("__name__")).cast<std::string>());
    out.push_back(item.cast<std::string>());
  }
  return out;
}

py::object to_python(const core::Json& j) {
  return py::module_::import("json").attr("loads")(j.dump());
}

core::Json to_json(py::handle obj) {
  const std::string text = py::module_::import("json").attr("dumps")(obj).cast<std::string>();
  return core::Json::parse(text);
}

py::dict bags_to_dict(data::BagDataset&& ds) {
  const py::ssize_t n = ds.size(), k = ds.max_instances, d = ds.dim, c = ds.num_classes();
  py::dict out;
  if (ds.feature_type == data::FeatureType::kUint8)
    out["X"] = to_numpy(std::move(ds.x_u8), {n, k, d});
  else
    out["X"] = to_numpy(std::move(ds.x_f32), {n, k, d});
  out["n_instances"] = to_numpy(std::move(ds.n_instances), {n});
  out["Y_true"] = to_numpy(std::move(ds.y_true), {n, c});
  // Y_mask is bool in the .npz (numpy's view of the 0/1 bytes, no copy).
  out["Y_mask"] = to_numpy(std::move(ds.y_mask), {n, c}).attr("view")("bool");
  if (ds.has_instance_labels()) out["Y_instance"] = to_numpy(std::move(ds.y_instance), {n, k, c});
  out["sample_key"] = py::cast(ds.keys);
  out["classes"] = py::cast(ds.classes);
  out["embedder"] = ds.embedder;
  return out;
}

namespace {

// One pass over the values (resize + memcpy would write the buffer twice).
template <typename T>
void copy_into(std::vector<T>& dst, const py::array_t<T, py::array::c_style>& src) {
  dst.assign(src.data(), src.data() + src.size());
}

// X into ds (shape checked), as uint8 or float32. Returns N.
py::ssize_t take_features(data::BagDataset& ds, py::handle x, const std::string& arg) {
  if (x.is_none()) throw py::type_error(arg + ": expected a uint8 or float32 array, got None");
  py::array a = py::module_::import("numpy").attr("asarray")(x);
  check_ndim(a, arg, 3, "(N, K, D)");
  ds.max_instances = a.shape(1);
  ds.dim = a.shape(2);
  if (a.dtype().is(py::dtype::of<std::uint8_t>())) {
    ds.feature_type = data::FeatureType::kUint8;
    copy_into(ds.x_u8, py::array_t<std::uint8_t, py::array::c_style>::ensure(a));
  } else if (a.dtype().is(py::dtype::of<float>())) {
    ds.feature_type = data::FeatureType::kFloat32;
    copy_into(ds.x_f32, py::array_t<float, py::array::c_style>::ensure(a));
  } else {
    throw py::type_error(arg + ": expected dtype uint8 (as released) or float32, got dtype " +
                         py::str(a.dtype()).cast<std::string>());
  }
  return a.shape(0);
}

void take_n_instances(data::BagDataset& ds, py::ssize_t n, py::handle obj, const std::string& arg) {
  if (obj.is_none()) {
    ds.n_instances.assign(static_cast<std::size_t>(n), static_cast<std::int32_t>(ds.max_instances));
    return;
  }
  auto a = take_array<std::int64_t>(obj, arg, "iu", "an integer array");
  check_ndim(a, arg, 1, fmt::format("({},)", n));
  if (a.shape(0) != n)
    throw py::value_error(fmt::format("{}: expected shape ({},), got {}", arg, n, shape_text(a)));
  ds.n_instances.resize(static_cast<std::size_t>(n));
  for (py::ssize_t i = 0; i < n; ++i) {
    const std::int64_t v = a.data()[i];
    if (v < 0 || v > ds.max_instances)
      throw py::value_error(
          fmt::format("{}[{}] = {} is outside [0, K = {}]", arg, i, v, ds.max_instances));
    ds.n_instances[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(v);
  }
}

}  // namespace

data::BagDataset features_to_bags(py::handle x, py::handle n_instances,
                                  const std::vector<std::string>& classes) {
  data::BagDataset ds;
  const py::ssize_t n_clips = take_features(ds, x, "X");
  take_n_instances(ds, n_clips, n_instances, "n_instances");
  ds.keys.assign(static_cast<std::size_t>(n_clips), std::string());
  ds.classes = classes;
  ds.y_true.assign(static_cast<std::size_t>(n_clips) * classes.size(), 0.0f);
  ds.y_mask.assign(ds.y_true.size(), 0);
  return ds;
}

data::BagDataset dict_to_bags(const py::dict& d, const std::string& what) {
  auto get = [&](const char* key) -> py::object {
    if (!d.contains(key)) throw py::value_error(what + ": missing '" + key + "'");
    return d[key];
  };
  data::BagDataset ds;
  const py::ssize_t n = take_features(ds, get("X"), what + ".X");
  take_n_instances(ds, n, get("n_instances"), what + ".n_instances");
  ds.classes = take_strings(get("classes"), what + ".classes");
  const py::ssize_t c = static_cast<py::ssize_t>(ds.classes.size());
  const std::string nc = fmt::format("(N, C) = ({}, {})", n, c);
  auto matrix_shape = [&](const py::array& a, const std::string& arg) {
    check_ndim(a, arg, 2, nc);
    if (a.shape(0) != n || a.shape(1) != c)
      throw py::value_error(arg + ": expected shape " + nc + ", got " + shape_text(a));
  };
  auto y = take_array<float>(get("Y_true"), what + ".Y_true", "fiub", "a float array");
  matrix_shape(y, what + ".Y_true");
  copy_into(ds.y_true, y);
  // Any nonzero value marks a known label (bool as written, 0/1 numbers as some scripts write).
  auto mask_any = take_array<float>(get("Y_mask"), what + ".Y_mask", "biuf", "a bool array");
  auto m = take_array<std::uint8_t>(py::module_::import("numpy").attr("not_equal")(mask_any, 0),
                                    what + ".Y_mask", "b", "a bool array");
  matrix_shape(m, what + ".Y_mask");
  copy_into(ds.y_mask, m);
  ds.keys = take_strings(get("sample_key"), what + ".sample_key");
  if (static_cast<py::ssize_t>(ds.keys.size()) != n)
    throw py::value_error(fmt::format("{}.sample_key: expected {} keys (one per clip), got {}",
                                      what, n, ds.keys.size()));
  if (d.contains("Y_instance") && !d["Y_instance"].is_none()) {
    auto yi = take_array<std::uint8_t>(d["Y_instance"], what + ".Y_instance", "iub",
                                       "an integer or bool array");
    const std::string nkc = fmt::format("(N, K, C) = ({}, {}, {})", n, ds.max_instances, c);
    check_ndim(yi, what + ".Y_instance", 3, nkc);
    if (yi.shape(0) != n || yi.shape(1) != ds.max_instances || yi.shape(2) != c)
      throw py::value_error(what + ".Y_instance: expected shape " + nkc + ", got " +
                            shape_text(yi));
    copy_into(ds.y_instance, yi);
  }
  if (d.contains("embedder") && !d["embedder"].is_none())
    ds.embedder = d["embedder"].cast<std::string>();
  return ds;
}

ScratchDir::ScratchDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tutti-py-XXXXXX").string();
  check(::mkdtemp(tmpl.data()) != nullptr, "python: cannot create a folder in {}: {}",
        std::filesystem::temp_directory_path().string(), std::strerror(errno));
  path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::filesystem::path write_waveform(py::handle waveform, py::handle sample_rate,
                                     const ScratchDir& dir) {
  if (sample_rate.is_none())
    throw py::type_error("sample_rate: a waveform needs its sample rate in Hz, got None");
  if (!py::isinstance<py::int_>(sample_rate))
    throw py::type_error("sample_rate: expected an int (Hz), got " +
                         py::str(py::type::of(sample_rate).attr("__name__")).cast<std::string>());
  const long rate = sample_rate.cast<long>();
  if (rate < 1000 || rate > 384000)
    throw py::value_error(fmt::format("sample_rate: {} Hz is outside [1000, 384000]", rate));
  auto a = take_array<float>(waveform, "waveform", "fiu", "a float array of samples");
  if (a.ndim() != 1 && a.ndim() != 2)
    throw py::value_error("waveform: expected shape (samples,) or (samples, channels), got " +
                          shape_text(a));
  const int channels = a.ndim() == 2 ? static_cast<int>(a.shape(1)) : 1;
  if (a.shape(0) == 0 || channels < 1 || channels > 64)
    throw py::value_error("waveform: expected at least one sample and 1..64 channels, got " +
                          shape_text(a));
  const auto path = dir.path() / "waveform.wav";
  synth::write_wav(path, std::span<const float>(a.data(), static_cast<std::size_t>(a.size())),
                   channels, static_cast<int>(rate), synth::SampleFormat::kFloat);
  return path;
}

std::filesystem::path audio_file(py::handle audio, py::handle sample_rate,
                                 std::unique_ptr<ScratchDir>& scratch) {
  const py::module_ os = py::module_::import("os");
  if (py::isinstance<py::str>(audio) || py::isinstance(audio, os.attr("PathLike"))) {
    if (!sample_rate.is_none())
      throw py::value_error("sample_rate: only for a waveform; a file has its own");
    return py::str(os.attr("fspath")(audio)).cast<std::string>();
  }
  scratch = std::make_unique<ScratchDir>();
  return write_waveform(audio, sample_rate, *scratch);
}

void register_exceptions(py::module_& m) {
  static py::exception<Error> error(m, "Error");
  // UsageError is also a ValueError: callers that catch ValueError for bad arguments catch it.
  static py::exception<UsageError> usage(m, "UsageError",
                                         py::make_tuple(error, py::handle(PyExc_ValueError)));
  // Translators run newest first: the subtype before the base.
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const UsageError& e) {
      PyErr_SetString(usage.ptr(), e.what());
    } catch (const Error& e) {
      PyErr_SetString(error.ptr(), e.what());
    }
  });
}

}  // namespace tutti::python
