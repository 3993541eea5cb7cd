// torch.save state-dict reader (the pickle itself is read by core/pickle.h). References:
// torch/serialization.py (_save / _legacy_save: the two container formats), torch/_utils.py
// (_rebuild_tensor_v2's arguments).
#include "tutti/embed/pth_reader.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/pickle.h"
#include "tutti/core/zip.h"

namespace tutti::embed {
namespace {

constexpr std::int64_t kMaxDims = 16;
constexpr std::uint64_t kPickleRatioFreeBytes = std::uint64_t{1} << 20;

struct DtypeInfo {
  const char* storage;  // torch.<storage> global
  const char* name;
  std::size_t itemsize;
};
constexpr DtypeInfo kDtypes[] = {
    {"FloatStorage", "float32", 4}, {"DoubleStorage", "float64", 8},
    {"HalfStorage", "float16", 2},  {"BFloat16Storage", "bfloat16", 2},
    {"LongStorage", "int64", 8},    {"IntStorage", "int32", 4},
    {"ShortStorage", "int16", 2},   {"CharStorage", "int8", 1},
    {"ByteStorage", "uint8", 1},    {"BoolStorage", "bool", 1},
};

const DtypeInfo* dtype_of_storage(const std::string& global) {
  for (const auto& d : kDtypes)
    if (global == std::string("torch.") + d.storage) return &d;
  return nullptr;
}

using V = core::PickleValue;

// What the hooks build: storages and tensors, kept beside the pickle's values (a kCustom value's
// `i` indexes these).
enum CustomTag { kStorageTag = 1, kTensorTag = 2 };
struct Storage {
  std::string key;
  const DtypeInfo* dtype = nullptr;
  std::int64_t numel = 0;
};
struct Tensor {
  int storage = -1;  // index into storages
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape, stride;
};

// A state-dict pickle: core's reader with the two hooks torch.save needs. It knows exactly the
// globals a state dict uses (collections.OrderedDict, torch._utils._rebuild_tensor[_v2],
// _rebuild_parameter, torch.<Type>Storage as persistent ids) and refuses any other.
class StateDictPickle {
 public:
  StateDictPickle(const std::uint8_t* data, std::size_t size, const std::string& what)
      : what_(what), u_(data, size, options()) {}

  int run() { return u_.run(); }
  std::size_t pos() const { return u_.pos(); }
  const V& value(int k) const { return u_.value(k); }
  const Storage* storage_of(const V& v) const {
    return v.kind == V::kCustom && v.tag == kStorageTag ? &storages_[static_cast<std::size_t>(v.i)]
                                                        : nullptr;
  }
  const Tensor* tensor_of(const V& v) const {
    return v.kind == V::kCustom && v.tag == kTensorTag ? &tensors_[static_cast<std::size_t>(v.i)]
                                                       : nullptr;
  }
  const std::vector<Storage>& storages() const { return storages_; }

 private:
  core::PickleOptions options() {
    core::PickleOptions o;
    o.what = what_;
    o.reads = "tutti reads dicts of tensors only";
    o.reduce = [this](core::Unpickler& u, int fn, int args) { return reduce(u, fn, args); };
    o.persistent_load = [this](core::Unpickler& u, int pid) { return persistent(u, pid); };
    return o;
  }

  int make_custom(core::Unpickler& u, CustomTag tag, std::size_t index) {
    const int k = u.make(V::kCustom);
    u.mutable_value(k).tag = tag;
    u.mutable_value(k).i = static_cast<std::int64_t>(index);
    return k;
  }

  // The element-count tuples of _rebuild_tensor: (d0, d1, ...) of ints.
  std::vector<std::int64_t> int_tuple(const core::Unpickler& u, int k, const char* field) const {
    const V& t = u.value(k);
    check(t.kind == V::kTuple && t.items.size() <= kMaxDims,
          "{}: tensor {} is not a tuple of at most {} ints", what_, field, kMaxDims);
    std::vector<std::int64_t> out;
    for (int e : t.items) {
      check(u.value(e).kind == V::kInt && u.value(e).i >= 0, "{}: tensor {} holds a bad value",
            what_, field);
      out.push_back(u.value(e).i);
    }
    return out;
  }

