// .npy / .npz reading and writing. Format reference: numpy/lib/format.py (NEP 1) and, for the
// object-array fallback, the pickle opcode table in CPython's Lib/pickletools.py.
#include "tutti/data/npz.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <string_view>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/pickle.h"
#include "tutti/core/zip.h"

namespace tutti::data {

// The payload is copied with memcpy as little-endian; a big-endian host would need byte swaps.
static_assert(std::endian::native == std::endian::little, "tutti assumes a little-endian host");

namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr std::size_t kMagicLen = 6;
// Largest array we accept (elements or bytes): far above any dataset, far below overflow.
constexpr std::int64_t kMaxElements = std::int64_t{1} << 48;
constexpr std::size_t kMaxStringChars = 1 << 20;  // '<U<n>' with n above this is surely corrupt

// ------------------------------------------------------------------------------------------------
// dtype

enum class Kind { kU1, kB1, kF4, kF8, kI4, kI8, kUnicode, kObject };

struct DType {
  Kind kind;
  std::size_t itemsize;
};

// Parses a descr string numpy writes; throws naming `what` for anything tutti does not read.
DType parse_descr(const std::string& d, const std::string& what) {
  if (d == "|u1") return {Kind::kU1, 1};
  if (d == "|b1") return {Kind::kB1, 1};
  if (d == "<f4") return {Kind::kF4, 4};
  if (d == "<f8") return {Kind::kF8, 8};
  if (d == "<i4") return {Kind::kI4, 4};
  if (d == "<i8") return {Kind::kI8, 8};
  if (d == "|O") return {Kind::kObject, 0};
  if (d.size() > 2 && d[0] == '<' && d[1] == 'U') {
    std::size_t n = 0;
    bool ok = d.size() <= 10;
    for (std::size_t i = 2; ok && i < d.size(); ++i) {
      ok = d[i] >= '0' && d[i] <= '9';
      n = n * 10 + static_cast<std::size_t>(d[i] - '0');
    }
    check(ok && n <= kMaxStringChars, "{}: unsupported string dtype '{}'", what, d);
    return {Kind::kUnicode, 4 * n};
  }
  if (!d.empty() && d[0] == '>')
    fail("{}: big-endian dtype '{}' is not supported (save with '<' byte order)", what, d);
  fail("{}: unsupported dtype '{}' (tutti reads |u1 |b1 <f4 <f8 <i4 <i8 <U<n>)", what, d);
}

std::string shape_to_string(const std::vector<std::int64_t>& shape) {
  if (shape.size() == 1) return fmt::format("({},)", shape[0]);
  return fmt::format("({})", fmt::join(shape, ", "));
}

// ------------------------------------------------------------------------------------------------
// Header: a Python dict literal such as {'descr': '<f4', 'fortran_order': False, 'shape': (3,), }

struct Header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
};

class HeaderParser {
 public:
  HeaderParser(std::string_view s, const std::string& what) : s_(s), what_(what) {}

  Header parse() {
    Header h;
    bool have_descr = false, have_order = false, have_shape = false;
    skip_ws();
    expect('{');
    skip_ws();
    while (peek() != '}') {
      const std::string key = parse_string();
      skip_ws();
      expect(':');
      skip_ws();
      if (key == "descr") {
        check(!have_descr, "{}: malformed header: key 'descr' repeated", what_);
        have_descr = true;
        if (peek() == '[') bad("structured dtypes are not supported");
        h.descr = parse_string();
      } else if (key == "fortran_order") {
        check(!have_order, "{}: malformed header: key 'fortran_order' repeated", what_);
        have_order = true;
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        check(!have_shape, "{}: malformed header: key 'shape' repeated", what_);
        have_shape = true;
        h.shape = parse_shape();
      } else {
        bad(fmt::format("unexpected key '{}'", key));
      }
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != '}') {
        bad("expected ',' or '}'");
      }
    }
    ++pos_;  // '}'
    // numpy pads with spaces and ends with '\n'; NULs appear in some old writers.
    for (; pos_ < s_.size(); ++pos_) {
      const char c = s_[pos_];
      if (c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != '\0')
        bad("unexpected text after the closing '}'");
    }
    check(have_descr && have_order && have_shape,
          "{}: malformed header: needs 'descr', 'fortran_order' and 'shape'", what_);
    return h;
  }

 private:
  [[noreturn]] void bad(const std::string& why) const {
    fail("{}: malformed npy header ({} at offset {})", what_, why, pos_);
  }
  char peek() const {
    if (pos_ >= s_.size()) bad("unexpected end");
    return s_[pos_];
  }
  void expect(char c) {
    if (peek() != c) bad(fmt::format("expected '{}'", c));
    ++pos_;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  std::string parse_string() {
    const char q = peek();
    if (q != '\'' && q != '"') bad("expected a quoted string");
    ++pos_;
    std::string out;
    while (peek() != q) {
      if (s_[pos_] == '\\') bad("escape sequences are not supported");
      out.push_back(s_[pos_++]);
      if (out.size() > 64) bad("string too long");
    }
    ++pos_;
    return out;
  }
  bool parse_bool() {
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("expected True or False");
  }
  std::vector<std::int64_t> parse_shape() {
    std::vector<std::int64_t> shape;
    expect('(');
    skip_ws();
    while (peek() != ')') {
      if (peek() == '-') fail("{}: negative dimension in shape", what_);
      if (peek() < '0' || peek() > '9') bad("expected a dimension");
      std::int64_t v = 0;
      while (peek() >= '0' && peek() <= '9') {
        v = v * 10 + (s_[pos_++] - '0');
        check(v <= kMaxElements, "{}: dimension too large in shape", what_);
      }
      if (peek() == 'L') ++pos_;  // Python 2 long suffix, written by old numpy
      shape.push_back(v);
      check(shape.size() <= 32, "{}: too many dimensions in shape", what_);
      skip_ws();
      if (peek() == ',') {
        ++pos_;
        skip_ws();
      } else if (peek() != ')') {
        bad("expected ',' or ')' in shape");
      }
    }
    ++pos_;
    return shape;
  }

  std::string_view s_;
  const std::string& what_;
  std::size_t pos_ = 0;
};

