// Embedding speed of whole files: decode + mono + soxr VHQ + log-mel + logmel-stats through
// embed::embed_file (batches of 32), one thread. Counter `x_realtime` = seconds of audio per CPU
// second.
//
//   cmake --build build --target bench_embed && ./build/bench/bench_embed
//   ./build/bench/bench_embed --write-wav /tmp/long.wav 3600   # a long test file (streamed)
//
// The second form only writes a 44.1 kHz stereo 16-bit WAV of N seconds ("music": partials with
// vibrato, a new pitch every 0.5 s, noise), chunk by chunk with bounded memory; bench/tag_memory.sh
// uses it for the peak memory of tagging an hour-long file.
#include <benchmark/benchmark.h>
#include <sndfile.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <numbers>
#include <string>
#include <vector>

#include "tutti/embed/embed_files.h"

namespace {

namespace fs = std::filesystem;
using namespace tutti;

// Writes `seconds` of test music to `path` in 10 s chunks.
void write_music(const fs::path& path, double seconds, int format) {
  const int rate = 44100;
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) {
    std::fprintf(stderr, "cannot write %s: %s\n", path.c_str(), sf_strerror(nullptr));
    std::exit(1);
  }
  const auto total = static_cast<std::size_t>(seconds * rate);
  const std::size_t chunk = static_cast<std::size_t>(rate) * 10;
  std::vector<float> x(chunk * 2);
  std::uint32_t s = 12345;
  double freq = 220, phase = 0;
  for (std::size_t done = 0; done < total;) {
    const std::size_t n = std::min(chunk, total - done);
    for (std::size_t i = 0; i < n; ++i) {
      if ((done + i) % (rate / 2) == 0) {
        s = s * 1664525u + 1013904223u;
        freq = 110.0 * std::pow(2.0, 4.0 * (s >> 8) / 16777216.0);
      }
      phase += 2 * std::numbers::pi * freq / rate;
      s = s * 1664525u + 1013904223u;
      const double v =
          0.3 * std::sin(phase) + 0.1 * std::sin(3 * phase) + 0.02 * ((s >> 8) / 16777216.0 - 0.5);
      x[2 * i] = static_cast<float>(v);
      x[2 * i + 1] = static_cast<float>(0.8 * v);
    }
    sf_writef_float(f, x.data(), static_cast<sf_count_t>(n));
    done += n;
  }
  sf_close(f);
}

const fs::path& generated(int format, const char* name) {
  static std::vector<std::pair<std::string, fs::path>> made;
  for (const auto& [n, p] : made)
    if (n == name) return p;
  const fs::path path = fs::temp_directory_path() /
                        (std::string("tutti-bench-embed-") + std::to_string(::getpid()) + name);
  write_music(path, 60.0, format);
  made.emplace_back(name, path);
  return made.back().second;
}

void embed_bench(benchmark::State& state, const fs::path& file) {
  const auto emb = embed::make_embedder("logmel-stats");
  double seconds = 0;
  for (auto _ : state) {
    const auto f = embed::embed_file(*emb, file);
    benchmark::DoNotOptimize(f.features.data());
    seconds += f.duration_s;
  }
  state.counters["x_realtime"] = benchmark::Counter(seconds, benchmark::Counter::kIsRate);
}

void BM_EmbedLogmelStats_Wav44kStereo60s(benchmark::State& state) {
  embed_bench(state, generated(SF_FORMAT_WAV | SF_FORMAT_PCM_16, ".wav"));
}
void BM_EmbedLogmelStats_Flac44kStereo60s(benchmark::State& state) {
  embed_bench(state, generated(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, ".flac"));
}
BENCHMARK(BM_EmbedLogmelStats_Wav44kStereo60s)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_EmbedLogmelStats_Flac44kStereo60s)->Unit(benchmark::kMillisecond)->MinTime(2.0);

// The VGGish embedder end to end on one long file (decode, resample, log-mel, network, PCA,
// uint8) as `tutti embed --embedder vggish` runs it: weights from $TUTTI_VGGISH, audio from
// $TUTTI_BENCH_WAV (bench/embed_vggish_cores.sh makes both). Args: {intra-op threads, batch split
// (EmbedderOptions::parallel)}. Counters: x_realtime = seconds of audio per wall second,
// x_realtime_per_cpu_s = per CPU second of all the process's threads (what spinning costs).
void BM_EmbedVggishFile(benchmark::State& state) {
  const char* wav = std::getenv("TUTTI_BENCH_WAV");
  if (!wav || !std::getenv("TUTTI_VGGISH")) {
    state.SkipWithError("set TUTTI_VGGISH and TUTTI_BENCH_WAV (bench/embed_vggish_cores.sh)");
    return;
  }
  embed::EmbedderOptions opt;
  opt.threads = static_cast<int>(state.range(0));
  opt.parallel = static_cast<int>(state.range(1));
  const auto emb = embed::make_embedder("vggish", opt);
  // CPU time of every thread of the process (the benchmark's own counts the main thread only).
  auto process_cpu_s = [] {
    rusage ru{};
    ::getrusage(RUSAGE_SELF, &ru);
    return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           1e-6 * static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  };
  double seconds = 0;
  const double cpu0 = process_cpu_s();
  for (auto _ : state) {
    const auto f = embed::embed_file(*emb, wav);
    benchmark::DoNotOptimize(f.features.data());
    seconds += f.duration_s;
  }
  state.counters["x_realtime"] = benchmark::Counter(seconds, benchmark::Counter::kIsRate);
  state.counters["x_realtime_per_cpu_s"] = seconds / (process_cpu_s() - cpu0);
}
BENCHMARK(BM_EmbedVggishFile)
    ->Args({1, 1})
    ->Args({2, 1})
    ->Args({1, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(1);

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::strcmp(argv[1], "--write-wav") == 0) {
    write_music(argv[2], std::atof(argv[3]), SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    return 0;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  for (const char* ext : {".wav", ".flac"}) {
    std::error_code ec;
    fs::remove(fs::temp_directory_path() /
                   (std::string("tutti-bench-embed-") + std::to_string(::getpid()) + ext),
               ec);
  }
  return 0;
}
