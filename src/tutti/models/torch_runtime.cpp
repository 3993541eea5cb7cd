#include "tutti/models/torch_runtime.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <strings.h>

#include <atomic>
#include <cstdlib>
#include <string_view>

#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"

namespace tutti::models {

namespace {

// Autograd frees and reallocates the same multi-megabyte activations at every step. glibc's
// defaults serve blocks over its mmap threshold with fresh pages and give freed heap back to the
// kernel, so each step paid page faults and page clearing (about 8 % of an MMGAT step in perf;
// docs/benchmarks.md). Keep such blocks in the heap and the heap untrimmed.
void keep_freed_memory() {
#ifdef __GLIBC__
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
    return true;
  }();
  (void)once;
#endif
}

// Whether the thread count is tutti's choice (setup_torch(0)), so that it may follow the load.
std::atomic<bool> auto_threads{false};

}  // namespace

bool omp_waits_spin() {
  const char* policy = std::getenv("OMP_WAIT_POLICY");
  if (policy && strcasecmp(policy, "passive") == 0) return false;
  const char* spin = std::getenv("GOMP_SPINCOUNT");
  return !(spin && std::string_view(spin) == "0");
}

int adapt_threads_to_load() {
  if (!auto_threads.load() || !omp_waits_spin()) return torch::get_num_threads();
  const unsigned cores = core::core_count();
  const bool contended = core::cores_contended(cores, core::other_runnable_threads(4), cores);
  const int want = contended ? 1 : static_cast<int>(cores);
  if (torch::get_num_threads() != want) torch::set_num_threads(want);
  return want;
}

torch::Device setup_torch(int threads, const std::string& device) {
  keep_freed_memory();
  const auto n = static_cast<int>(core::resolve_threads(threads));
  auto_threads = threads == 0;
  if (auto_threads && omp_waits_spin())
    adapt_threads_to_load();
  else
    torch::set_num_threads(n);
  if (device == "cuda") {
    check<UsageError>(torch::cuda::is_available(),
                      "--device cuda: this tutti was built with a CPU-only LibTorch (or no CUDA "
                      "device is visible); use --device cpu");
    return torch::Device(torch::kCUDA);
  }
  check<UsageError>(device == "cpu", "--device {}: expected cpu or cuda", device);
  return torch::Device(torch::kCPU);
}

}  // namespace tutti::models
