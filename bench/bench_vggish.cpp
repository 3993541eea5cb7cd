// VGGish network throughput (examples/s), random weights, LibTorch C++ side of
// bench/vggish_side_by_side.sh (the PyTorch eager side is bench/vggish_side_by_side.py).
//
//   OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000 ./build/bench/bench_vggish
//
// Args: {intra-op threads, batch}. Counter examples_per_s uses wall time (the intra-op threads'
// CPU time is not the main thread's).
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <vector>

#include "tutti/embed/vggish.h"

namespace {

void BM_VggishForward(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  const auto batch = state.range(1);
  torch::manual_seed(1);
  tutti::embed::VggishNet net;
  net->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({batch, 1, 96, 64}) - 1.0;
  net->forward(x);  // warm-up (allocator, kernels)
  for (auto _ : state) benchmark::DoNotOptimize(net->forward(x));
  state.counters["examples_per_s"] = benchmark::Counter(
      static_cast<double>(state.iterations() * batch), benchmark::Counter::kIsRate);
  state.counters["threads"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_VggishForward)
    ->Args({1, 32})
    ->Args({2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);

// The whole embedder path: network + PCA + uint8 (VggishModel::embed), 2 threads.
void BM_VggishEmbed(benchmark::State& state) {
  torch::set_num_threads(static_cast<int>(state.range(0)));
  const auto n = static_cast<std::size_t>(state.range(1));
  torch::manual_seed(1);
  tutti::embed::VggishPca pca;
  pca.eigen_vectors.assign(128 * 128, 0.01);
  pca.means.assign(128, 0.5);
  tutti::embed::VggishModel model(tutti::embed::VggishNet(), pca);
  const auto x = (torch::randn({static_cast<std::int64_t>(n), 96, 64}) - 1.0).contiguous();
  const std::span<const float> ex(x.data_ptr<float>(), static_cast<std::size_t>(x.numel()));
  for (auto _ : state) benchmark::DoNotOptimize(model.embed(ex, n));
  state.counters["examples_per_s"] =
      benchmark::Counter(static_cast<double>(state.iterations() * n), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_VggishEmbed)
    ->Args({2, 32})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MinTime(5.0);

// Loading a .tutti-embedder ($TUTTI_VGGISH, either format version) and the first forward pass of
// one example, which touches every weight (a version 2 file's pages are read from the page cache
// then). Counters: load_s (VggishModel::load), first_pass_s.
void BM_VggishLoad(benchmark::State& state) {
  const char* file = std::getenv("TUTTI_VGGISH");
  if (!file) {
    state.SkipWithError("set TUTTI_VGGISH to a .tutti-embedder file");
    return;
  }
  torch::set_num_threads(1);
  const std::vector<float> example(96 * 64, -1.0f);
  double load_s = 0, first_s = 0;
  for (auto _ : state) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto model = tutti::embed::VggishModel::load(file);
    const auto t1 = std::chrono::steady_clock::now();
    benchmark::DoNotOptimize(model.embed(example, 1));
    const auto t2 = std::chrono::steady_clock::now();
    load_s += std::chrono::duration<double>(t1 - t0).count();
    first_s += std::chrono::duration<double>(t2 - t1).count();
  }
  const auto n = static_cast<double>(state.iterations());
  state.counters["load_s"] = load_s / n;
  state.counters["first_pass_s"] = first_s / n;
}
BENCHMARK(BM_VggishLoad)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
