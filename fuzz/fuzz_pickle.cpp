// libFuzzer target: arbitrary bytes through core's pickle reader, once as plain data (inert
// REDUCE, no persistent ids) and once with hooks like the .pth reader's (a call and a persistent
// id both build new values). tutti::Error is an expected rejection; crashes, sanitizer reports,
// other exceptions, and values that point outside the value table are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_pickle/ (tools/fixtures/make_pickle_corpus.py).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "tutti/core/error.h"
#include "tutti/core/pickle.h"

namespace {

using tutti::core::PickleValue;

void check_values(const tutti::core::Unpickler& u, int root) {
  const auto& values = u.values();
  if (root < 0 || static_cast<std::size_t>(root) >= values.size()) std::abort();
  for (const auto& v : values)
    for (int k : v.items)
      if (k < 0 || static_cast<std::size_t>(k) >= values.size()) std::abort();
}

void run(const std::uint8_t* data, std::size_t size, tutti::core::PickleOptions options) {
  try {
    tutti::core::Unpickler u(data, size, std::move(options));
    const int root = u.run();
    if (u.pos() > size) std::abort();
    check_values(u, root);
  } catch (const tutti::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  run(data, size, {.what = "fuzz"});
  tutti::core::PickleOptions hooks;
  hooks.what = "fuzz";
  hooks.reduce = [](tutti::core::Unpickler& u, int, int args) {
    const int k = u.make(PickleValue::kCustom);
    u.mutable_value(k).items = {args};
    return k;
  };
  hooks.persistent_load = [](tutti::core::Unpickler& u, int) { return u.make(PickleValue::kNone); };
  run(data, size, std::move(hooks));
  return 0;
}
