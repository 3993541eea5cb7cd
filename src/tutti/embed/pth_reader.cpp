// torch.save state-dict reader. References: CPython Lib/pickletools.py (opcodes),
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
#include "tutti/core/zip.h"

namespace tutti::embed {
namespace {

constexpr std::int64_t kMaxDims = 16;

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

// One pickled value. Containers refer to other nodes by index so that memoized objects are shared
// (a dict filled by SETITEMS after it was memoized, a storage used by several tensors).
struct Node {
  enum Kind { kNone, kBool, kInt, kFloat, kStr, kBytes, kTuple, kList, kDict, kGlobal, kStorage,
              kTensor, kBigInt };
  Kind kind = kNone;
  std::int64_t i = 0;      // int, bool; storage: element count
  double f = 0;            // float
  std::string s;           // str, bytes, big int bytes; global "module.name"; storage key
  const DtypeInfo* dtype = nullptr;  // storage
  std::vector<int> items;  // tuple, list; dict: key0, value0, key1, value1, ...
  // tensor
  int storage = -1;
  std::int64_t offset = 0;
  std::vector<std::int64_t> shape, stride;
};

const char* kind_name(Node::Kind k) {
  switch (k) {
    case Node::kNone: return "None";
    case Node::kBool: return "bool";
    case Node::kInt: return "int";
    case Node::kFloat: return "float";
    case Node::kStr: return "str";
    case Node::kBytes: return "bytes";
    case Node::kTuple: return "tuple";
    case Node::kList: return "list";
    case Node::kDict: return "dict";
    case Node::kGlobal: return "global";
    case Node::kStorage: return "storage";
    case Node::kTensor: return "tensor";
    case Node::kBigInt: return "int";
  }
  return "?";
}

// A pickle *reader*: interprets the opcodes protocol 2-5 use for dicts of tensors and builds
// nodes; it calls nothing and imports nothing.
class Unpickler {
 public:
  Unpickler(const std::uint8_t* data, std::size_t size, std::string what)
      : p_(data), n_(size), what_(std::move(what)) {}

