// Training and inference speed of tutti's models on an OpenMIC-sized random dataset
// (N clips x 10 x 128 uint8, 20 classes, 20% of the labels known), for the side-by-side with
// PyTorch eager mode (bench/att_side_by_side.sh, bench/pytorch_att.py).
//
//   build-train/bench_train --benchmark_filter=Att     # TUTTI_BENCH_CLIPS=20000 TUTTI_BENCH_THREADS=2
//
// BM_AttEpoch/0: one ATT training epoch with the fused engine (the default); /1: the model's
// forward + autograd. Time per iteration = one epoch (batch 128, Adam), excluding the validation
// pass. BM_AttInference: eval-mode clip scores for all N clips, items/s = clips/s.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "tutti/data/bag_dataset.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/torch_runtime.h"
#include "tutti/train/trainer.h"

using namespace tutti;

namespace {

std::int64_t env_int(const char* name, std::int64_t fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoll(v) : fallback;
}

const data::BagDataset& bench_data() {
  static const data::BagDataset ds = [] {
    const std::int64_t n = env_int("TUTTI_BENCH_CLIPS", 20000), k = 10, d = 128, c = 20;
    std::vector<std::string> classes;
    for (int i = 0; i < c; ++i) classes.push_back("class_" + std::to_string(i));
    auto out = data::BagDataset::zeros(n, k, d, classes, data::FeatureType::kUint8);
    std::mt19937_64 rng(1);
    for (auto& v : out.x_u8) v = static_cast<std::uint8_t>(rng() & 0xFF);
    std::fill(out.n_instances.begin(), out.n_instances.end(), 10);
    std::uniform_real_distribution<float> u(0, 1);
    for (std::size_t i = 0; i < out.y_true.size(); ++i) {
      out.y_mask[i] = u(rng) < 0.2f;
      out.y_true[i] = out.y_mask[i] ? (u(rng) < 0.3f ? 1.0f : 0.0f) : 0.5f;
    }
    for (std::int64_t i = 0; i < n; ++i) out.keys[i] = "clip" + std::to_string(i);
    // Every class needs a known label.
    for (std::int64_t j = 0; j < c; ++j) out.y_mask[j] = 1;
    return out;
  }();
  return ds;
}

void BM_AttEpoch(benchmark::State& state) {
  const auto& ds = bench_data();
  std::vector<std::int64_t> val_rows = {0, 1, 2, 3, 4, 5, 6, 7};
  const auto val = ds.subset(val_rows);
  auto cfg = train::TrainConfig::for_model("att");
  cfg.threads = static_cast<int>(env_int("TUTTI_BENCH_THREADS", 2));
  cfg.engine = state.range(0) == 0 ? "fused" : "autograd";
  cfg.epochs = 2;
  for (auto _ : state) {
    const auto r = train::train_neural(ds, val, cfg);
    // The second epoch (the first warms up, as in bench/pytorch_att.py); the validation pass on
    // 8 clips is negligible.
    state.SetIterationTime(r.summary.history.back().seconds);
  }
  state.SetItemsProcessed(state.iterations() * ds.size());
  state.SetLabel(cfg.engine);
}
BENCHMARK(BM_AttEpoch)->Arg(0)->Arg(1)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(3);

void BM_AttInference(benchmark::State& state) {
  const auto& ds = bench_data();
  models::ModelSpec spec;
  spec.name = "att";
  spec.input_dim = ds.dim;
  spec.num_classes = ds.num_classes();
  spec.max_instances = ds.max_instances;
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
}
BENCHMARK(BM_AttInference)->Unit(benchmark::kMillisecond)->Iterations(5);

}  // namespace

BENCHMARK_MAIN();
