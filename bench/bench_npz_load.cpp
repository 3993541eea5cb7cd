// Loading an OpenMIC-size bag dataset (20,000 clips x 10 instances x 128 uint8 features, 20
// classes) from a stored .npz, and saving it. Target: well under a second per load.
//
//   cmake --build build --target bench_npz_load && ./build/bench/bench_npz_load
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "tutti/data/bag_io.h"
#include "tutti/data/openmic.h"

namespace {

namespace fs = std::filesystem;

tutti::data::BagDataset make_openmic_size(std::int64_t n) {
  auto ds = tutti::data::BagDataset::zeros(n, 10, 128, tutti::data::openmic_classes(),
                                           tutti::data::FeatureType::kUint8);
  std::mt19937 rng(2018);
  for (auto& v : ds.x_u8) v = static_cast<std::uint8_t>(rng() & 0xFF);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.n_instances[i] = 10;
    ds.keys[i] = std::to_string(100000 + i) + "_" + std::to_string(3840 * (i % 97));
  }
  for (std::size_t j = 0; j < ds.y_true.size(); ++j) {
    ds.y_mask[j] = (rng() % 10) < 2;
    ds.y_true[j] = ds.y_mask[j] ? static_cast<float>(rng() % 1000) / 999.0f : 0.5f;
  }
  return ds;
}

struct TempFile {
  fs::path path =
      fs::temp_directory_path() / ("tutti-bench-npz-" + std::to_string(::getpid()) + ".npz");
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

void BM_LoadBags(benchmark::State& state) {
  const TempFile file;
  tutti::data::save_bags(file.path, make_openmic_size(state.range(0)));
  const auto bytes = static_cast<std::int64_t>(fs::file_size(file.path));
  for (auto _ : state) {
    auto ds = tutti::data::load_bags(file.path);
    benchmark::DoNotOptimize(ds.x_u8.data());
  }
  state.SetBytesProcessed(state.iterations() * bytes);
  state.counters["clips"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_LoadBags)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SaveBags(benchmark::State& state) {
  const TempFile file;
  const auto ds = make_openmic_size(state.range(0));
  for (auto _ : state) tutti::data::save_bags(file.path, ds);
  state.counters["clips"] = static_cast<double>(state.range(0));
}
BENCHMARK(BM_SaveBags)->Arg(20000)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
