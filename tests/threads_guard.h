// Sets LibTorch's intra-op thread count for a scope and restores it afterwards, also when an
// assertion leaves the test early (tests that compare results across thread counts).
#pragma once

#include <ATen/Parallel.h>

namespace tutti::testing {

struct ThreadsGuard {
  int saved = at::get_num_threads();
  explicit ThreadsGuard(int n) { at::set_num_threads(n); }
  ~ThreadsGuard() { at::set_num_threads(saved); }
  ThreadsGuard(const ThreadsGuard&) = delete;
  ThreadsGuard& operator=(const ThreadsGuard&) = delete;
};

}  // namespace tutti::testing
