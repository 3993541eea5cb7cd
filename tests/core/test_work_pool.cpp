#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"

namespace tutti::core {
namespace {

TEST(WorkPool, EveryItemRunsOnceWhateverTheThreadCount) {
  for (int threads : {0, 1, 2, 3, 8, 64}) {
    std::vector<std::atomic<int>> runs(257);
    parallel_for(runs.size(), threads, [&](std::size_t i) { ++runs[i]; });
    for (const auto& r : runs) ASSERT_EQ(r.load(), 1) << threads;
  }
  parallel_for(0, 4, [](std::size_t) { FAIL() << "no item to run"; });
  EXPECT_GE(resolve_threads(0), 1u);
  EXPECT_EQ(resolve_threads(3), 3u);
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