  int reduce(core::Unpickler& u, int fn, int args) {
    check(u.value(fn).kind == V::kGlobal, "{}: malformed pickle (REDUCE)", what_);
    const std::string name = u.value(fn).s + "." + u.value(fn).s2;
    const std::vector<int> a = u.value(args).items;  // a copy: make() may reallocate the values
    if (name == "collections.OrderedDict") {
      check(a.empty(), "{}: OrderedDict built from arguments is not supported", what_);
      return u.make(V::kDict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      check(a.size() >= 4, "{}: {} with {} arguments", what_, name, a.size());
      const Storage* st = storage_of(u.value(a[0]));
      check(st != nullptr, "{}: {}: the first argument is a {}, not a storage", what_, name,
            core::pickle_kind_name(u.value(a[0]).kind));
      check(u.value(a[1]).kind == V::kInt && u.value(a[1]).i >= 0, "{}: bad storage offset", what_);
      Tensor t;
      t.storage = static_cast<int>(u.value(a[0]).i);
      t.offset = u.value(a[1]).i;
      t.shape = int_tuple(u, a[2], "size");
      t.stride = int_tuple(u, a[3], "stride");
      check(t.shape.size() == t.stride.size(), "{}: tensor size and stride differ in length",
            what_);
      tensors_.push_back(std::move(t));
      return make_custom(u, kTensorTag, tensors_.size() - 1);
    }
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state") {
      check(!a.empty() && tensor_of(u.value(a[0])) != nullptr, "{}: {} without a tensor", what_,
            name);
      return a[0];
    }
    u.unsupported(fmt::format("the pickle calls {}, which tutti does not run", name));
  }

  // ('storage', torch.FloatStorage, key, location, numel[, view_metadata])
  int persistent(core::Unpickler& u, int pid) {
    const V& t = u.value(pid);
    check(t.kind == V::kTuple && t.items.size() >= 5 && u.value(t.items[0]).kind == V::kStr &&
              u.value(t.items[0]).s == "storage",
          "{}: unsupported persistent id (not a tensor storage)", what_);
    const V& type = u.value(t.items[1]);
    check(type.kind == V::kGlobal, "{}: malformed storage reference", what_);
    const std::string type_name = type.s + "." + type.s2;
    const DtypeInfo* dtype = dtype_of_storage(type_name);
    check(dtype != nullptr, "{}: storage type {} is not supported", what_, type_name);
    const V& key = u.value(t.items[2]);
    const V& numel = u.value(t.items[4]);
    check(key.kind == V::kStr && numel.kind == V::kInt && numel.i >= 0,
          "{}: malformed storage reference", what_);
    storages_.push_back({key.s, dtype, numel.i});
    return make_custom(u, kStorageTag, storages_.size() - 1);
  }

