#include "tutti/models/torch_runtime.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <thread>

#include "tutti/core/error.h"

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

}  // namespace

torch::Device setup_torch(int threads, const std::string& device) {
  keep_freed_memory();
  torch::set_num_threads(
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
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
