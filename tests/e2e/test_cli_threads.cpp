// End-to-end: every verb that takes --threads refuses more than 4 threads per core at once, with
// one usage line (exit 2) and no output file, instead of starting thousands of threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "cli_runner.h"
#include "test_util.h"

namespace {

using tutti::testing::fixture;
using tutti::testing::run_cli;
using tutti::testing::TempDir;

std::string fx(const std::string& name) { return fixture("train/" + name).string(); }

std::string limit_message(int threads) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return "--threads " + std::to_string(threads) + ": at most " + std::to_string(4 * cores) +
         " on this machine (4 x " + std::to_string(cores) + " cores)";
}

void expect_refused(const std::vector<std::string>& args, const std::filesystem::path& out) {
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = run_cli(args);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.exit_code, 2) << args[0] << ": " << r.err;
  EXPECT_EQ(r.err, "tutti: " + limit_message(100000) + "\n") << args[0];
  EXPECT_FALSE(std::filesystem::exists(out)) << args[0];
  // Refused before any thread starts (~1,900 threads ran for minutes without the bound); the
  // margin is for a loaded machine, not a benchmark.
  EXPECT_LT(seconds, 30.0) << args[0];
}

TEST(CliThreads, TooManyThreadsIsAUsageErrorOnEveryVerb) {
  TempDir dir;
  const auto model = (dir / "att.tutti").string();
  for (const char* m : {"att", "rf"})
    expect_refused({"train", fx("train_small.npz"), "--model", m, "--epochs", "1", "--threads",
                    "100000", "-o", model},
                   model);
  auto r = run_cli({"train", fx("train_small.npz"), "--model", "att", "--epochs", "1", "--threads",
                    "1", "-o", model});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto pred = dir / "pred.npz";
  expect_refused(
      {"predict", model, fx("test_small.npz"), "--threads", "100000", "-o", pred.string()}, pred);
  expect_refused({"eval", model, fx("test_small.npz"), "--threads", "100000"}, dir / "none");
}

TEST(CliThreads, FourThreadsPerCoreAreAccepted) {
  TempDir dir;
  const auto model = (dir / "att.tutti").string();
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const auto r = run_cli({"train", fx("train_small.npz"), "--model", "att", "--epochs", "1",
                          "--threads", std::to_string(4 * cores), "-o", model});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(model));
  const auto over = run_cli({"train", fx("train_small.npz"), "--model", "att", "--epochs", "1",
                             "--threads", std::to_string(4 * cores + 1), "-o", model + "2"});
  EXPECT_EQ(over.exit_code, 2);
  EXPECT_EQ(over.err, "tutti: " + limit_message(static_cast<int>(4 * cores + 1)) + "\n");
}

}  // namespace
