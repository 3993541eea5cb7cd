#include "tutti/core/work_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
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

unsigned core_count() { return std::max(1u, std::thread::hardware_concurrency()); }

unsigned resolve_threads(int threads, unsigned cores) {
  if (threads <= 0) return cores;
  const unsigned most = 4 * cores;
  check<UsageError>(static_cast<unsigned>(threads) <= most,
                    "--threads {}: at most {} on this machine (4 x {} cores)", threads, most,
                    cores);
  return static_cast<unsigned>(threads);
}

unsigned resolve_threads(int threads) { return resolve_threads(threads, core_count()); }

namespace {

// procs_running from /proc/stat (every runnable thread of the machine), -1 if unreadable.
int procs_running() {
  std::ifstream in("/proc/stat");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with("procs_running ")) return std::atoi(line.c_str() + 14);
  return -1;
}

// This process's threads in state R (running or runnable), from /proc/self/task/*/stat.
int own_running_threads() {
  int n = 0;
  std::error_code ec;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
    std::ifstream in(task.path() / "stat");
    std::string stat;
    std::getline(in, stat);
    // "tid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses).
    const auto close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'R') ++n;
  }
  return n;
}

}  // namespace

double other_runnable_threads(int samples) {
  double sum = 0;
  int taken = 0;
  for (int i = 0; i < samples; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const int all = procs_running();
    if (all < 0) return 0;
    sum += std::max(0, all - own_running_threads());
    ++taken;
  }
  return taken > 0 ? sum / taken : 0;
}

bool cores_contended(unsigned threads, double others, unsigned cores) {
  return static_cast<double>(threads) + others > static_cast<double>(cores) + 0.5;
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