// Element count with overflow checks.
std::int64_t checked_numel(const std::vector<std::int64_t>& shape, const std::string& what) {
  std::int64_t n = 1;
  for (auto d : shape) {
    check(d >= 0, "{}: negative dimension in shape {}", what, shape_to_string(shape));
    if (d == 0) return 0;
    check(n <= kMaxElements / d, "{}: shape {} is too large", what, shape_to_string(shape));
    n *= d;
  }
  return n;
}

// ------------------------------------------------------------------------------------------------
// UTF-8 <-> code points

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool valid_code_point(std::uint32_t cp) { return cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF); }

// Strict UTF-8 decoding; returns false on malformed input.
bool decode_utf8(std::string_view s, std::vector<std::uint32_t>& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size();) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    std::uint32_t cp;
    std::size_t len;
    if (b0 < 0x80) {
      cp = b0;
      len = 1;
    } else if ((b0 & 0xE0) == 0xC0) {
      cp = b0 & 0x1F;
      len = 2;
    } else if ((b0 & 0xF0) == 0xE0) {
      cp = b0 & 0x0F;
      len = 3;
    } else if ((b0 & 0xF8) == 0xF0) {
      cp = b0 & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t j = 1; j < len; ++j) {
      const auto b = static_cast<unsigned char>(s[i + j]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr std::uint32_t kMin[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || !valid_code_point(cp)) return false;  // overlong or invalid
    out.push_back(cp);
    i += len;
  }
  return true;
}

// ------------------------------------------------------------------------------------------------
// Object arrays of str, read with core's pickle reader.
//
// np.save pickles object arrays as
//   _reconstruct(ndarray, (0,), b'b') + BUILD (1, shape, dtype('O8'), is_fortran, [obj, ...])
// The reader rebuilds that structure as inert values (nothing is ever called or imported); it is
// accepted only if the final list holds nothing but strings.

// The opcodes that structure uses (protocols 2-5): PROTO FRAME STOP GLOBAL STACK_GLOBAL, the memo,
// small ints, None/True/False, str and bytes, MARK, tuples, lists, APPEND(S), REDUCE and BUILD.
constexpr std::string_view kObjectArrayOpcodes =
    "\x80\x95.c\x93qr\x94hjKMJN\x88\x89X\x8c\x8dUTCB()\x85\x86\x87tl]aeRb";

