#include "tutti/data/bag_io.h"

#include <fmt/format.h>

#include <map>

#include "tutti/core/error.h"
#include "tutti/data/npz.h"

namespace tutti::data {

namespace {

using Arrays = std::map<std::string, NpyArray>;

std::string shape_str(const std::vector<std::int64_t>& shape) {
  NpyArray tmp;
  tmp.shape = shape;
  return tmp.shape_str();
}

class BagReader {
 public:
  BagReader(Arrays arrays, std::string file) : arrays_(std::move(arrays)), file_(std::move(file)) {}

  NpyArray* find(const std::string& name) {
    auto it = arrays_.find(name);
    return it == arrays_.end() ? nullptr : &it->second;
  }
  NpyArray& get(const std::string& name) {
    NpyArray* a = find(name);
    check(a != nullptr, "{}: missing array '{}'", file_, name);
    return *a;
  }
  std::string what(const std::string& name) const {
    return fmt::format("{}: array '{}'", file_, name);
  }
  void expect_shape(const NpyArray& a, const std::string& name,
                    const std::vector<std::int64_t>& shape) const {
    check(a.shape == shape, "{}: array '{}' has shape {}, expected {}", file_, name, a.shape_str(),
          shape_str(shape));
  }
  void expect_rank(const NpyArray& a, const std::string& name, std::size_t rank,
                   const char* dims) const {
    check(a.shape.size() == rank, "{}: array '{}' has shape {}, expected {}", file_, name,
          a.shape_str(), dims);
  }
  // 0/1 flags from '|b1' or '|u1' (numpy bools are stored as one byte each).
  std::vector<std::uint8_t> flags(const std::string& name) {
    NpyArray& a = get(name);
    check(a.descr == "|b1" || a.descr == "|u1", "{}: array '{}' has dtype '{}', expected '|b1'",
          file_, name, a.descr);
    auto v = std::move(a).as_u8(what(name));
    for (std::size_t i = 0; i < v.size(); ++i)
      check(v[i] <= 1, "{}: array '{}' holds {} at flat index {}, expected 0 or 1", file_, name,
            v[i], i);
    return v;
  }

 private:
  Arrays arrays_;
  std::string file_;
};

}  // namespace

BagDataset load_bags(const std::filesystem::path& path,
                     const std::vector<std::string>& default_classes) {
  const std::string file = path.string();
  BagReader r(read_npz(path), file);

  // X (N, K, D): uint8 as released, or float32. The OpenMIC release scripts built X with numpy's
  // default int (int64) holding quantized bytes; such arrays are accepted when every value fits.
  NpyArray& x = r.get("X");
  r.expect_rank(x, "X", 3, "(N, K, D)");
  const std::int64_t n = x.shape[0], k = x.shape[1], d = x.shape[2];
  BagDataset ds;
  ds.max_instances = k;
  ds.dim = d;
  if (x.descr == "|u1") {
    ds.feature_type = FeatureType::kUint8;
    ds.x_u8 = std::move(x).as_u8(r.what("X"));
  } else if (x.descr == "<f4" || x.descr == "<f8") {
    ds.feature_type = FeatureType::kFloat32;
    ds.x_f32 = x.as_f32(r.what("X"));
  } else if (x.descr == "<i8" || x.descr == "<i4") {
    ds.feature_type = FeatureType::kUint8;
    const auto wide = x.as_i64(r.what("X"));
    ds.x_u8.resize(wide.size());
    for (std::size_t i = 0; i < wide.size(); ++i) {
      check(wide[i] >= 0 && wide[i] <= 255,
            "{}: array 'X' has integer dtype '{}' but holds {} at flat index {}, outside the "
            "uint8 range [0, 255]",
            file, x.descr, wide[i], i);
      ds.x_u8[i] = static_cast<std::uint8_t>(wide[i]);
    }
  } else {
    fail("{}: array 'X' has dtype '{}', expected '|u1' or '<f4'", file, x.descr);
  }
  x.data = {};

  // Labels.
  NpyArray& yt = r.get("Y_true");
  r.expect_rank(yt, "Y_true", 2, fmt::format("({}, C)", n).c_str());
  check(yt.shape[0] == n, "{}: array 'Y_true' has shape {}, expected ({}, C)", file, yt.shape_str(),
        n);
  const std::int64_t c = yt.shape[1];
  ds.y_true = yt.as_f32(r.what("Y_true"));
  r.expect_shape(r.get("Y_mask"), "Y_mask", {n, c});
  ds.y_mask = r.flags("Y_mask");

  NpyArray& keys = r.get("sample_key");
  r.expect_shape(keys, "sample_key", {n});
  ds.keys = keys.as_strings(r.what("sample_key"));

  if (NpyArray* ni = r.find("n_instances")) {
    r.expect_shape(*ni, "n_instances", {n});
    const auto v = ni->as_i64(r.what("n_instances"));
    ds.n_instances.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      check(v[i] >= 0 && v[i] <= k, "{}: array 'n_instances' holds {} for clip {}, outside [0, {}]",
            file, v[i], i, k);
      ds.n_instances[i] = static_cast<std::int32_t>(v[i]);
    }
  } else {
    ds.n_instances.assign(static_cast<std::size_t>(n), static_cast<std::int32_t>(k));
  }

