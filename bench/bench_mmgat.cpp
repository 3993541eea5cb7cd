// MMGAT training and inference speed next to ATT (fused engine and autograd engine), side by side
// in one process so that a loaded machine slows all of them alike.
//
//   ./run bench mmgat    # the AudioSet OpenMIC-20 train part, 1 and 2 threads, Epoch only
//   OPENBLAS_NUM_THREADS=1 GOMP_SPINCOUNT=30000000 build/bench/bench_mmgat
//       # env: TUTTI_BENCH_NPZ=FILE.npz or TUTTI_BENCH_CLIPS=20000; TUTTI_BENCH_THREADS=2
//
// The thread environment must be the tutti program's (apps/tutti/main.cpp): OpenBLAS reads it
// when it loads, before main. Without OPENBLAS_NUM_THREADS=1 OpenBLAS's own threads compete
// with LibTorch's and the 2-thread epochs came out 3-5x slower (2026-11-26); the program warns.
//
// Data: N random clips x 10 x 128 uint8, 20 classes named as OpenMIC's (so the onset table
// applies), 20% of the labels known; or an .npz (TUTTI_BENCH_NPZ).
// BM_EpochSideBySide: each iteration trains ATT (fused engine), ATT (autograd), MMGAT (default
// engine: fused graph attention layers, fused Adam) and MMGAT (--engine autograd: LibTorch ops
// only) for 2 epochs each and times the second epoch (batch 128, no validation beyond 8 clips);
// counters are the medians over iterations in seconds per epoch and the ratios of the defaults
// (mmgat/att_fused) and of the pure-autograd paths.
// BM_Inference/<model>: eval-mode clip scores for all N clips (infer::run_model), items/s =
// clips/s.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "tutti/data/bag_dataset.h"
#include "tutti/data/bag_io.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/mmgat_labels.h"
#include "tutti/models/torch_runtime.h"
#include "tutti/train/trainer.h"

using namespace tutti;

namespace {

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

const std::vector<std::string> kOpenMic = {
    "accordion", "banjo",  "bass",  "cello",       "clarinet", "cymbals", "drums",
    "flute",     "guitar", "mallet_percussion", "mandolin", "organ",   "piano",
    "saxophone", "synthesizer", "trombone", "trumpet", "ukulele", "violin", "voice"};

const data::BagDataset& bench_data() {
  static const data::BagDataset ds = [] {
    if (const char* npz = std::getenv("TUTTI_BENCH_NPZ"); npz && *npz) return data::load_bags(npz);
    const std::int64_t n = env_int("TUTTI_BENCH_CLIPS", 20000), k = 10, d = 128;
    const auto c = static_cast<std::int64_t>(kOpenMic.size());
    auto out = data::BagDataset::zeros(n, k, d, kOpenMic, data::FeatureType::kUint8);
    std::mt19937_64 rng(1);
    for (auto& v : out.x_u8) v = static_cast<std::uint8_t>(rng() & 0xFF);
    std::fill(out.n_instances.begin(), out.n_instances.end(), 10);
    std::uniform_real_distribution<float> u(0, 1);
    for (std::size_t i = 0; i < out.y_true.size(); ++i) {
      out.y_mask[i] = u(rng) < 0.2f;
      out.y_true[i] = out.y_mask[i] ? (u(rng) < 0.3f ? 1.0f : 0.0f) : 0.5f;
    }
    for (std::int64_t i = 0; i < n; ++i) out.keys[i] = "clip" + std::to_string(i);
    for (std::int64_t j = 0; j < c; ++j) out.y_mask[j] = 1;
    return out;
  }();
  return ds;
}

double second_epoch_seconds(const std::string& model, const std::string& engine) {
  const auto& ds = bench_data();
  std::vector<std::int64_t> val_rows = {0, 1, 2, 3, 4, 5, 6, 7};
  const auto val = ds.subset(val_rows);
  auto cfg = train::TrainConfig::for_model(model);
  cfg.threads = static_cast<int>(env_int("TUTTI_BENCH_THREADS", 2));
  cfg.engine = engine;
  cfg.epochs = 2;
  return train::train_neural(ds, val, cfg).summary.history.back().seconds;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void BM_EpochSideBySide(benchmark::State& state) {
  std::vector<double> fused, autograd, mmgat, mmgat_autograd;
  for (auto _ : state) {
    fused.push_back(second_epoch_seconds("att", "fused"));
    autograd.push_back(second_epoch_seconds("att", "autograd"));
    mmgat.push_back(second_epoch_seconds("mmgat", "auto"));
    mmgat_autograd.push_back(second_epoch_seconds("mmgat", "autograd"));
    state.SetIterationTime(mmgat.back());
  }
  const double f = median(fused), a = median(autograd), m = median(mmgat),
               ma = median(mmgat_autograd);
  state.counters["att_fused_s"] = f;
  state.counters["att_autograd_s"] = a;
  state.counters["mmgat_s"] = m;
  state.counters["mmgat_autograd_s"] = ma;
  state.counters["mmgat/att_fused"] = m / f;
  state.counters["mmgat_autograd/att_autograd"] = ma / a;
  state.SetLabel(std::to_string(bench_data().size()) + " clips");
}
BENCHMARK(BM_EpochSideBySide)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_Inference(benchmark::State& state) {
  const auto& ds = bench_data();
  const char* names[] = {"att", "mmgat"};
  models::ModelSpec spec;
  spec.name = names[state.range(0)];
  spec.input_dim = ds.dim;
  spec.num_classes = ds.num_classes();
  spec.max_instances = ds.max_instances;
  spec = models::mmgat_training_spec(spec, ds);
  torch::manual_seed(1);
  auto model = models::make_model(spec);
  model->eval();
  train::TrainConfig cfg;
  cfg.threads = static_cast<int>(env_int("TUTTI_BENCH_THREADS", 2));
  models::setup_torch(cfg.threads);
  for (auto _ : state) {
    auto out = infer::run_model(*model, ds, false);
    benchmark::DoNotOptimize(out.clip.data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * ds.size());
  state.SetLabel(spec.name);
}
BENCHMARK(BM_Inference)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

int main(int argc, char** argv) {
  if (const char* v = std::getenv("OPENBLAS_NUM_THREADS"); !v || std::string(v) != "1")
    std::fprintf(stderr, "bench_mmgat: warning: OPENBLAS_NUM_THREADS is not 1, unlike the tutti "
                         "program: timings are not comparable (use ./run bench mmgat)\n");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