  // Runs from the current position to STOP; returns the root node.
  int run() {
    stack_.clear();
    marks_.clear();
    memo_.clear();
    for (;;) {
      const std::uint8_t op = byte();
      switch (op) {
        case 0x80: byte(); break;            // PROTO
        case 0x95: bytes(8); break;          // FRAME
        case '.': {                          // STOP
          check(stack_.size() == 1 && marks_.empty(), "{}: malformed pickle at STOP", what_);
          return stack_.back();
        }
        case '(': marks_.push_back(stack_.size()); break;  // MARK
        case ')': push(make(Node::kTuple)); break;
        case ']': push(make(Node::kList)); break;
        case '}': push(make(Node::kDict)); break;
        case 'N': push(make(Node::kNone)); break;
        case 0x88: push_int(Node::kBool, 1); break;
        case 0x89: push_int(Node::kBool, 0); break;
        case 'J': {  // BININT
          std::int32_t v;
          std::memcpy(&v, bytes(4), 4);
          push_int(Node::kInt, v);
          break;
        }
        case 'K': push_int(Node::kInt, byte()); break;
        case 'M': {
          const auto* b = bytes(2);
          push_int(Node::kInt, b[0] | (b[1] << 8));
          break;
        }
        case 0x8a: {  // LONG1: little-endian two's complement
          const std::size_t len = byte();
          const auto* b = bytes(len);
          if (len > 8) {
            const int k = make(Node::kBigInt);
            nodes_[k].s.assign(reinterpret_cast<const char*>(b), len);
            push(k);
            break;
          }
          std::uint64_t v = 0;
          for (std::size_t j = 0; j < len; ++j) v |= std::uint64_t{b[j]} << (8 * j);
          if (len > 0 && len < 8 && (b[len - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * len);
          push_int(Node::kInt, static_cast<std::int64_t>(v));
          break;
        }
        case 'G': {  // BINFLOAT, big-endian
          const auto* b = bytes(8);
          std::uint64_t bits = 0;
          for (int j = 0; j < 8; ++j) bits = (bits << 8) | b[j];
          double d;
          std::memcpy(&d, &bits, 8);
          const int k = make(Node::kFloat);
          nodes_[k].f = d;
          push(k);
          break;
        }
        case 'X': push_string(Node::kStr, u32()); break;      // BINUNICODE
        case 0x8c: push_string(Node::kStr, byte()); break;    // SHORT_BINUNICODE
        case 0x8d: push_string(Node::kStr, u64()); break;     // BINUNICODE8
        case 'B': push_string(Node::kBytes, u32()); break;    // BINBYTES
        case 'C': push_string(Node::kBytes, byte()); break;   // SHORT_BINBYTES
        case 0x8e: push_string(Node::kBytes, u64()); break;   // BINBYTES8
        case 'c': {                                           // GLOBAL "module\nname\n"
          std::string module = line();
          std::string name = line();
          push_global(module + "." + name);
          break;
        }
        case 0x93: {  // STACK_GLOBAL
          const int name = pop();
          const int module = pop();
          check(nodes_[name].kind == Node::kStr && nodes_[module].kind == Node::kStr,
                "{}: malformed pickle (STACK_GLOBAL)", what_);
          push_global(nodes_[module].s + "." + nodes_[name].s);
          break;
        }
        case 'q': memoize(byte()); break;  // BINPUT
        case 'r': memoize(u32()); break;   // LONG_BINPUT
        case 0x94: memoize(static_cast<std::uint32_t>(memo_.size())); break;  // MEMOIZE
        case 'h': push(memo_get(byte())); break;   // BINGET
        case 'j': push(memo_get(u32())); break;    // LONG_BINGET
        case 't': push(make_seq(Node::kTuple, pop_mark())); break;
        case 0x85: push(make_seq(Node::kTuple, pop_n(1))); break;
        case 0x86: push(make_seq(Node::kTuple, pop_n(2))); break;
        case 0x87: push(make_seq(Node::kTuple, pop_n(3))); break;
        case 'l': push(make_seq(Node::kList, pop_mark())); break;
        case 'a': {  // APPEND
          const int v = pop();
          append_to(top(), {v});
          break;
        }
        case 'e': {  // APPENDS
          auto vs = pop_mark();
          append_to(top(), vs);
          break;
        }
        case 'd': {  // DICT
          auto kv = pop_mark();
          check(kv.size() % 2 == 0, "{}: malformed pickle (DICT)", what_);
          push(make_seq(Node::kDict, kv));
          break;
        }
        case 's': {  // SETITEM
          const int v = pop();
          const int k = pop();
          set_items(top(), {k, v});
          break;
        }
        case 'u': {  // SETITEMS
          auto kv = pop_mark();
          check(kv.size() % 2 == 0, "{}: malformed pickle (SETITEMS)", what_);
          set_items(top(), kv);
          break;
        }
        case 'R': {  // REDUCE
          const int args = pop();
          const int fn = pop();
          push(reduce(fn, args));
          break;
        }
        case 'b': pop(); break;  // BUILD: object state (a state dict's _metadata) is not needed
        case 'Q': push(persistent(pop())); break;  // BINPERSID
        default:
          fail("{}: the pickle holds opcode 0x{:02x} at byte {}, which a state dict does not use "
               "(tutti reads dicts of tensors only)",
               what_, op, pos_ - 1);
      }
      check(stack_.size() <= n_ + 1, "{}: malformed pickle", what_);
    }
  }

  std::size_t pos() const { return pos_; }
  const Node& node(int k) const { return nodes_.at(static_cast<std::size_t>(k)); }
  const std::vector<Node>& nodes() const { return nodes_; }

 private:
  [[noreturn]] void truncated() const { fail("{}: the pickle is truncated", what_); }
  std::uint8_t byte() {
    if (pos_ >= n_) truncated();
    return p_[pos_++];
  }
  const std::uint8_t* bytes(std::size_t k) {
    if (k > n_ - pos_) truncated();
    const auto* b = p_ + pos_;
    pos_ += k;
    return b;
  }
  std::uint32_t u32() {
    std::uint32_t v;
    std::memcpy(&v, bytes(4), 4);
    return v;
  }
  std::uint64_t u64() {
    std::uint64_t v;
    std::memcpy(&v, bytes(8), 8);
    return v;
  }
  std::string line() {
    std::string out;
    for (;;) {
      const char c = static_cast<char>(byte());
      if (c == '\n') return out;
      out += c;
      check(out.size() <= 256, "{}: malformed pickle (GLOBAL name too long)", what_);
    }
  }
  int make(Node::Kind kind) {
    check(nodes_.size() < std::size_t{1} << 26, "{}: pickle too large", what_);
    nodes_.push_back(Node{});
    nodes_.back().kind = kind;
    return static_cast<int>(nodes_.size() - 1);
  }
  void push(int k) { stack_.push_back(k); }
  void push_int(Node::Kind kind, std::int64_t v) {
    const int k = make(kind);
    nodes_[k].i = v;
    push(k);
  }
  void push_string(Node::Kind kind, std::uint64_t len) {
    if (len > n_ - pos_) truncated();
    const auto* b = bytes(static_cast<std::size_t>(len));
    const int k = make(kind);
    nodes_[k].s.assign(reinterpret_cast<const char*>(b), static_cast<std::size_t>(len));
    push(k);
  }
  void push_global(std::string name) {
    const int k = make(Node::kGlobal);
    nodes_[k].s = std::move(name);
    push(k);
  }
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  int pop() {
    check(stack_.size() > floor(), "{}: malformed pickle (stack underflow)", what_);
    const int k = stack_.back();
    stack_.pop_back();
    return k;
  }
  int top() const {
    check(stack_.size() > floor(), "{}: malformed pickle (stack underflow)", what_);
    return stack_.back();
  }
  std::vector<int> pop_n(std::size_t k) {
    check(stack_.size() >= floor() + k, "{}: malformed pickle (stack underflow)", what_);
    std::vector<int> out(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(stack_.size() - k);
    return out;
  }
  std::vector<int> pop_mark() {
    check(!marks_.empty(), "{}: malformed pickle (no MARK)", what_);
    const std::size_t m = marks_.back();
    marks_.pop_back();
    std::vector<int> out(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
    stack_.resize(m);
    return out;
  }
  int make_seq(Node::Kind kind, std::vector<int> items) {
    const int k = make(kind);
    nodes_[k].items = std::move(items);
    return k;
  }
  void append_to(int list, const std::vector<int>& vs) {
    check(nodes_[list].kind == Node::kList, "{}: malformed pickle (append to a {})", what_,
          kind_name(nodes_[list].kind));
    auto& items = nodes_[list].items;
    items.insert(items.end(), vs.begin(), vs.end());
  }
  void set_items(int dict, const std::vector<int>& kv) {
    check(nodes_[dict].kind == Node::kDict, "{}: malformed pickle (setitem on a {})", what_,
          kind_name(nodes_[dict].kind));
    auto& items = nodes_[dict].items;
    items.insert(items.end(), kv.begin(), kv.end());
  }
  void memoize(std::uint32_t key) {
    check(!stack_.empty(), "{}: malformed pickle (PUT on an empty stack)", what_);
    memo_[key] = stack_.back();
  }
  int memo_get(std::uint32_t key) const {
    auto it = memo_.find(key);
    check(it != memo_.end(), "{}: malformed pickle (GET of unknown memo {})", what_, key);
    return it->second;
  }

  // The element-count tuples of _rebuild_tensor: (d0, d1, ...) of ints.
  std::vector<std::int64_t> int_tuple(int k, const char* field) const {
    const Node& t = nodes_[k];
    check(t.kind == Node::kTuple && t.items.size() <= kMaxDims,
          "{}: tensor {} is not a tuple of at most {} ints", what_, field, kMaxDims);
    std::vector<std::int64_t> out;
    for (int e : t.items) {
      check(nodes_[e].kind == Node::kInt && nodes_[e].i >= 0, "{}: tensor {} holds a bad value",
            what_, field);
      out.push_back(nodes_[e].i);
    }
    return out;
  }

  int reduce(int fn, int args) {
    check(nodes_[fn].kind == Node::kGlobal && nodes_[args].kind == Node::kTuple,
          "{}: malformed pickle (REDUCE)", what_);
    const std::string name = nodes_[fn].s;  // a copy: make() may reallocate nodes_
    const std::vector<int> a = nodes_[args].items;
    if (name == "collections.OrderedDict") {
      check(a.empty(), "{}: OrderedDict built from arguments is not supported", what_);
      return make(Node::kDict);
    }
    if (name == "torch._utils._rebuild_tensor_v2" || name == "torch._utils._rebuild_tensor") {
      check(a.size() >= 4, "{}: {} with {} arguments", what_, name, a.size());
      check(nodes_[a[0]].kind == Node::kStorage, "{}: {}: the first argument is a {}, not a storage",
            what_, name, kind_name(nodes_[a[0]].kind));
      check(nodes_[a[1]].kind == Node::kInt && nodes_[a[1]].i >= 0, "{}: bad storage offset",
            what_);
      const int k = make(Node::kTensor);
      nodes_[k].storage = a[0];
      nodes_[k].offset = nodes_[a[1]].i;
      nodes_[k].shape = int_tuple(a[2], "size");
      nodes_[k].stride = int_tuple(a[3], "stride");
      check(nodes_[k].shape.size() == nodes_[k].stride.size(),
            "{}: tensor size and stride differ in length", what_);
      return k;
    }
    if (name == "torch._utils._rebuild_parameter" ||
        name == "torch._utils._rebuild_parameter_with_state") {
      check(!a.empty() && nodes_[a[0]].kind == Node::kTensor, "{}: {} without a tensor", what_,
            name);
      return a[0];
    }
    fail("{}: the pickle calls {}, which tutti does not run (it reads dicts of tensors only)",
         what_, name);
  }

  // ('storage', torch.FloatStorage, key, location, numel[, view_metadata])
  int persistent(int pid) {
    const Node& t = nodes_[pid];
    check(t.kind == Node::kTuple && t.items.size() >= 5 && nodes_[t.items[0]].kind == Node::kStr &&
              nodes_[t.items[0]].s == "storage",
          "{}: unsupported persistent id (not a tensor storage)", what_);
    const Node& type = nodes_[t.items[1]];
    check(type.kind == Node::kGlobal, "{}: malformed storage reference", what_);
    const DtypeInfo* dtype = dtype_of_storage(type.s);
    check(dtype != nullptr, "{}: storage type {} is not supported", what_, type.s);
    const Node& key = nodes_[t.items[2]];
    const Node& numel = nodes_[t.items[4]];
    check(key.kind == Node::kStr && numel.kind == Node::kInt && numel.i >= 0,
          "{}: malformed storage reference", what_);
    // Copies first: make() may reallocate nodes_ and invalidate the references above.
    std::string key_s = key.s;
    const std::int64_t count = numel.i;
    const int k = make(Node::kStorage);
    nodes_[k].s = std::move(key_s);
    nodes_[k].dtype = dtype;
    nodes_[k].i = count;
    return k;
  }

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  std::string what_;
  std::vector<Node> nodes_;
  std::vector<int> stack_;
  std::vector<std::size_t> marks_;
  std::map<std::uint32_t, int> memo_;
};

// A storage's bytes: the zip entry or the slice of a legacy file.
struct StorageBytes {
  const std::uint8_t* data = nullptr;
  std::uint64_t size = 0;
};

// Resolves the dict's tensor entries into contiguous copies.
std::map<std::string, PthTensor> collect(
    const Unpickler& u, int root, const std::string& what,
    const std::function<StorageBytes(const Node& storage)>& storage_bytes) {
  const Node& dict = u.node(root);
  check(dict.kind == Node::kDict, "{}: holds a {}, not a dict of tensors (a state_dict)", what,
        kind_name(dict.kind));
  std::map<std::string, PthTensor> out;
  for (std::size_t j = 0; j + 1 < dict.items.size(); j += 2) {
    const Node& key = u.node(dict.items[j]);
    const Node& t = u.node(dict.items[j + 1]);
    if (key.kind != Node::kStr || t.kind != Node::kTensor) continue;
    const Node& st = u.node(t.storage);
    const std::size_t itemsize = st.dtype->itemsize;
    const auto bytes = storage_bytes(st);
    check(static_cast<std::uint64_t>(st.i) <= bytes.size / itemsize,
          "{}: tensor '{}': its storage holds {} bytes, fewer than the {} elements it declares",
          what, key.s, bytes.size, st.i);
    // numel and the furthest element, with overflow checks.
    std::uint64_t numel = 1, last = static_cast<std::uint64_t>(t.offset);
    for (std::size_t d = 0; d < t.shape.size(); ++d) {
      const auto size = static_cast<std::uint64_t>(t.shape[d]);
      check(size == 0 || numel <= (std::uint64_t{1} << 40) / size,
            "{}: tensor '{}' is too large", what, key.s);
      numel *= size;
      if (size > 0) {
        const auto stride = static_cast<std::uint64_t>(t.stride[d]);
        check(stride <= (std::uint64_t{1} << 40), "{}: tensor '{}': bad stride", what, key.s);
        last += (size - 1) * stride;
      }
    }
    check(numel == 0 || last < static_cast<std::uint64_t>(st.i),
          "{}: tensor '{}' of shape {} reaches element {} of a storage of {}", what, key.s,
          numel, last, st.i);
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
  const auto pkl = zip.read(prefix + "data.pkl");
  Unpickler u(pkl.data(), pkl.size(), what);
  const int root = u.run();
  std::map<std::string, std::vector<std::uint8_t>> cache;
  return collect(u, root, what, [&](const Node& st) {
    auto it = cache.find(st.s);
    if (it == cache.end()) {
      const std::string entry = prefix + "data/" + st.s;
      check(zip.contains(entry), "{}: storage '{}' is missing (no entry {})", what, st.s, entry);
      it = cache.emplace(st.s, zip.read(entry)).first;
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
  check(bytes.size() >= sizeof(kMagic) && std::equal(std::begin(kMagic), std::end(kMagic),
                                                     bytes.begin()),
        "{}: not a PyTorch file (neither a torch.save zip archive nor the legacy format)", what);
  std::size_t pos = sizeof(kMagic);
  auto next = [&](Unpickler& u) {
    const int root = u.run();
    pos += u.pos();
    return root;
  };
  {
    Unpickler version(bytes.data() + pos, bytes.size() - pos, what);
    const int v = next(version);
    check(version.node(v).kind == Node::kInt && version.node(v).i == 1001,
          "{}: legacy torch.save protocol version is not 1001", what);
  }
  {
    Unpickler sys_info(bytes.data() + pos, bytes.size() - pos, what);
    const int info = next(sys_info);
    const Node& d = sys_info.node(info);
    for (std::size_t j = 0; j + 1 < d.items.size(); j += 2) {
      const Node& k = sys_info.node(d.items[j]);
      const Node& v = sys_info.node(d.items[j + 1]);
      if (k.kind == Node::kStr && k.s == "little_endian")
        check(v.kind == Node::kBool && v.i == 1, "{}: big-endian tensors are not supported", what);
    }
  }
  Unpickler main(bytes.data() + pos, bytes.size() - pos, what);
  const int root = next(main);
  Unpickler keys_pickle(bytes.data() + pos, bytes.size() - pos, what);
  const int keys_node = next(keys_pickle);
  const Node& keys = keys_pickle.node(keys_node);
  check(keys.kind == Node::kList, "{}: malformed legacy file (no storage key list)", what);
  // Item sizes of the storages, from the object pickle.
  std::map<std::string, std::size_t> itemsize;
  for (const auto& n : main.nodes())
    if (n.kind == Node::kStorage) itemsize[n.s] = n.dtype->itemsize;
  std::map<std::string, StorageBytes> storages;
  for (int k : keys.items) {
    const Node& key = keys_pickle.node(k);
    check(key.kind == Node::kStr, "{}: malformed legacy file (storage key)", what);
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
  return collect(main, root, what, [&](const Node& st) {
    auto it = storages.find(st.s);
    check(it != storages.end(), "{}: storage '{}' is missing", what, st.s);
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
  if (head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) return read_zip_format(file);
  return read_legacy_format(file, core::read_file_bytes(file));
}

}  // namespace tutti::embed
