// The `tutti` program: sets the thread variables of libgomp and OpenBLAS, then loads the commands
// (libtutti_app.so next to it: apps/tutti/*.cpp with LibTorch and every other library) and runs
// them.
//
// LibTorch parallelizes each op over its intra-op threads (--threads). Left alone, OpenBLAS adds
// its own threads inside those ops and libgomp's idle workers spin between ops; on 2 cores that
// oversubscription made ATT training 7x slower (docs/benchmarks.md). So OpenBLAS runs single-
// threaded inside torch's threads. How libgomp's workers wait for the next op depends on whether
// the cores are ours: on idle cores a bounded spin (about 10 ms) before sleeping made autograd
// training on 2 threads 1.7x faster than sleeping at once; but when other processes keep the
// cores busy, a worker spinning for a thread that the scheduler has put aside burns the slice the
// others need, and ATT training ran 20x slower than with passive waits. libgomp and OpenBLAS read
// these variables once, in their initializers, when they load. Nothing here links them: they load
// with the commands' library, after the variables are set. (Linked into the program, they load
// before main; the program then had to re-execute itself to pass the variables, which paid the
// start-up of LibTorch twice, 0.4 s of CPU per command. Neither .preinit_array nor an early
// library initializer can set them: libc's initializer resets the environment to the one the
// process started with, and libgomp's users load before any library of tutti.) Later changes of
// load are met by the thread count (models::adapt_threads_to_load, automatic threads only).
// Values the user set are kept, and child processes keep their parent's choice.
#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

#include "tutti/core/work_pool.h"

namespace {

void set_thread_environment() {
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
}

}  // namespace

int main(int argc, char** argv) {
  set_thread_environment();
  // Next to the program itself, wherever it was started from; else (a copy of the program
  // elsewhere) where the loader looks: LD_LIBRARY_PATH, the program's run path (the build tree).
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  std::string lib = (ec ? std::filesystem::path(argv[0]) : self).parent_path() / "libtutti_app.so";
  if (!std::filesystem::exists(lib, ec)) lib = "libtutti_app.so";
  void* app = ::dlopen(lib.c_str(), RTLD_LAZY);
  if (!app) {
    std::fprintf(stderr, "tutti: error: cannot load the commands: %s\n", ::dlerror());
    return 1;
  }
  using Main = int (*)(int, char**);
  const auto run = reinterpret_cast<Main>(::dlsym(app, "tutti_main"));
  if (!run) {
    std::fprintf(stderr, "tutti: error: %s has no tutti_main: %s\n", lib.c_str(), ::dlerror());
    return 1;
  }
  return run(argc, argv);
}
