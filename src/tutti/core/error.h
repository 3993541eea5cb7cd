// tutti::Error and friends: the one way the library reports failure.
//
// Library code never prints to stdout or exits; it throws. Messages name the component, the file
// and the bad value, e.g. "npz: /tmp/x.npz: array 'Y_mask' has dtype '<f4', expected '|b1'".
// `main` maps UsageError to exit code 2 and every other Error to 1.
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace tutti {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Impossible options or arguments: the caller asked for something that cannot be done.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Format helper: throw tutti::Error (or a subtype) with an fmt-formatted message.
template <typename E = Error, typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> f, Args&&... args) {
  throw E(fmt::format(f, std::forward<Args>(args)...));
}

// Checks a condition that depends on input (not a programming error).
template <typename E = Error, typename... Args>
void check(bool ok, fmt::format_string<Args...> f, Args&&... args) {
  if (!ok) throw E(fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace tutti