  std::string what_;
  std::vector<Storage> storages_;
  std::vector<Tensor> tensors_;
  core::Unpickler u_;
};

// A storage's bytes: the zip entry or the slice of a legacy file.
struct StorageBytes {
  const std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
};

// Resolves the dict's tensor entries into contiguous copies.
std::map<std::string, PthTensor> collect(
    const StateDictPickle& u, int root, const std::string& what,
    const std::function<StorageBytes(const Storage& storage)>& storage_bytes) {
  const V& dict = u.value(root);
  check(dict.kind == V::kDict, "{}: holds a {}, not a dict of tensors (a state_dict)", what,
        core::pickle_kind_name(dict.kind));
  std::map<std::string, PthTensor> out;
  for (std::size_t j = 0; j + 1 < dict.items.size(); j += 2) {
    const V& key = u.value(dict.items[j]);
    const Tensor* tensor = u.tensor_of(u.value(dict.items[j + 1]));
    if (key.kind != V::kStr || tensor == nullptr) continue;
    const Tensor& t = *tensor;
    const Storage& st = u.storages()[static_cast<std::size_t>(t.storage)];
    const std::size_t itemsize = st.dtype->itemsize;
    const auto bytes = storage_bytes(st);
    check(static_cast<std::uint64_t>(st.numel) <= bytes.size / itemsize,
          "{}: tensor '{}': its storage holds {} bytes, fewer than the {} elements it declares",
          what, key.s, bytes.size, st.numel);
    // numel and the furthest element, with overflow checks.
    std::uint64_t numel = 1, last = static_cast<std::uint64_t>(t.offset);
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      const auto size = static_cast<std::uint64_t>(t.shape[d]);
      check(size == 0 || numel <= (std::uint64_t{1} << 40) / size, "{}: tensor '{}' is too large",
            what, key.s);
      numel *= size;
      if (size > 0) {
        const auto stride = static_cast<std::uint64_t>(t.stride[d]);
        check(stride <= (std::uint64_t{1} << 40), "{}: tensor '{}': bad stride", what, key.s);
        last += (size - 1) * stride;
      }
    }
    check(numel == 0 || last < static_cast<std::uint64_t>(st.numel),
          "{}: tensor '{}' of shape {} reaches element {} of a storage of {}", what, key.s, numel,
          last, st.numel);
    PthTensor pt;
    pt.dtype = st.dtype->name;
    pt.shape = t.shape;
    pt.data.resize(numel * itemsize);
    // C-contiguous views are one copy; anything else is copied element by element.
    bool contiguous = true;
    std::int64_t expect = 1;
    for (std::size_t d = t.shape.size(); d-- > 0;) {
      if (t.shape[d] != 1 && t.stride[d] != expect) contiguous = false;
      expect *= t.shape[d];
    }
    if (numel > 0 && contiguous) {
      std::memcpy(pt.data.data(), bytes.data + t.offset * itemsize, numel * itemsize);
    } else if (numel > 0) {
      std::vector<std::int64_t> idx(t.shape.size(), 0);
      for (std::uint64_t e = 0; e < numel; ++e) {
        std::int64_t src = t.offset;
        for (std::size_t d = 0; d < idx.size(); ++d) src += idx[d] * t.stride[d];
        std::memcpy(pt.data.data() + e * itemsize, bytes.data + src * itemsize, itemsize);
        for (std::size_t d = idx.size(); d-- > 0;) {
          if (++idx[d] < t.shape[d]) break;
          idx[d] = 0;
        }
      }
    }
    out.emplace(key.s, std::move(pt));
  }
  return out;
}

std::map<std::string, PthTensor> read_zip_format(const std::filesystem::path& file) {
  const std::string what = file.string();
  core::ZipReader zip(file);
  std::string prefix;
  bool found = false;
  for (const auto& name : zip.names()) {
    const auto slash = name.find('/');
    if (slash != std::string::npos && name.substr(slash + 1) == "data.pkl") {
      prefix = name.substr(0, slash + 1);
      found = true;
      break;
    }
  }
  check(found, "{}: a zip archive without <name>/data.pkl: not a torch.save file", what);
  if (zip.contains(prefix + "byteorder")) {
    const auto order = zip.read(prefix + "byteorder");
    check(std::string(order.begin(), order.end()) == "little",
          "{}: big-endian tensors are not supported", what);
  }
  // torch.save stores data.pkl uncompressed and keeps it small (~100 bytes per tensor): a large,
  // highly compressed one is a bomb aimed at the pickle reader, refused before it is inflated.
  core::ZipLimits pickle_limits;
  pickle_limits.ratio_free_bytes = kPickleRatioFreeBytes;
  const auto pkl = zip.read(prefix + "data.pkl", pickle_limits);
  StateDictPickle u(pkl.data(), pkl.size(), what);
  const int root = u.run();
  std::map<std::string, std::vector<std::uint8_t>> cache;
  return collect(u, root, what, [&](const Storage& st) {
    auto it = cache.find(st.key);
    if (it == cache.end()) {
      const std::string entry = prefix + "data/" + st.key;
      check(zip.contains(entry), "{}: storage '{}' is missing (no entry {})", what, st.key, entry);
      it = cache.emplace(st.key, zip.read(entry)).first;
    }
    return StorageBytes{it->second.data(), it->second.size()};
  });
}

// torch/serialization.py _legacy_save.
std::map<std::string, PthTensor> read_legacy_format(const std::filesystem::path& file,
                                                    const std::vector<std::uint8_t>& bytes) {
  const std::string what = file.string();
  // Magic number 0x1950a86a20f9469cfc6c as pickled by protocol 2: PROTO 2, LONG1 10 bytes.
  static const std::uint8_t kMagic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                        0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.'};
  check(bytes.size() >= sizeof(kMagic) &&
            std::equal(std::begin(kMagic), std::end(kMagic), bytes.begin()),
        "{}: not a PyTorch file (neither a torch.save zip archive nor the legacy format)", what);
  std::size_t pos = sizeof(kMagic);
  auto next = [&](StateDictPickle& u) {
    const int root = u.run();
    pos += u.pos();
    return root;
  };
  {
    StateDictPickle version(bytes.data() + pos, bytes.size() - pos, what);
    const int v = next(version);
    check(version.value(v).kind == V::kInt && version.value(v).i == 1001,
          "{}: legacy torch.save protocol version is not 1001", what);
  }
  {
    StateDictPickle sys_info(bytes.data() + pos, bytes.size() - pos, what);
    const int info = next(sys_info);
    const V& d = sys_info.value(info);
    for (std::size_t j = 0; j + 1 < d.items.size(); j += 2) {
      const V& k = sys_info.value(d.items[j]);
      const V& v = sys_info.value(d.items[j + 1]);
      if (k.kind == V::kStr && k.s == "little_endian")
        check(v.kind == V::kBool && v.i == 1, "{}: big-endian tensors are not supported", what);
    }
  }
  StateDictPickle main(bytes.data() + pos, bytes.size() - pos, what);
  const int root = next(main);
  StateDictPickle keys_pickle(bytes.data() + pos, bytes.size() - pos, what);
  const int keys_node = next(keys_pickle);
  const V& keys = keys_pickle.value(keys_node);
  check(keys.kind == V::kList, "{}: malformed legacy file (no storage key list)", what);
  // Item sizes of the storages, from the object pickle.
  std::map<std::string, std::size_t> itemsize;
  for (const auto& st : main.storages()) itemsize[st.key] = st.dtype->itemsize;
  std::map<std::string, StorageBytes> storages;
  for (int k : keys.items) {
    const V& key = keys_pickle.value(k);
    check(key.kind == V::kStr, "{}: malformed legacy file (storage key)", what);
    auto it = itemsize.find(key.s);
    check(it != itemsize.end(), "{}: storage '{}' is not used by any tensor", what, key.s);
    check(bytes.size() - pos >= 8, "{}: truncated: storage '{}' is missing", what, key.s);
    std::uint64_t count;
    std::memcpy(&count, bytes.data() + pos, 8);
    pos += 8;
    check(count <= (bytes.size() - pos) / it->second,
          "{}: truncated: storage '{}' declares {} elements, the file has {} bytes left", what,
          key.s, count, bytes.size() - pos);
    storages[key.s] = StorageBytes{bytes.data() + pos, count * it->second};
    pos += count * it->second;
  }
  return collect(main, root, what, [&](const Storage& st) {
    auto it = storages.find(st.key);
    check(it != storages.end(), "{}: storage '{}' is missing", what, st.key);
    return it->second;
  });
}

}  // namespace

