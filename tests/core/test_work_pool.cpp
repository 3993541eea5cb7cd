#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "busy_processes.h"
#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"

namespace tutti::core {
namespace {

TEST(WorkPool, EveryItemRunsOnceWhateverTheThreadCount) {
  for (int threads : {0, 1, 2, 3, 8, static_cast<int>(4 * core_count())}) {
    std::vector<std::atomic<int>> runs(257);
    parallel_for(runs.size(), threads, [&](std::size_t i) { ++runs[i]; });
    for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << threads;
  }
  parallel_for(0, 4, [](std::size_t) { FAIL() << "no item to run"; });
  EXPECT_GE(resolve_threads(0), 1u);
  EXPECT_EQ(resolve_threads(3), 3u);
}

TEST(WorkPool, ThreadRequestsAreBoundedByFourPerCore) {
  EXPECT_EQ(resolve_threads(0, 3), 3u);
  EXPECT_EQ(resolve_threads(1, 2), 1u);
  EXPECT_EQ(resolve_threads(8, 2), 8u);
  try {
    resolve_threads(9, 2);
    FAIL() << "9 threads on 2 cores accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--threads 9: at most 8 on this machine (4 x 2 cores)");
  }
  EXPECT_THROW(resolve_threads(100000), UsageError);
  EXPECT_EQ(resolve_threads(static_cast<int>(4 * core_count())), 4 * core_count());
  EXPECT_THROW(resolve_threads(static_cast<int>(4 * core_count() + 1)), UsageError);
  // The work pool resolves through the same bound before it starts a thread.
  EXPECT_THROW(parallel_for(1, 100000, [](std::size_t) { FAIL() << "ran"; }), UsageError);
}

TEST(WorkPool, CoresAreContendedWhenOthersLeaveFewerFreeThanWeUse) {
  EXPECT_FALSE(cores_contended(2, 0.0, 2));
  EXPECT_FALSE(cores_contended(2, 0.5, 2));  // a process that comes and goes
  EXPECT_TRUE(cores_contended(2, 1.0, 2));
  EXPECT_TRUE(cores_contended(2, 2.0, 2));
  EXPECT_FALSE(cores_contended(1, 1.0, 2));  // one thread still finds a free core
  EXPECT_TRUE(cores_contended(1, 2.0, 2));
  EXPECT_FALSE(cores_contended(4, 3.0, 8));
}

TEST(WorkPool, OtherRunnableThreadsCountsBusyProcessesButNotOurThreads) {
  const unsigned cores = core_count();
  {
    testing::BusyProcesses busy(static_cast<int>(cores) + 1);
    ASSERT_EQ(busy.started(), static_cast<int>(cores) + 1);
    // Each child is runnable throughout (on a core or waiting for one): all of them are seen.
    EXPECT_GE(other_runnable_threads(), cores + 0.5);
    EXPECT_TRUE(cores_contended(cores, other_runnable_threads(), cores));
  }
  // Busy threads of this process are ours, not others': with as many as the cores running, the
  // count stays below what the same number of busy processes gives (it sees only the rest of the
  // machine; bounded by the processes counted just before).
  std::atomic<bool> stop{false};
  std::vector<std::jthread> spinners;
  for (unsigned i = 0; i < cores + 1; ++i)
    spinners.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
      }
    });
  const double with_own = other_runnable_threads();
  stop = true;
  spinners.clear();
  testing::BusyProcesses busy(static_cast<int>(cores) + 1);
  EXPECT_LT(with_own, other_runnable_threads());
}

TEST(WorkPool, RethrowsTheLowestNumberedFailureAndStartsNothingAfterIt) {
  for (int threads : {1, 2, 4}) {
    std::atomic<int> started{0};
    try {
      parallel_for(100, threads, [&](std::size_t i) {
        ++started;
        if (i == 3 || i == 5) throw Error("item " + std::to_string(i));
      });
      FAIL() << "no exception";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(), "item 3") << threads;
    }
    // One thread: nothing after the failing item starts (with more, items taken meanwhile may).
    if (threads == 1) EXPECT_EQ(started.load(), 4);
  }
}

TEST(WorkPool, ForEachRecordsEveryFailureAndGoesOn) {
  const auto errors = parallel_for_each(6, 3, [](std::size_t i) {
    if (i == 1) throw std::runtime_error("bad file");
    if (i == 2) throw std::runtime_error("");
    if (i == 4) throw 42;
  });
  EXPECT_EQ(errors,
            (std::vector<std::string>{"", "bad file", "unknown error", "", "unknown error", ""}));
}

TEST(WorkPool, ProgressIsSerializedAndCountsUp) {
  std::vector<std::size_t> seen;  // no lock: the pool serializes the calls
  std::atomic<int> inside{0};
  bool overlapped = false;
  parallel_for(
      200, 4, [](std::size_t) { std::this_thread::yield(); },
      [&](std::size_t done, std::size_t total) {
        if (++inside > 1) overlapped = true;
        EXPECT_EQ(total, 200u);
        seen.push_back(done);
        --inside;
      });
  EXPECT_FALSE(overlapped);
  ASSERT_EQ(seen.size(), 200u);
  for (std::size_t k = 0; k < seen.size(); ++k) EXPECT_EQ(seen[k], k + 1);
}

TEST(WorkPool, NegativeThreadsIsAUsageError) {
  EXPECT_THROW(parallel_for(3, -1, [](std::size_t) {}), UsageError);
  EXPECT_THROW(parallel_for_each(3, -1, [](std::size_t) {}), UsageError);
}

}  // namespace
}  // namespace tutti::core