std::vector<std::string> read_object_strings(const std::uint8_t* p, std::size_t n,
                                             const std::string& what) {
  using V = core::PickleValue;
  core::PickleOptions o;
  o.what = what;
  o.reads = "only arrays of str are supported";
  o.opcodes = kObjectArrayOpcodes;
  core::Unpickler u(p, n, std::move(o));
  const int root = u.run();
  check(u.pos() == n, "{}: {} unexpected bytes after the pickle", what, n - u.pos());
  const V& r = u.value(root);
  const bool reconstruct = r.kind == V::kObject && u.value(r.items[0]).kind == V::kGlobal &&
                           (u.value(r.items[0]).s == "numpy.core.multiarray" ||
                            u.value(r.items[0]).s == "numpy._core.multiarray") &&
                           u.value(r.items[0]).s2 == "_reconstruct";
  check(reconstruct && r.items.size() == 3,
        "{}: object array pickle is not a numpy array reduction", what);
  const V& state = u.value(r.items[2]);
  check(state.kind == V::kTuple && state.items.size() == 5 &&
            u.value(state.items[4]).kind == V::kList,
        "{}: object array pickle has an unexpected state (only arrays of str are supported)", what);
  std::vector<std::string> out;
  for (int id : u.value(state.items[4]).items) {
    check(u.value(id).kind == V::kStr,
          "{}: object array holds a non-string value (only arrays of str are supported)", what);
    out.push_back(u.value(id).s);
  }
  return out;
}

// The header of an .npy stream: returns the parsed dict and the payload offset.
Header parse_preamble(const std::uint8_t* data, std::size_t size, const std::string& what,
                      std::size_t& offset) {
  check(size >= kMagicLen + 2 && std::memcmp(data, kMagic, kMagicLen) == 0,
        "{}: not an .npy array (bad magic bytes)", what);
  const int major = data[6], minor = data[7];
  std::size_t header_len = 0;
  if (major == 1 && minor == 0) {
    check(size >= 10, "{}: truncated npy header", what);
    header_len = data[8] | (static_cast<std::size_t>(data[9]) << 8);
    offset = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    check(size >= 12, "{}: truncated npy header", what);
    header_len = data[8] | (static_cast<std::size_t>(data[9]) << 8) |
                 (static_cast<std::size_t>(data[10]) << 16) |
                 (static_cast<std::size_t>(data[11]) << 24);
    offset = 12;
  } else {
    fail("{}: unsupported npy format version {}.{} (tutti reads 1.0, 2.0, 3.0)", what, major,
         minor);
  }
  check(header_len <= size - offset, "{}: truncated npy header ({} of {} bytes)", what,
        size - offset, header_len);
  const std::string_view text(reinterpret_cast<const char*>(data + offset), header_len);
  offset += header_len;
  return HeaderParser(text, what).parse();
}

template <typename T>
std::vector<T> load_le(const std::vector<std::uint8_t>& bytes, std::size_t n) {
  std::vector<T> out(n);
  if (n) std::memcpy(out.data(), bytes.data(), n * sizeof(T));
  return out;
}

template <typename T>
NpyArray make_array(const char* descr, std::vector<std::int64_t> shape, const T* v, std::size_t n) {
  NpyArray a;
  a.descr = descr;
  a.shape = std::move(shape);
  check(static_cast<std::size_t>(checked_numel(a.shape, "npy")) == n,
        "npy: {} values do not fill shape {}", n, shape_to_string(a.shape));
  a.data.resize(n * sizeof(T));
  if (n) std::memcpy(a.data.data(), v, n * sizeof(T));
  return a;
}

}  // namespace

// --------------------------------------------------------------------------------------------------
// NpyArray

std::int64_t NpyArray::numel() const { return checked_numel(shape, "npy"); }

std::size_t NpyArray::itemsize() const { return parse_descr(descr, "npy").itemsize; }

std::string NpyArray::shape_str() const { return shape_to_string(shape); }

std::vector<std::uint8_t> NpyArray::as_u8(const std::string& what) const& {
  check(descr == "|u1" || descr == "|b1", "{}: has dtype '{}', expected '|u1' or '|b1'", what,
        descr);
  return data;
}

std::vector<std::uint8_t> NpyArray::as_u8(const std::string& what) && {
  check(descr == "|u1" || descr == "|b1", "{}: has dtype '{}', expected '|u1' or '|b1'", what,
        descr);
  return std::move(data);
}

std::vector<float> NpyArray::as_f32(const std::string& what) const {
  const auto n = static_cast<std::size_t>(numel());
  if (descr == "<f4") return load_le<float>(data, n);
  if (descr == "<f8") {
    const auto d = load_le<double>(data, n);
    std::vector<float> out(n);
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(d[i]);
    return out;
  }
  fail("{}: has dtype '{}', expected '<f4' or '<f8'", what, descr);
}

std::vector<std::int64_t> NpyArray::as_i64(const std::string& what) const {
  const auto n = static_cast<std::size_t>(numel());
  if (descr == "<i8") return load_le<std::int64_t>(data, n);
  if (descr == "<i4") {
    const auto d = load_le<std::int32_t>(data, n);
    return {d.begin(), d.end()};
  }
  fail("{}: has dtype '{}', expected '<i4' or '<i8'", what, descr);
}

