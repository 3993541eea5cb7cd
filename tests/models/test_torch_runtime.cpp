// setup_torch's thread count: bounded, exact when given, and following the load only when it is
// tutti's choice and OpenMP's idle threads spin (models/torch_runtime.h).
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "busy_processes.h"
#include "threads_guard.h"
#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"
#include "tutti/models/torch_runtime.h"

namespace tutti::models {
namespace {

// Sets or clears an environment variable for a scope (omp_waits_spin reads it at each call).
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) saved_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~EnvGuard() {
    if (saved_)
      ::setenv(name_, saved_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

const int kCores = static_cast<int>(core::core_count());

TEST(TorchRuntime, ThreadsAboveFourPerCoreAreAUsageError) {
  testing::ThreadsGuard keep(1);
  try {
    setup_torch(100000);
    FAIL() << "100000 threads accepted";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()), "--threads 100000: at most " + std::to_string(4 * kCores) +
                                         " on this machine (4 x " + std::to_string(kCores) +
                                         " cores)");
  }
  EXPECT_EQ(torch::get_num_threads(), 1);  // nothing changed
  setup_torch(4 * kCores);
  EXPECT_EQ(torch::get_num_threads(), 4 * kCores);
}

TEST(TorchRuntime, WaitPolicyFromTheEnvironment) {
  {
    EnvGuard p("OMP_WAIT_POLICY", "passive");
    EnvGuard s("GOMP_SPINCOUNT", "30000000");
    EXPECT_FALSE(omp_waits_spin());
  }
  {
    EnvGuard p("OMP_WAIT_POLICY", nullptr);
    EnvGuard s("GOMP_SPINCOUNT", "0");
    EXPECT_FALSE(omp_waits_spin());
  }
  EnvGuard p("OMP_WAIT_POLICY", nullptr);
  EnvGuard s("GOMP_SPINCOUNT", "30000000");
  EXPECT_TRUE(omp_waits_spin());
  EnvGuard a("OMP_WAIT_POLICY", "ACTIVE");
  EXPECT_TRUE(omp_waits_spin());
}

TEST(TorchRuntime, UnderLoadOnlyAutomaticThreadsWithSpinningWaitsDropToOne) {
  testing::ThreadsGuard keep(1);
  EnvGuard p("OMP_WAIT_POLICY", nullptr);
  EnvGuard s("GOMP_SPINCOUNT", "30000000");
  testing::BusyProcesses busy(kCores + 1);
  setup_torch(2);  // explicit: the same bits whatever the load
  EXPECT_EQ(torch::get_num_threads(), 2);
  EXPECT_EQ(adapt_threads_to_load(), 2);
  EXPECT_EQ(torch::get_num_threads(), 2);
  setup_torch(0);  // automatic
  EXPECT_EQ(torch::get_num_threads(), 1);
  EXPECT_EQ(adapt_threads_to_load(), 1);
}

TEST(TorchRuntime, AutomaticThreadsKeepEveryCoreWithPassiveWaits) {
  testing::ThreadsGuard keep(1);
  EnvGuard p("OMP_WAIT_POLICY", "PASSIVE");
  testing::BusyProcesses busy(kCores + 1);
  setup_torch(0);
  EXPECT_EQ(torch::get_num_threads(), kCores);
  EXPECT_EQ(adapt_threads_to_load(), kCores);
  EXPECT_EQ(torch::get_num_threads(), kCores);
}

}  // namespace
}  // namespace tutti::models