std::int64_t PthTensor::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string PthTensor::shape_str() const {
  std::string s = "(";
  for (std::size_t j = 0; j < shape.size(); ++j) {
    if (j > 0) s += ", ";
    s += std::to_string(shape[j]);
  }
  if (shape.size() == 1) s += ",";
  return s + ")";
}

std::vector<float> PthTensor::to_f32(const std::string& what) const {
  if (dtype == "float32") {
    std::vector<float> v(data.size() / 4);
    std::memcpy(v.data(), data.data(), v.size() * 4);
    return v;
  }
  const auto d = to_f64(what);
  return {d.begin(), d.end()};
}

std::vector<double> PthTensor::to_f64(const std::string& what) const {
  if (dtype == "float64") {
    std::vector<double> v(data.size() / 8);
    std::memcpy(v.data(), data.data(), v.size() * 8);
    return v;
  }
  check(dtype == "float32", "{}: dtype {}, expected float32 or float64", what, dtype);
  std::vector<double> v(data.size() / 4);
  for (std::size_t j = 0; j < v.size(); ++j) {
    float f;
    std::memcpy(&f, data.data() + 4 * j, 4);
    v[j] = f;
  }
  return v;
}

std::map<std::string, PthTensor> read_pth_tensors(const std::filesystem::path& file) {
  check(std::filesystem::exists(file), "{}: no such file", file.string());
  check(std::filesystem::is_regular_file(file), "{}: not a regular file", file.string());
  check(std::filesystem::file_size(file) > 0, "{}: the file is empty", file.string());
  char head[4] = {};
  {
    std::ifstream in(file, std::ios::binary);
    check(static_cast<bool>(in), "{}: cannot open", file.string());
    in.read(head, 4);
  }
  if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4)
    return read_zip_format(file);
  return read_legacy_format(file, core::read_file_bytes(file));
}

}  // namespace tutti::embed
