// tutti: instrument recognition from weakly labeled music. Verbs live in cmd_*.cpp.
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/core/signals.h"
#include "tutti/core/work_pool.h"

namespace tutti::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace tutti::cli

namespace {

// LibTorch parallelizes each op over its intra-op threads (--threads). Left alone, OpenBLAS adds
// its own threads inside those ops and libgomp's idle workers spin between ops; on 2 cores that
// oversubscription made ATT training 7x slower (docs/benchmarks.md). So OpenBLAS runs single-
// threaded inside torch's threads. How libgomp's workers wait for the next op depends on whether
// the cores are ours: on idle cores a bounded spin (about 10 ms) before sleeping made autograd
// training on 2 threads 1.7x faster than sleeping at once; but when other processes keep the
// cores busy, a worker spinning for a thread that the scheduler has put aside burns the slice the
// others need, and ATT training ran 20x slower than with passive waits. libgomp reads its wait
// policy once, when the library loads, before main; so the load is sampled here, the policy set,
// and the program re-executes itself once. Later changes of load are met by the thread count
// (models::adapt_threads_to_load, automatic threads only). Values the user set are kept.
void ensure_thread_environment(char** argv) {
  if (std::getenv("TUTTI_THREAD_ENV")) return;
  ::setenv("TUTTI_THREAD_ENV", "1", 1);
  ::setenv("OPENBLAS_NUM_THREADS", "1", 0);
  if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
    const unsigned cores = tutti::core::core_count();
    if (tutti::core::cores_contended(cores, tutti::core::other_runnable_threads(), cores))
      ::setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    else
      ::setenv("GOMP_SPINCOUNT", "30000000", 1);
  }
  ::execv("/proc/self/exe", argv);  // returns only on failure: then run as we are
}

}  // namespace

int main(int argc, char** argv) {
  ensure_thread_environment(argv);
  // Ctrl-C or a kill during a write removes this run's staging files before the process dies.
  tutti::core::install_signal_cleanup();
  CLI::App app{"tutti: which instruments play in polyphonic music, and when"};
  app.set_version_flag("--version", std::string("tutti ") + TUTTI_VERSION);
  app.require_subcommand(1);
  auto& registry = tutti::cli::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& cmd : registry) cmd.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tutti: %s\n", e.what());
    return 2;
  } catch (const tutti::UsageError& e) {
    std::fprintf(stderr, "tutti: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    // One line: a library error that escaped its component (LibTorch, xgboost) may carry a
    // backtrace after its first line.
    const std::string msg = e.what();
    std::fprintf(stderr, "tutti: error: %s\n", msg.substr(0, msg.find('\n')).c_str());
    return 1;
  }
  return 0;
}
