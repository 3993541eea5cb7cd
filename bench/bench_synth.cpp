// Rendering speed of the synthesizer: compose + render + mix + label N clips of 10 s on one
// thread with one FluidSynthesizer, reported as "x real time" (seconds of audio per second);
// TimGM6mb_Effects adds the randomized effects chain (--effects) to TimGM6mb_Reverb.
//
//   build-synth/bench/bench_synth [--benchmark_filter=TimGM6mb]
//   TUTTI_SOUNDFONT=/path/font.sf2 build-synth/bench/bench_synth --benchmark_filter=Env
#include <benchmark/benchmark.h>
#include <time.h>

#include <cstdlib>
#include <filesystem>

#include "tutti/synth/dataset.h"

namespace ts = tutti::synth;

namespace {

void render_clips(benchmark::State& state, const std::string& soundfont, bool reverb,
                  bool effects = false) {
  if (!std::filesystem::exists(soundfont)) {
    state.SkipWithError(("soundfont not found: " + soundfont).c_str());
    return;
  }
  ts::SynthConfig cfg;
  cfg.soundfont = soundfont;
  cfg.reverb = reverb;
  cfg.duration_s = 10.0;
  cfg.effects = effects;
  ts::FluidSynthesizer synth(cfg.soundfont, cfg.sample_rate_hz, cfg.reverb);
  const auto palette = synth.check().palette();
  const int clips = static_cast<int>(state.range(0));
  int first = 0;
  double audio_s = 0;
  auto thread_cpu_s = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const double cpu0 = thread_cpu_s();
  for (auto _ : state) {
    for (int i = 0; i < clips; ++i) {
      const int k = first + i;
      ts::SynthClip clip;
      if (effects) {  // the same composer, then the drawn effects chain (effects.h)
        auto score = ts::compose(ts::composer_options(cfg), palette, ts::clip_seed(cfg.seed, k, 0));
        const auto fx = ts::draw_effects(ts::clip_seed(cfg.seed, k, 3), score.parts.size(), cfg);
        clip = ts::synthesize_clip(synth, cfg, palette, k, std::move(score), &fx);
      } else {
        clip = ts::synthesize_clip(synth, cfg, palette, k);
      }
      benchmark::DoNotOptimize(clip.audio.data());
      audio_s += cfg.duration_s;
    }
    first += clips;
  }
  // Seconds of audio per wall-clock second (rate counter divides by elapsed time), and per second
  // of this thread's CPU time (the per-core speed, unaffected by other load on the machine).
  state.counters["x_real_time"] = benchmark::Counter(audio_s, benchmark::Counter::kIsRate);
  state.counters["x_real_time_per_core"] = audio_s / (thread_cpu_s() - cpu0);
  state.counters["clips"] = benchmark::Counter(static_cast<double>(first));
}

void BM_TimGM6mb_Reverb(benchmark::State& s) {
  render_clips(s, "/usr/share/sounds/sf2/TimGM6mb.sf2", true);
}
void BM_TimGM6mb_Dry(benchmark::State& s) {
  render_clips(s, "/usr/share/sounds/sf2/TimGM6mb.sf2", false);
}
void BM_TimGM6mb_Effects(benchmark::State& s) {
  render_clips(s, "/usr/share/sounds/sf2/TimGM6mb.sf2", true, /*effects=*/true);
}
void BM_MuseScoreGeneral_Reverb(benchmark::State& s) {
  render_clips(s, "/usr/share/sounds/sf3/MuseScore_General.sf3", true);
}
void BM_Env_Reverb(benchmark::State& s) {
  const char* sf = std::getenv("TUTTI_SOUNDFONT");
  render_clips(s, sf ? sf : ts::kDefaultSoundfont, true);
}

}  // namespace

BENCHMARK(BM_TimGM6mb_Reverb)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TimGM6mb_Dry)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TimGM6mb_Effects)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_MuseScoreGeneral_Reverb)
    ->Arg(20)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Env_Reverb)->Arg(20)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