  if (NpyArray* cl = r.find("classes")) {
    r.expect_shape(*cl, "classes", {c});
    ds.classes = cl->as_strings(r.what("classes"));
  } else if (!default_classes.empty()) {
    check(static_cast<std::int64_t>(default_classes.size()) == c,
          "{}: has no 'classes' array and the default class list has {} names, but Y_true has "
          "{} columns",
          file, default_classes.size(), c);
    ds.classes = default_classes;
  } else {
    for (std::int64_t j = 0; j < c; ++j) ds.classes.push_back(fmt::format("class_{}", j));
  }

  if (r.find("Y_instance")) {
    r.expect_shape(r.get("Y_instance"), "Y_instance", {n, k, c});
    ds.y_instance = r.flags("Y_instance");
  }

  // Optional 0-d unicode string: the embedder that made X ("" when absent).
  if (NpyArray* e = r.find("embedder")) {
    check(e->shape.empty() || e->shape == std::vector<std::int64_t>{1},
          "{}: array 'embedder' has shape {}, expected ()", file, e->shape_str());
    const auto v = e->as_strings(r.what("embedder"));
    ds.embedder = v.empty() ? "" : v.front();
  }

  ds.validate(file);
  return ds;
}

void save_bags(const std::filesystem::path& path, const BagDataset& ds) {
  ds.validate(path.string());
  const std::int64_t n = ds.size(), k = ds.max_instances, d = ds.dim, c = ds.num_classes();
  std::map<std::string, NpyArray> arrays;
  if (ds.feature_type == FeatureType::kUint8)
    arrays["X"] = NpyArray::from_u8({n, k, d}, ds.x_u8);
  else
    arrays["X"] = NpyArray::from_f32({n, k, d}, ds.x_f32);
  arrays["n_instances"] = NpyArray::from_i32({n}, ds.n_instances);
  arrays["Y_true"] = NpyArray::from_f32({n, c}, ds.y_true);
  arrays["Y_mask"] = NpyArray::from_u8({n, c}, ds.y_mask, /*as_bool=*/true);
  arrays["sample_key"] = NpyArray::from_strings(ds.keys);
  arrays["classes"] = NpyArray::from_strings(ds.classes);
  if (ds.has_instance_labels()) arrays["Y_instance"] = NpyArray::from_u8({n, k, c}, ds.y_instance);
  if (!ds.embedder.empty()) {
    arrays["embedder"] = NpyArray::from_strings({ds.embedder});
    arrays["embedder"].shape = {};  // a 0-d string: np.load(f)["embedder"].item()
  }
  write_npz(path, arrays);
}

}  // namespace tutti::data