std::vector<std::string> NpyArray::as_strings(const std::string& what) const {
  const DType t = parse_descr(descr, what);
  check(t.kind == Kind::kUnicode, "{}: has dtype '{}', expected a unicode string '<U<n>'", what,
        descr);
  const auto n = static_cast<std::size_t>(numel());
  const std::size_t chars = t.itemsize / 4;
  check(data.size() == n * t.itemsize, "{}: payload size does not match its shape", what);
  std::vector<std::string> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    // numpy strips trailing NULs; embedded NULs are kept.
    std::size_t len = chars;
    const std::uint8_t* base = data.data() + i * t.itemsize;
    auto cp_at = [&](std::size_t j) {
      std::uint32_t cp;
      std::memcpy(&cp, base + 4 * j, 4);
      return cp;
    };
    while (len > 0 && cp_at(len - 1) == 0) --len;
    std::string& s = out[i];
    s.reserve(len);
    for (std::size_t j = 0; j < len; ++j) {
      const std::uint32_t cp = cp_at(j);
      check(valid_code_point(cp), "{}: element {} holds an invalid code point U+{:X}", what, i, cp);
      append_utf8(s, cp);
    }
  }
  return out;
}

NpyArray NpyArray::from_u8(std::vector<std::int64_t> shape, const std::vector<std::uint8_t>& v,
                           bool as_bool) {
  return make_array(as_bool ? "|b1" : "|u1", std::move(shape), v.data(), v.size());
}
NpyArray NpyArray::from_f32(std::vector<std::int64_t> shape, const std::vector<float>& v) {
  return make_array("<f4", std::move(shape), v.data(), v.size());
}
NpyArray NpyArray::from_f64(std::vector<std::int64_t> shape, const std::vector<double>& v) {
  return make_array("<f8", std::move(shape), v.data(), v.size());
}
NpyArray NpyArray::from_i32(std::vector<std::int64_t> shape, const std::vector<std::int32_t>& v) {
  return make_array("<i4", std::move(shape), v.data(), v.size());
}
NpyArray NpyArray::from_i64(std::vector<std::int64_t> shape, const std::vector<std::int64_t>& v) {
  return make_array("<i8", std::move(shape), v.data(), v.size());
}

NpyArray NpyArray::from_strings(const std::vector<std::string>& v) {
  std::vector<std::vector<std::uint32_t>> cps(v.size());
  std::size_t width = 1;
  for (std::size_t i = 0; i < v.size(); ++i) {
    check(decode_utf8(v[i], cps[i]), "npy: string {} is not valid UTF-8", i);
    width = std::max(width, cps[i].size());
  }
  check(width <= kMaxStringChars, "npy: string of {} characters is too long", width);
  NpyArray a;
  a.descr = fmt::format("<U{}", width);
  a.shape = {static_cast<std::int64_t>(v.size())};
  a.data.assign(v.size() * width * 4, 0);
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!cps[i].empty())
      std::memcpy(a.data.data() + i * width * 4, cps[i].data(), cps[i].size() * 4);
  return a;
}

// --------------------------------------------------------------------------------------------------
// parse / serialize

namespace {

// Parses the header and checks the payload length; returns the array without its data and sets
// `offset`. Object arrays are decoded right away (their payload is a pickle, not raw values).
NpyArray parse_meta(const std::uint8_t* data, std::size_t size, const std::string& what,
                    std::size_t& offset, bool& decoded) {
  const Header h = parse_preamble(data, size, what, offset);
  check(!h.fortran_order,
        "{}: fortran_order=True arrays are not supported (save a C-contiguous array)", what);
  const DType t = parse_descr(h.descr, what);
  const std::int64_t n = checked_numel(h.shape, what);
  NpyArray a;
  a.shape = h.shape;
  decoded = false;
  if (t.kind == Kind::kObject) {
    auto strings = read_object_strings(data + offset, size - offset, what);
    check(static_cast<std::int64_t>(strings.size()) == n,
          "{}: object array holds {} strings, shape {} needs {}", what, strings.size(),
          shape_to_string(h.shape), n);
    a = NpyArray::from_strings(strings);
    a.shape = h.shape;
    decoded = true;
    return a;
  }
  a.descr = h.descr;
  // '<U0' has no bytes per element: bound the count, or a tiny file could claim 2^48 strings.
  check(t.itemsize > 0 || n <= (std::int64_t{1} << 20),
        "{}: {} zero-width elements of dtype '{}' is implausible", what, n, h.descr);
  const std::size_t payload = size - offset;
  // n <= 2^48 and itemsize <= 4 * 2^20, so the product cannot overflow 64 bits.
  const auto need = static_cast<std::uint64_t>(n) * t.itemsize;
  check(payload == need, "{}: payload has {} bytes, but shape {} of dtype '{}' needs {}", what,
        payload, shape_to_string(h.shape), h.descr, need);
  return a;
}

}  // namespace

