// Pickle reader. Opcode names and layouts: CPython Lib/pickletools.py.
#include "tutti/core/pickle.h"

#include <fmt/format.h>

#include <cstring>

#include "tutti/core/error.h"

namespace tutti::core {

namespace {

using V = PickleValue;

// Latin-1 (Python 2 str) to UTF-8.
std::string latin1_to_utf8(const std::uint8_t* b, std::size_t n) {
  std::string out;
  out.reserve(n);
  for (std::size_t j = 0; j < n; ++j) {
    if (b[j] < 0x80) {
      out.push_back(static_cast<char>(b[j]));
    } else {
      out.push_back(static_cast<char>(0xC0 | (b[j] >> 6)));
      out.push_back(static_cast<char>(0x80 | (b[j] & 0x3F)));
    }
  }
  return out;
}

}  // namespace

const char* pickle_kind_name(PickleValue::Kind kind) {
  switch (kind) {
    case V::kNone:
      return "None";
    case V::kBool:
      return "bool";
    case V::kInt:
      return "int";
    case V::kBigInt:
      return "int";
    case V::kFloat:
      return "float";
    case V::kStr:
      return "str";
    case V::kBytes:
      return "bytes";
    case V::kTuple:
      return "tuple";
    case V::kList:
      return "list";
    case V::kDict:
      return "dict";
    case V::kGlobal:
      return "global";
    case V::kObject:
      return "object";
    case V::kCustom:
      return "object";
  }
  return "?";
}

Unpickler::Unpickler(const std::uint8_t* data, std::size_t size, PickleOptions options)
    : p_(data), n_(size), options_(std::move(options)) {}

void Unpickler::unsupported(const std::string& message) const {
  if (options_.reads.empty()) fail("{}: {}", what(), message);
  fail("{}: {} ({})", what(), message, options_.reads);
}

int Unpickler::run() {
  stack_.clear();
  marks_.clear();
  memo_.clear();
  for (;;) {
    const std::uint8_t op = byte();
    if (!options_.opcodes.empty() &&
        options_.opcodes.find(static_cast<char>(op)) == std::string_view::npos)
      unsupported(fmt::format(
          "the pickle holds opcode 0x{:02x} at byte {}, which tutti does not read", op, pos_ - 1));
    switch (op) {
      case 0x80:
        byte();
        break;  // PROTO
      case 0x95:
        bytes(8);
        break;   // FRAME (the length is advisory)
      case '.':  // STOP
        check(stack_.size() == 1 && marks_.empty(), "{}: malformed pickle at STOP", what());
        return stack_.back();
      case '(':  // MARK
        check(marks_.size() < n_, "{}: pickle: more marks than input bytes", what());
        check(marks_.size() < options_.max_stack, "{}: pickle: more than {} nested MARKs", what(),
              options_.max_stack);
        marks_.push_back(stack_.size());
        break;
      case ')':
        push(make(V::kTuple));
        break;  // EMPTY_TUPLE
      case ']':
        push(make(V::kList));
        break;  // EMPTY_LIST
      case '}':
        push(make(V::kDict));
        break;  // EMPTY_DICT
      case 'N':
        push(make(V::kNone));
        break;  // NONE
      case 0x88:
        push_int(V::kBool, 1);
        break;  // NEWTRUE
      case 0x89:
        push_int(V::kBool, 0);
        break;  // NEWFALSE
      case 'J':
        push_int(V::kInt, static_cast<std::int32_t>(u32()));
        break;  // BININT
      case 'K':
        push_int(V::kInt, byte());
        break;     // BININT1
      case 'M': {  // BININT2
        const std::uint32_t lo = byte(), hi = byte();
        push_int(V::kInt, lo | (hi << 8));
        break;
      }
      case 0x8a: {  // LONG1: little-endian two's complement
        const std::size_t len = byte();
        const auto* b = bytes(len);
        if (len > 8) {
          const int k = make(V::kBigInt);
          values_[k].s.assign(reinterpret_cast<const char*>(b), len);
          push(k);
          break;
        }
        std::uint64_t v = 0;
        for (std::size_t j = 0; j < len; ++j) v |= std::uint64_t{b[j]} << (8 * j);
        if (len > 0 && len < 8 && (b[len - 1] & 0x80)) v |= ~std::uint64_t{0} << (8 * len);
        push_int(V::kInt, static_cast<std::int64_t>(v));
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        const auto* b = bytes(8);
        std::uint64_t bits = 0;
        for (int j = 0; j < 8; ++j) bits = (bits << 8) | b[j];
        double d;
        std::memcpy(&d, &bits, 8);
        const int k = make(V::kFloat);
        values_[k].f = d;
        push(k);
        break;
      }
      case 'X':
        push_string(V::kStr, u32());
        break;  // BINUNICODE
      case 0x8c:
        push_string(V::kStr, byte());
        break;  // SHORT_BINUNICODE
      case 0x8d:
        push_string(V::kStr, u64());
        break;  // BINUNICODE8
      case 'U':
        push_string(V::kStr, byte(), true);
        break;  // SHORT_BINSTRING (Python 2 str)
      case 'T':
        push_string(V::kStr, u32(), true);
        break;  // BINSTRING
      case 'C':
        push_string(V::kBytes, byte());
        break;  // SHORT_BINBYTES
      case 'B':
        push_string(V::kBytes, u32());
        break;  // BINBYTES
      case 0x8e:
        push_string(V::kBytes, u64());
        break;     // BINBYTES8
      case 'c': {  // GLOBAL "module\nname\n"
        std::string module = line();
        std::string name = line();
        push_global(std::move(module), std::move(name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const int name = pop();
        const int module = pop();
        check(values_[name].kind == V::kStr && values_[module].kind == V::kStr,
              "{}: malformed pickle (STACK_GLOBAL)", what());
        push_global(values_[module].s, values_[name].s);
        break;
      }
      case 'q':
        memo_put(byte());
        break;  // BINPUT
      case 'r':
        memo_put(u32());
        break;  // LONG_BINPUT
      case 0x94:
        memo_put(static_cast<std::uint32_t>(memo_.size()));
        break;  // MEMOIZE
      case 'h':
        push(memo_get(byte()));
        break;  // BINGET
      case 'j':
        push(memo_get(u32()));
        break;  // LONG_BINGET
      case 't':
        push(make_seq(V::kTuple, pop_mark()));
        break;  // TUPLE
      case 0x85:
        push(make_seq(V::kTuple, pop_n(1)));
        break;  // TUPLE1
      case 0x86:
        push(make_seq(V::kTuple, pop_n(2)));
        break;  // TUPLE2
      case 0x87:
        push(make_seq(V::kTuple, pop_n(3)));
        break;  // TUPLE3
      case 'l':
        push(make_seq(V::kList, pop_mark()));
        break;     // LIST
      case 'a': {  // APPEND
        const int v = pop();
        add_items(top(), V::kList, {v});
        break;
      }
      case 'e': {  // APPENDS
        const auto vs = pop_mark();
        add_items(top(), V::kList, vs);
        break;
      }
      case 'd': {  // DICT
        auto kv = pop_mark();
        check(kv.size() % 2 == 0, "{}: malformed pickle (DICT)", what());
        push(make_seq(V::kDict, std::move(kv)));
        break;
      }
      case 's': {  // SETITEM
        const int v = pop();
        const int k = pop();
        add_items(top(), V::kDict, {k, v});
        break;
      }
      case 'u': {  // SETITEMS
        const auto kv = pop_mark();
        check(kv.size() % 2 == 0, "{}: malformed pickle (SETITEMS)", what());
        add_items(top(), V::kDict, kv);
        break;
      }
      case 'R': {  // REDUCE
        const int args = pop();
        const int callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'b':
        build(pop());
        break;     // BUILD
      case 'Q': {  // BINPERSID
        const int pid = pop();
        if (!options_.persistent_load) unsupported("the pickle holds a persistent id");
        push(options_.persistent_load(*this, pid));
        break;
      }
      default:
        unsupported(
            fmt::format("the pickle holds opcode 0x{:02x} at byte {}, which tutti does not read",
                        op, pos_ - 1));
    }
  }
}

void Unpickler::truncated() const { fail("{}: the pickle is truncated", what()); }

std::uint8_t Unpickler::byte() {
  if (pos_ >= n_) truncated();
  return p_[pos_++];
}

const std::uint8_t* Unpickler::bytes(std::uint64_t k) {
  if (k > n_ - pos_) truncated();
  const auto* b = p_ + pos_;
  pos_ += static_cast<std::size_t>(k);
  return b;
}

std::uint32_t Unpickler::u32() {
  const auto* b = bytes(4);
  std::uint32_t v = 0;
  for (int j = 0; j < 4; ++j) v |= static_cast<std::uint32_t>(b[j]) << (8 * j);
  return v;
}

std::uint64_t Unpickler::u64() {
  const auto* b = bytes(8);
  std::uint64_t v = 0;
  for (int j = 0; j < 8; ++j) v |= static_cast<std::uint64_t>(b[j]) << (8 * j);
  return v;
}

std::string Unpickler::line() {
  std::string out;
  for (;;) {
    const char c = static_cast<char>(byte());
    if (c == '\n') return out;
    out.push_back(c);
    check(out.size() <= 256, "{}: malformed pickle (GLOBAL name too long)", what());
  }
}

int Unpickler::make(PickleValue::Kind kind) {
  // Every opcode makes at most two values (one by a hook), so a valid input never needs more.
  check(values_.size() < 2 * n_ + 16, "{}: pickle: more values than {} input bytes can hold",
        what(), n_);
  values_.push_back(PickleValue{});
  values_.back().kind = kind;
  return static_cast<int>(values_.size() - 1);
}

void Unpickler::push(int k) {
  // Each push consumes at least one opcode byte.
  check(stack_.size() < n_, "{}: pickle: stack deeper than the {} input bytes", what(), n_);
  check(stack_.size() < options_.max_stack,
        "{}: pickle: more than {} values on the stack (limit of the reader)", what(),
        options_.max_stack);
  stack_.push_back(k);
}

void Unpickler::push_int(PickleValue::Kind kind, std::int64_t v) {
  const int k = make(kind);
  values_[k].i = v;
  push(k);
}

void Unpickler::push_string(PickleValue::Kind kind, std::uint64_t len, bool latin1) {
  const auto* b = bytes(len);
  const auto n = static_cast<std::size_t>(len);
  const int k = make(kind);
  if (latin1)
    values_[k].s = latin1_to_utf8(b, n);
  else
    values_[k].s.assign(reinterpret_cast<const char*>(b), n);
  push(k);
}

void Unpickler::push_global(std::string module, std::string name) {
  const int k = make(V::kGlobal);
  values_[k].s = std::move(module);
  values_[k].s2 = std::move(name);
  push(k);
}

int Unpickler::pop() {
  check(stack_.size() > floor(), "{}: malformed pickle (stack underflow)", what());
  const int k = stack_.back();
  stack_.pop_back();
  return k;
}

int Unpickler::top() const {
  check(stack_.size() > floor(), "{}: malformed pickle (stack underflow)", what());
  return stack_.back();
}

std::vector<int> Unpickler::pop_n(std::size_t k) {
  check(stack_.size() >= floor() + k, "{}: malformed pickle (stack underflow)", what());
  std::vector<int> out(stack_.end() - static_cast<std::ptrdiff_t>(k), stack_.end());
  stack_.resize(stack_.size() - k);
  return out;
}

std::vector<int> Unpickler::pop_mark() {
  check(!marks_.empty(), "{}: malformed pickle (no MARK)", what());
  const std::size_t m = marks_.back();
  marks_.pop_back();
  std::vector<int> out(stack_.begin() + static_cast<std::ptrdiff_t>(m), stack_.end());
  stack_.resize(m);
  return out;
}

int Unpickler::make_seq(PickleValue::Kind kind, std::vector<int> items) {
  const int k = make(kind);
  values_[k].items = std::move(items);
  return k;
}

void Unpickler::add_items(int container, PickleValue::Kind kind, const std::vector<int>& vs) {
  check(values_[container].kind == kind, "{}: malformed pickle ({} a {})", what(),
        kind == V::kList ? "append to" : "setitem on", pickle_kind_name(values_[container].kind));
  auto& items = values_[container].items;
  items.insert(items.end(), vs.begin(), vs.end());
}

void Unpickler::memo_put(std::uint32_t key) {
  check(!stack_.empty(), "{}: malformed pickle (memo on an empty stack)", what());
  memo_[key] = stack_.back();  // at most one entry per PUT opcode: bounded by the input length
}

int Unpickler::memo_get(std::uint32_t key) const {
  const auto it = memo_.find(key);
  check(it != memo_.end(), "{}: malformed pickle (unknown memo key {})", what(), key);
  return it->second;
}

int Unpickler::reduce(int callable, int args) {
  check(values_[args].kind == V::kTuple, "{}: malformed pickle (REDUCE args)", what());
  if (options_.reduce) return options_.reduce(*this, callable, args);
  const int k = make(V::kObject);
  values_[k].items = {callable, args};
  return k;
}

// BUILD (obj.__setstate__(state)): an inert object keeps the state as its third item; on any other
// value (a state dict's _metadata on an OrderedDict) the state is dropped.
void Unpickler::build(int state) {
  const int k = top();
  if (values_[k].kind != V::kObject) return;
  auto& items = values_[k].items;
  items.resize(2);
  items.push_back(state);
}

}  // namespace tutti::core
