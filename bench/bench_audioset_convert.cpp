// Converting the AudioSet balanced-train embedding release (4,070 TFRecord shards, 22,160 clips)
// into a BagDataset with read_audioset(), on one core. Target: under 1 s (a straightforward
// pure-Python protobuf walker, bench/audioset_reader.py, takes ~3 s without checking crcs).
//
//   build-audioset/bench/bench_audioset_convert [--benchmark_repetitions=5]
// Data: $TUTTI_SHARED_DATA/audioset/bal_train, else $TUTTI_SOURCE_DIR/../shared/data/...;
// skips with a message when absent. Both crc32c checks of every record are part of the time.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <vector>

#include "tutti/data/audioset.h"
#include "tutti/data/tfrecord.h"

namespace fs = std::filesystem;
using namespace tutti::data;

namespace {

fs::path shared_audioset() {
  if (const char* env = std::getenv("TUTTI_SHARED_DATA"); env && *env)
    return fs::path(env) / "audioset";
  const char* src = std::getenv("TUTTI_SOURCE_DIR");
  const fs::path root = src && *src ? fs::path(src) : fs::path(TUTTI_SOURCE_DIR);
  return root.parent_path() / "shared" / "data" / "audioset";
}

void run(benchmark::State& state, const AudioSetOptions& opt) {
  const fs::path dir = shared_audioset() / "bal_train";
  if (!fs::is_directory(dir)) {
    state.SkipWithError(
        ("AudioSet data not found at " + dir.string() + " (set TUTTI_SHARED_DATA)").c_str());
    return;
  }
  std::int64_t clips = 0, bytes = 0;
  for (const auto& e : fs::directory_iterator(dir))
    bytes += static_cast<std::int64_t>(e.file_size());
  for (auto _ : state) {
    const auto ds = read_audioset(dir, {}, opt);
    clips = ds.size();
    benchmark::DoNotOptimize(ds.x_u8.data());
  }
  state.counters["clips"] = static_cast<double>(clips);
  state.counters["crc32c_sse42"] = crc32c_hardware() ? 1 : 0;
  state.SetBytesProcessed(state.iterations() * bytes);
}

// The default conversion: openmic20 taxonomy, music clips only (8,928).
void BM_AudioSetBalTrainOpenMic20(benchmark::State& state) { run(state, {}); }
BENCHMARK(BM_AudioSetBalTrainOpenMic20)->Unit(benchmark::kMillisecond)->UseRealTime();

// Every clip (22,160) with all 527 AudioSet classes.
void BM_AudioSetBalTrainAll527(benchmark::State& state) {
  AudioSetOptions opt;
  opt.taxonomy = "audioset";
  opt.music_only = false;
  run(state, opt);
}
BENCHMARK(BM_AudioSetBalTrainAll527)->Unit(benchmark::kMillisecond)->UseRealTime();

// crc32c throughput alone (hardware path when the CPU has SSE4.2, and the portable tables).
void BM_Crc32c(benchmark::State& state) {
  std::vector<std::uint8_t> buf(1 << 20, 0x5a);
  const bool portable = state.range(0) != 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(portable ? crc32c_portable(buf) : crc32c(buf));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(buf.size()));
  state.SetLabel(portable ? "slice-by-8" : (crc32c_hardware() ? "sse4.2" : "slice-by-8"));
}
BENCHMARK(BM_Crc32c)->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
