// Front-end speed: decode + mono + soxr VHQ resampling + VGGish log-mel, and the logmel-stats
// embedding. Counter `x_realtime` = seconds of audio processed per CPU second (one thread).
//
//   cmake --build build --target bench_frontend && ./build/bench/bench_frontend
//
// Inputs: the real OpenMIC clip ../shared/data/openmic/000046_3840.ogg (44.1 kHz stereo Vorbis,
// 10 s; benchmarks skip when absent) and a generated 60 s 44.1 kHz stereo WAV and FLAC.
#include <benchmark/benchmark.h>
#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <numbers>
#include <random>
#include <vector>

#include "tutti/audio/audio_stream.h"
#include "tutti/features/file_examples.h"
#include "tutti/features/log_mel.h"
#include "tutti/features/logmel_stats.h"

namespace {

namespace fs = std::filesystem;
using namespace tutti;

fs::path ogg_clip() {
  if (const char* env = std::getenv("TUTTI_SHARED_DATA"); env && *env)
    return fs::path(env) / "openmic/000046_3840.ogg";
  return fs::path(TUTTI_SOURCE_DIR).parent_path() / "shared/data/openmic/000046_3840.ogg";
}

// 60 s of 44.1 kHz stereo "music": a few partials with vibrato plus noise, written once.
const fs::path& generated(int format, const char* name) {
  static std::vector<std::pair<std::string, fs::path>> made;
  for (const auto& [n, p] : made)
    if (n == name) return p;
  const fs::path path = fs::temp_directory_path() /
                        (std::string("tutti-bench-") + std::to_string(::getpid()) + "-" + name);
  const int rate = 44100, seconds = 60;
  std::vector<float> x(static_cast<std::size_t>(rate) * seconds * 2);
  std::mt19937 rng(1);
  std::normal_distribution<float> noise(0.0f, 0.02f);
  for (std::size_t i = 0; i < x.size() / 2; ++i) {
    const double t = static_cast<double>(i) / rate;
    double v = 0;
    for (int h = 1; h <= 6; ++h)
      v += 0.1 / h *
           std::sin(2 * std::numbers::pi * 220 * h * t +
                    0.5 * std::sin(2 * std::numbers::pi * 5 * t));
    x[2 * i] = static_cast<float>(v) + noise(rng);
    x[2 * i + 1] = static_cast<float>(0.8 * v) + noise(rng);
  }
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = 2;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) std::abort();
  sf_writef_float(f, x.data(), static_cast<sf_count_t>(x.size() / 2));
  sf_close(f);
  made.emplace_back(name, path);
  return made.back().second;
}

struct Cleanup {
  ~Cleanup() {
    std::error_code ec;
    for (const auto* n : {"60s.wav", "60s.flac"})
      fs::remove(fs::temp_directory_path() /
                     (std::string("tutti-bench-") + std::to_string(::getpid()) + "-" + n),
                 ec);
  }
} cleanup;

void set_realtime(benchmark::State& state, double audio_seconds_per_iteration) {
  state.counters["x_realtime"] =
      benchmark::Counter(audio_seconds_per_iteration * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

void run_front_end(benchmark::State& state, const fs::path& path) {
  if (!fs::exists(path)) {
    state.SkipWithError(("missing " + path.string()).c_str());
    return;
  }
  double seconds = 0;
  for (auto _ : state) {
    auto ex = features::vggish_examples_from_file(path);
    benchmark::DoNotOptimize(ex.values.data());
    seconds = ex.duration_s();
  }
  set_realtime(state, seconds);
}

// The whole front end: file -> decode -> mono -> 16 kHz (soxr VHQ) -> log-mel examples.
void BM_FrontEnd_OggVorbis10s(benchmark::State& state) { run_front_end(state, ogg_clip()); }
void BM_FrontEnd_Wav60s(benchmark::State& state) {
  run_front_end(state, generated(SF_FORMAT_WAV | SF_FORMAT_PCM_16, "60s.wav"));
}
void BM_FrontEnd_Flac60s(benchmark::State& state) {
  run_front_end(state, generated(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, "60s.flac"));
}

// The stages alone, on the Ogg clip.
void BM_Decode_OggVorbis10s(benchmark::State& state) {
  if (!fs::exists(ogg_clip())) return state.SkipWithError("missing ogg clip");
  std::vector<float> block(1 << 14);
  double seconds = 0;
  for (auto _ : state) {
    auto dec = audio::Decoder::open(ogg_clip());
    std::size_t frames = 0;
    while (const std::size_t n = dec->read_mono(block)) frames += n;
    seconds = static_cast<double>(frames) / dec->info().sample_rate_hz;
  }
  set_realtime(state, seconds);
}

void BM_Resample_44k1To16k(benchmark::State& state) {
  std::vector<float> x(441000);
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (auto& v : x) v = u(rng);
  for (auto _ : state) {
    auto y = audio::resample(x, 44100, 16000);
    benchmark::DoNotOptimize(y.data());
  }
  set_realtime(state, 10.0);
}

std::vector<float> wave16k_10s() {
  std::vector<float> x(160000);
  std::mt19937 rng(3);
  std::normal_distribution<float> n(0.0f, 0.1f);
  for (std::size_t i = 0; i < x.size(); ++i)
    x[i] = 0.3f * static_cast<float>(std::sin(2 * std::numbers::pi * 440 * i / 16000.0)) + n(rng);
  return x;
}

void BM_LogMel_16k10s(benchmark::State& state) {
  const auto x = wave16k_10s();
  features::LogMelFrontEnd fe;
  for (auto _ : state) {
    auto ex = fe.examples(x);
    benchmark::DoNotOptimize(ex.data());
  }
  set_realtime(state, 10.0);
}

// logmel-stats: from examples (the statistics alone), from a 16 kHz waveform (log-mel + stats),
// and from the file (the whole weight-free embedder).
void BM_LogMelStats_FromExamples(benchmark::State& state) {
  features::LogMelFrontEnd fe;
  const auto ex = fe.examples(wave16k_10s());
  for (auto _ : state) {
    auto emb = features::logmel_stats(ex, 10);
    benchmark::DoNotOptimize(emb.data());
  }
  set_realtime(state, 9.6);
}

void BM_LogMelStats_From16k(benchmark::State& state) {
  const auto x = wave16k_10s();
  features::LogMelFrontEnd fe;
  for (auto _ : state) {
    auto ex = fe.examples(x);
    auto emb = features::logmel_stats(ex, ex.size() / (96 * 64));
    benchmark::DoNotOptimize(emb.data());
  }
  set_realtime(state, 10.0);
}

void BM_LogMelStats_FromOggFile(benchmark::State& state) {
  if (!fs::exists(ogg_clip())) return state.SkipWithError("missing ogg clip");
  double seconds = 0;
  for (auto _ : state) {
    auto ex = features::vggish_examples_from_file(ogg_clip());
    auto emb = features::logmel_stats(ex.values, ex.count);
    benchmark::DoNotOptimize(emb.data());
    seconds = ex.duration_s();
  }
  set_realtime(state, seconds);
}

BENCHMARK(BM_FrontEnd_OggVorbis10s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FrontEnd_Wav60s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FrontEnd_Flac60s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Decode_OggVorbis10s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Resample_44k1To16k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogMel_16k10s)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogMelStats_FromExamples)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_LogMelStats_From16k)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LogMelStats_FromOggFile)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
