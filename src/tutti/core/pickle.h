// A Python pickle *reader* that executes no code and imports nothing: it interprets the opcodes of
// protocols 2 to 5 that plain data uses (numpy object arrays of str, torch.save's data.pkl) and
// builds inert values. What a GLOBAL names is kept as a name; REDUCE (a call) and BINPERSID (a
// persistent id) are handed to the caller, who decides what, if anything, they build.
//
//   core::PickleOptions o;
//   o.what = "model.pth";
//   o.reads = "tutti reads dicts of tensors only";
//   o.reduce = [](core::Unpickler& u, int callable, int args) { ... return u.make(...); };
//   core::Unpickler u(bytes.data(), bytes.size(), o);
//   const int root = u.run();               // index of the root value
//   const core::PickleValue& v = u.value(root);
//
// Errors: tutti::Error "<what>: ..." for a malformed or truncated pickle, an opcode outside the
// accepted set, and for inputs whose stack, memo or value count would exceed what their length
// can encode, or whose stack or MARK nesting exceeds PickleOptions::max_stack (so a small hostile
// input, even one inflated from a few kilobytes of deflate, cannot make the reader allocate
// gigabytes).
// Reference: CPython Lib/pickletools.py (the opcode table), Lib/pickle.py (the interpreter).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tutti::core {

// One unpickled value. Containers refer to other values by index, so memoized values are shared
// (a dict filled by SETITEMS after it was memoized, a storage used by several tensors).
struct PickleValue {
  enum Kind {
    kNone,
    kBool,
    kInt,     // i
    kBigInt,  // s: the LONG1 bytes (little-endian two's complement) of an int beyond 64 bits
    kFloat,   // f
    kStr,     // s: UTF-8 (Python 2 byte strings are read as Latin-1)
    kBytes,   // s
    kTuple,   // items
    kList,    // items
    kDict,    // items: key0, value0, key1, value1, ...
    kGlobal,  // s: module, s2: name
    kObject,  // the default REDUCE result: items = {callable, args[, BUILD state]}
    kCustom,  // made by a caller's hook: tag and i are the caller's
  };
  Kind kind = kNone;
  std::int64_t i = 0;
  double f = 0;
  std::string s, s2;
  std::vector<int> items;
  int tag = 0;
};

// Name of a kind for error messages ("str", "dict", ...).
const char* pickle_kind_name(PickleValue::Kind kind);

class Unpickler;

// Python's pickler pushes list, dict and set items in batches of 1000 (pickle.py _BATCHSIZE), so
// the data tutti reads (state dicts, numpy arrays of str) keeps a few thousand values on the
// stack at most; an input that piles up more is refused early.
inline constexpr std::size_t kDefaultPickleMaxStack = std::size_t{1} << 16;

struct PickleOptions {
  std::string what = "pickle";  // names the input in every error message
  // Says what the caller reads, appended to errors about unsupported input, e.g. "only arrays of
  // str are supported".
  std::string reads;
  // When not empty, the only opcodes accepted (a defence in depth for callers that need few).
  std::string_view opcodes;
  // REDUCE: callable(*args), args a tuple; returns the index of the value it stands for. Empty:
  // an inert kObject {callable, args}.
  std::function<int(Unpickler&, int callable, int args)> reduce;
  // BINPERSID: returns the value for a persistent id. Empty: persistent ids are an error.
  std::function<int(Unpickler&, int pid)> persistent_load;
  // Most values on the stack at once, and most open MARKs (besides the input-length bounds).
  std::size_t max_stack = kDefaultPickleMaxStack;
};

class Unpickler {
 public:
  // Reads from data[0, size); the bytes must outlive the Unpickler.
  Unpickler(const std::uint8_t* data, std::size_t size, PickleOptions options);

  // Interprets opcodes up to and including the next STOP; returns the root value's index.
  int run();
  // Bytes consumed so far (a file may hold several pickles one after another).
  std::size_t pos() const { return pos_; }

  const PickleValue& value(int k) const { return values_.at(static_cast<std::size_t>(k)); }
  const std::vector<PickleValue>& values() const { return values_; }
  // A new value of `kind` (for hooks); the reference is valid until the next make().
  int make(PickleValue::Kind kind);
  PickleValue& mutable_value(int k) { return values_.at(static_cast<std::size_t>(k)); }
  const std::string& what() const { return options_.what; }

  // Throws "<what>: <message> (<reads>)" naming what the caller supports.
  [[noreturn]] void unsupported(const std::string& message) const;

 private:
  [[noreturn]] void truncated() const;
  std::uint8_t byte();
  const std::uint8_t* bytes(std::uint64_t k);
  std::uint32_t u32();
  std::uint64_t u64();
  std::string line();
  void push(int k);
  void push_int(PickleValue::Kind kind, std::int64_t v);
  void push_string(PickleValue::Kind kind, std::uint64_t len, bool latin1 = false);
  void push_global(std::string module, std::string name);
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  int pop();
  int top() const;
  std::vector<int> pop_n(std::size_t k);
  std::vector<int> pop_mark();
  int make_seq(PickleValue::Kind kind, std::vector<int> items);
  void add_items(int container, PickleValue::Kind kind, const std::vector<int>& vs);
  void memo_put(std::uint32_t key);
  int memo_get(std::uint32_t key) const;
  int reduce(int callable, int args);
  void build(int state);

  const std::uint8_t* p_;
  std::size_t n_;
  std::size_t pos_ = 0;
  PickleOptions options_;
  std::vector<PickleValue> values_;
  std::vector<int> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint32_t, int> memo_;
};

}  // namespace tutti::core
