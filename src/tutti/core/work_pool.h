// Running independent items on several threads, with results that do not depend on the thread
// count: the caller stores item i's result in slot i and combines the slots in order afterwards.
//
//   std::vector<Result> out(n);
//   core::parallel_for(n, threads, [&](std::size_t i) { out[i] = work(i); });
//
// Threads take the next unstarted item in increasing order; the calling thread is one of them (so
// one thread, or one item, runs without starting a thread).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace tutti::core {

// The cores of this machine (std::thread::hardware_concurrency, at least 1).
unsigned core_count();

// Threads to use for a request of `threads` on `cores` cores: itself when > 0, every core when 0.
// More than 4 threads per core only add start-up time and memory (each thread has its own stack
// and scratch buffers), so a larger request is refused: throws tutti::UsageError
// "--threads N: at most M on this machine (4 x cores)".
unsigned resolve_threads(int threads, unsigned cores);
unsigned resolve_threads(int threads);  // on core_count() cores

// Threads of other processes that are runnable (running or waiting for a core): the mean of
// `samples` reads of procs_running in /proc/stat taken 1 ms apart, less this process's own
// running threads at each read. 0 where /proc cannot be read.
double other_runnable_threads(int samples = 8);

// Whether `threads` threads of ours would find fewer than that many of the `cores` cores free
// while `others` threads of other processes are runnable (half a thread of slack, so that a
// process that comes and goes does not count).
bool cores_contended(unsigned threads, double others, unsigned cores);

// Called after each finished item with the number finished so far and the total; calls never
// overlap (they are serialized by the pool), so the callback needs no lock of its own. It must
// not throw.
using WorkProgress = std::function<void(std::size_t done, std::size_t total)>;

// Runs f(i) for every i in [0, n) on min(resolve_threads(threads), n) threads. After an item
// throws, no new item is started; once every thread has finished, the exception of the
// lowest-numbered failing item is rethrown (the same error whatever the thread count).
// Throws tutti::UsageError for threads < 0.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& f,
                  const WorkProgress& progress = {});

// Runs f(i) for every i in [0, n) like parallel_for, but every item runs whatever the others do:
// returns, per item, the message of the std::exception it threw ("unknown error" when that is
// empty or the exception is no std::exception), or "" when it succeeded.
std::vector<std::string> parallel_for_each(std::size_t n, int threads,
                                           const std::function<void(std::size_t)>& f,
                                           const WorkProgress& progress = {});

}  // namespace tutti::core
