#include "tutti/core/work_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "tutti/core/error.h"

namespace tutti::core {

namespace {

// The shared loop: every worker takes the next index until none is left or `stop` is set.
// `run_item` returns false to stop the pool (no new items are started).
void run_pool(std::size_t n, int threads, const std::function<bool(std::size_t)>& run_item,
              const WorkProgress& progress) {
  check<UsageError>(threads >= 0, "work pool: threads must be >= 0 (0 = all cores), got {}",
                    threads);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex progress_mu;
  std::size_t done = 0;
  auto worker = [&] {
    for (std::size_t i; !stop.load() && (i = next.fetch_add(1)) < n;) {
      if (!run_item(i)) stop = true;
      if (progress) {
        std::lock_guard lock(progress_mu);
        progress(++done, n);
      }
    }
  };
  const auto t = static_cast<std::size_t>(std::min<std::size_t>(resolve_threads(threads), n));
  std::vector<std::jthread> pool;
  for (std::size_t k = 1; k < t; ++k) pool.emplace_back(worker);
  worker();
}

}  // namespace

unsigned resolve_threads(int threads) {
  if (threads > 0) return static_cast<unsigned>(threads);
  return std::max(1u, std::thread::hardware_concurrency());
}

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& f,
                  const WorkProgress& progress) {
  std::vector<std::exception_ptr> errors(n);
  run_pool(
      n, threads,
      [&](std::size_t i) {
        try {
          f(i);
          return true;
        } catch (...) {
          errors[i] = std::current_exception();
          return false;
        }
      },
      progress);
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
}

std::vector<std::string> parallel_for_each(std::size_t n, int threads,
                                           const std::function<void(std::size_t)>& f,
                                           const WorkProgress& progress) {
  std::vector<std::string> errors(n);
  run_pool(
      n, threads,
      [&](std::size_t i) {
        try {
          f(i);
        } catch (const std::exception& e) {
          errors[i] = e.what();
          if (errors[i].empty()) errors[i] = "unknown error";
        } catch (...) {
          errors[i] = "unknown error";
        }
        return true;
      },
      progress);
  return errors;
}

}  // namespace tutti::core