NpyArray parse_npy(const std::uint8_t* data, std::size_t size, const std::string& what) {
  std::size_t offset = 0;
  bool decoded = false;
  NpyArray a = parse_meta(data, size, what, offset, decoded);
  if (!decoded) a.data.assign(data + offset, data + size);
  return a;
}

NpyArray parse_npy(std::vector<std::uint8_t>&& bytes, const std::string& what) {
  std::size_t offset = 0;
  bool decoded = false;
  NpyArray a = parse_meta(bytes.data(), bytes.size(), what, offset, decoded);
  if (!decoded) {
    // Shift the payload to the front in place: one memmove instead of a second buffer.
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    a.data = std::move(bytes);
  }
  return a;
}

NpyView view_npy(const std::uint8_t* data, std::size_t size, const std::string& what) {
  std::size_t offset = 0;
  const Header h = parse_preamble(data, size, what, offset);
  check(parse_descr(h.descr, what).kind != Kind::kObject,
        "{}: object arrays cannot be memory-mapped", what);
  bool decoded = false;
  NpyArray meta = parse_meta(data, size, what, offset, decoded);  // checks the payload length
  return {meta.descr, meta.shape, data + offset, size - offset};
}

std::vector<std::uint8_t> serialize_npy(const NpyArray& a) {
  const DType t = parse_descr(a.descr, "npy");
  check(t.kind != Kind::kObject, "npy: cannot write object arrays");
  const std::int64_t n = checked_numel(a.shape, "npy");
  check(a.data.size() == static_cast<std::uint64_t>(n) * t.itemsize,
        "npy: array of shape {} and dtype '{}' holds {} bytes, expected {}", a.shape_str(), a.descr,
        a.data.size(), static_cast<std::uint64_t>(n) * t.itemsize);
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                   a.descr, shape_to_string(a.shape));
  // Pad with spaces and a final '\n' so the data starts on a 64-byte boundary (numpy >= 1.16).
  int major = 1;
  std::size_t prefix = kMagicLen + 2 + 2;
  std::size_t total = prefix + header.size() + 1;
  if ((total + 63) / 64 * 64 - prefix > 65535) {
    major = 2;
    prefix += 2;
    total += 2;
  }
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  // One allocation, filled with memcpy (vector::insert trips a GCC 12 -Wstringop-overflow
  // false positive here).
  const std::size_t hl = header.size();
  std::vector<std::uint8_t> out(prefix + hl + a.data.size());
  std::memcpy(out.data(), kMagic, kMagicLen);
  out[6] = static_cast<std::uint8_t>(major);
  out[7] = 0;
  for (std::size_t b = 0; b < prefix - 8; ++b)
    out[8 + b] = static_cast<std::uint8_t>((hl >> (8 * b)) & 0xFF);
  std::memcpy(out.data() + prefix, header.data(), hl);
  if (!a.data.empty()) std::memcpy(out.data() + prefix + hl, a.data.data(), a.data.size());
  return out;
}

NpyArray read_npy(const std::filesystem::path& path) {
  return parse_npy(core::read_file_bytes(path), path.string());
}

void write_npy(const std::filesystem::path& path, const NpyArray& a) {
  const auto bytes = serialize_npy(a);
  core::write_file_atomic(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

// --------------------------------------------------------------------------------------------------
// npz

std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path,
                                         std::uint64_t max_entry_bytes) {
  core::ZipLimits limits;
  limits.max_entry_bytes = max_entry_bytes;
  core::ZipReader zip(path, limits);  // refuses impossible or bomb-like sizes before allocating
  std::map<std::string, NpyArray> out;
  for (const auto& name : zip.names()) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".npy") != 0) continue;
    const std::string key = name.substr(0, name.size() - 4);
    const std::string what = fmt::format("{}: array '{}'", path.string(), key);
    check(!out.contains(key), "{}: appears twice in the archive", what);
    out.emplace(key, parse_npy(zip.read(name), what));
  }
  return out;
}

void write_npz(const std::filesystem::path& path, const std::map<std::string, NpyArray>& arrays) {
  core::ZipWriter zip(path);
  for (const auto& [name, a] : arrays) zip.add(name + ".npy", serialize_npy(a));
  zip.commit();
}

}  // namespace tutti::data
