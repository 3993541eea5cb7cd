#include "tutti/synth/effects.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <memory>
#include <mutex>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::synth {

namespace {

// FFTW's planner is not thread-safe (its execute functions are): plan under one lock.
std::mutex& plan_mutex() {
  static std::mutex m;
  return m;
}

struct FftwFree {
  void operator()(void* p) const { fftwf_free(p); }
};
template <typename T>
using FftwBuffer = std::unique_ptr<T[], FftwFree>;

template <typename T>
FftwBuffer<T> fftw_buffer(std::size_t n) {
  // fftwf_malloc aligns every buffer alike, so FFTW_ESTIMATE picks the same codelets each run and
  // the output bits do not depend on where the allocator put the arrays.
  auto* p = static_cast<T*>(fftwf_malloc(sizeof(T) * std::max<std::size_t>(n, 1)));
  tutti::check(p != nullptr, "synth effects: cannot allocate {} FFT values", n);
  return FftwBuffer<T>(p);
}

struct PlanDeleter {
  void operator()(fftwf_plan_s* p) const {
    std::lock_guard lock(plan_mutex());
    fftwf_destroy_plan(p);
  }
};
using Plan = std::unique_ptr<fftwf_plan_s, PlanDeleter>;

// Smallest n >= min_n whose only prime factors are 2, 3, 5, 7 (sizes FFTW handles fastest).
std::size_t fft_size(std::size_t min_n) {
  for (std::size_t n = std::max<std::size_t>(min_n, 1);; ++n) {
    std::size_t m = n;
    for (std::size_t f : {2, 3, 5, 7})
      while (m % f == 0) m /= f;
    if (m == 1) return n;
  }
}

double db_to_gain(double db) { return std::pow(10.0, db / 20.0); }

}  // namespace

EffectsParams draw_effects(std::uint64_t seed, std::size_t num_parts, const SynthConfig& cfg,
                           const EffectsRanges& r) {
  core::Rng rng(seed);
  EffectsParams fx;
  fx.tempo_factor = rng.uniform(r.tempo_min, r.tempo_max);
  fx.detune_cents = rng.uniform(-r.detune_cents_max, r.detune_cents_max);
  for (std::size_t i = 0; i < num_parts; ++i)
    fx.part_level_db.push_back(rng.uniform(-r.part_level_db_max, r.part_level_db_max));
  if (rng.bernoulli(r.reverb_probability)) {
    fx.reverb_rt60_s = rng.uniform(r.rt60_min_s, r.rt60_max_s);
    fx.reverb_wet = rng.uniform(r.wet_min, r.wet_max);
    fx.reverb_predelay_s = rng.uniform(0.0, r.predelay_max_s);
  }
  fx.tilt_db_per_octave = rng.uniform(-r.tilt_max_db_per_octave, r.tilt_max_db_per_octave);
  if (rng.bernoulli(r.comp_probability)) {
    fx.comp_threshold_db = rng.uniform(r.comp_threshold_min_db, r.comp_threshold_max_db);
    fx.comp_ratio = rng.uniform(r.comp_ratio_min, r.comp_ratio_max);
    fx.comp_attack_s = rng.uniform(r.attack_min_s, r.attack_max_s);
    fx.comp_release_s = rng.uniform(r.release_min_s, r.release_max_s);
  }
  fx.stereo_width = rng.uniform(r.width_min, r.width_max);
  fx.peak_dbfs = rng.uniform(cfg.min_peak_dbfs, cfg.max_peak_dbfs);
  const bool noise = rng.bernoulli(r.noise_probability);
  const double snr = rng.uniform(r.snr_min_db, r.snr_max_db);
  const bool pink = rng.bernoulli(0.5);
  FluidReverb fr;
  fr.room_size = rng.uniform(r.fluid_room_min, r.fluid_room_max);
  fr.damping = rng.uniform(0.0, r.fluid_damp_max);
  fr.width = rng.uniform(r.fluid_width_min, r.fluid_width_max);
  fr.level = rng.uniform(r.fluid_level_min, r.fluid_level_max);
  fx.fluid_reverb = fr;
  if (cfg.noise_snr_db) {
    fx.noise_snr_db = cfg.noise_snr_db;
    fx.noise_color = cfg.noise_color;
  } else if (noise) {
    fx.noise_snr_db = snr;
    fx.noise_color = pink ? NoiseColor::kPink : NoiseColor::kWhite;
  }
  return fx;
}

void draw_timbres(Score& score, double probability, std::uint64_t seed, const TimbreRanges& r) {
  tutti::check<UsageError>(probability >= 0 && probability <= 1,
                           "synth: timbre probability {} outside [0, 1]", probability);
  if (probability == 0) return;
  core::Rng rng(seed);
  for (auto& part : score.parts) {
    if (part.channel == kPercussionChannel) continue;
    part.generators.clear();
    if (!rng.bernoulli(probability)) continue;
    part.generators = {
        {kGenVolEnvAttack, rng.uniform(r.attack_min_tc, r.attack_max_tc)},
        {kGenVolEnvDecay, rng.uniform(r.decay_min_tc, r.decay_max_tc)},
        {kGenVolEnvSustain, rng.uniform(0.0, r.sustain_max_cb)},
        {kGenVolEnvRelease, rng.uniform(r.release_min_tc, r.release_max_tc)},
    };
    if (rng.bernoulli(r.filter_probability)) {
      part.generators.push_back(
          {kGenFilterFc, rng.uniform(r.cutoff_min_cents, r.cutoff_max_cents)});
      part.generators.push_back({kGenFilterQ, rng.uniform(0.0, r.resonance_max_cb)});
    }
    if (rng.bernoulli(r.vibrato_probability))
      part.generators.push_back({kGenVibLfoToPitch, rng.uniform(0.0, r.vibrato_max_cents)});
  }
}

void apply_score_effects(Score& score, const EffectsParams& fx) {
  tutti::check<UsageError>(fx.tempo_factor > 0.25 && fx.tempo_factor < 4,
                           "synth effects: tempo factor {} outside (0.25, 4)", fx.tempo_factor);
  auto on_grid = [](double sample) {
    return static_cast<std::int64_t>(std::floor(sample / kBlockSamples)) * kBlockSamples;
  };
  for (std::size_t pi = 0; pi < score.parts.size(); ++pi) {
    auto& part = score.parts[pi];
    if (pi < fx.part_level_db.size()) {
      const double gain = std::pow(10.0, fx.part_level_db[pi] / 40.0);
      part.volume = static_cast<int>(std::clamp(std::lround(part.volume * gain), 1L, 127L));
      for (auto& v : part.volume_changes)
        v.volume = static_cast<int>(std::clamp(std::lround(v.volume * gain), 0L, 127L));
    }
    if (fx.tempo_factor == 1.0) continue;
    std::vector<VolumeChange> changes;
    for (auto v : part.volume_changes) {
      v.sample = on_grid(static_cast<double>(v.sample) / fx.tempo_factor);
      if (v.sample < score.num_samples) changes.push_back(v);
    }
    part.volume_changes = std::move(changes);
    std::vector<Note> kept;
    for (auto n : part.notes) {
      n.on = n.on <= 0 ? n.on : on_grid(static_cast<double>(n.on) / fx.tempo_factor);
      n.off = std::min(score.num_samples, on_grid(static_cast<double>(n.off) / fx.tempo_factor));
      if (n.on >= score.num_samples) continue;
      n.off = std::max(n.off, std::max<std::int64_t>(n.on, 0) + kBlockSamples);
      n.off = std::min(n.off, score.num_samples);
      if (n.off <= std::max<std::int64_t>(n.on, 0)) continue;
      kept.push_back(n);
    }
    // Rounding can make two notes of one key touch or overlap: end the earlier one at the later
    // start (FluidSynth would otherwise cut it at the next note-off of that key).
    for (std::size_t i = 0; i < kept.size(); ++i)
      for (std::size_t j = i + 1; j < kept.size() && kept[j].on < kept[i].off; ++j)
        if (kept[j].key == kept[i].key)
          kept[i].off = std::max(kept[i].on + kBlockSamples, kept[j].on);
    part.notes = std::move(kept);
  }
  score.tempo_bpm *= fx.tempo_factor;
  score.bar_s /= fx.tempo_factor;
  score.first_bar_s /= fx.tempo_factor;
  score.detune_cents = fx.detune_cents;
  score.fluid_reverb = fx.fluid_reverb;
  score.peak_dbfs = fx.peak_dbfs;
}

std::vector<float> room_impulse_response(int sample_rate_hz, double rt60_s, double predelay_s,
                                         std::uint64_t seed) {
  const auto pre = static_cast<std::size_t>(std::lround(predelay_s * sample_rate_hz));
  const auto len = static_cast<std::size_t>(std::lround(rt60_s * sample_rate_hz));
  std::vector<float> ir(pre + len, 0.0f);
  core::Rng rng(seed);
  // Amplitude falls by 60 dB over rt60: exp(-t * ln(1000) / rt60) (Sabine's definition of RT60).
  const double k = std::log(1000.0) / (rt60_s * sample_rate_hz);
  double energy = 0;
  for (std::size_t i = 0; i < len; ++i) {
    const double v = rng.normal() * std::exp(-k * static_cast<double>(i));
    ir[pre + i] = static_cast<float>(v);
    energy += v * v;
  }
  // Unit energy: a wet level of w adds a room of w times the dry signal's power (roughly).
  if (energy > 0)
    for (auto& v : ir) v = static_cast<float>(v / std::sqrt(energy));
  return ir;
}

void compress(std::vector<float>& x, int sample_rate_hz, double threshold_db, double ratio,
              double attack_s, double release_s) {
  if (ratio <= 1.0 || x.empty()) return;
  float peak = 0;
  for (float v : x) peak = std::max(peak, std::abs(v));
  if (peak <= 0) return;
  const double peak_db = 20 * std::log10(static_cast<double>(peak));
  const double thr = peak_db + threshold_db;
  const double a_att = std::exp(-1.0 / (attack_s * sample_rate_hz));
  const double a_rel = std::exp(-1.0 / (release_s * sample_rate_hz));
  double y = 0;  // smoothed gain reduction (dB, >= 0)
  for (std::size_t i = 0; i + 1 < x.size(); i += 2) {
    const double level = std::max(std::abs(x[i]), std::abs(x[i + 1]));
    const double level_db = level > 1e-9 ? 20 * std::log10(level) : -180.0;
    const double over = level_db - thr;
    const double target = over > 0 ? over * (1.0 - 1.0 / ratio) : 0.0;
    const double a = target > y ? a_att : a_rel;
    y = a * y + (1 - a) * target;
    const auto g = static_cast<float>(db_to_gain(-y));
    x[i] *= g;
    x[i + 1] *= g;
  }
}

void apply_audio_effects(std::vector<float>& lr, int sample_rate_hz, const EffectsParams& fx,
                         std::uint64_t ir_seed) {
  const std::size_t frames = lr.size() / 2;
  if (frames == 0) return;
  const bool room = fx.reverb_rt60_s > 0 && fx.reverb_wet > 0;
  const bool tilt = fx.tilt_db_per_octave != 0;
  if (room || tilt) {
    std::vector<float> ir[2];
    if (room)
      for (int c = 0; c < 2; ++c)
        ir[c] = room_impulse_response(sample_rate_hz, fx.reverb_rt60_s, fx.reverb_predelay_s,
                                      core::derive_seed(ir_seed, static_cast<std::uint64_t>(c), 0));
    // Linear convolution via a zero-padded FFT of the clip plus the response; the tail past the
    // clip's end is dropped (the clip keeps its length).
    const std::size_t n = fft_size(frames + (room ? ir[0].size() : 0));
    const std::size_t nc = n / 2 + 1;
    auto buf = fftw_buffer<float>(n);
    auto spec = fftw_buffer<fftwf_complex>(nc);
    auto ir_spec = fftw_buffer<fftwf_complex>(nc);
    Plan fwd, inv;
    {
      std::lock_guard lock(plan_mutex());
      fwd.reset(fftwf_plan_dft_r2c_1d(static_cast<int>(n), buf.get(), spec.get(), FFTW_ESTIMATE));
      inv.reset(fftwf_plan_dft_c2r_1d(static_cast<int>(n), spec.get(), buf.get(), FFTW_ESTIMATE));
    }
    tutti::check(fwd && inv, "synth effects: FFTW cannot plan a transform of {} samples", n);
    // EQ: zero-phase gain log2(f / 1 kHz) * tilt dB, clamped to +-12 dB; DC keeps the 0 Hz bin's
    // gain of the lowest band.
    std::vector<float> eq(nc, 1.0f);
    if (tilt)
      for (std::size_t k = 0; k < nc; ++k) {
        const double f = std::max(20.0, static_cast<double>(k) * sample_rate_hz / n);
        const double db = std::clamp(fx.tilt_db_per_octave * std::log2(f / 1000.0), -12.0, 12.0);
        eq[k] = static_cast<float>(db_to_gain(db));
      }
    for (int c = 0; c < 2; ++c) {
      if (room) {
        std::fill(buf.get(), buf.get() + n, 0.0f);
        std::copy(ir[c].begin(), ir[c].end(), buf.get());
        fftwf_execute_dft_r2c(fwd.get(), buf.get(), ir_spec.get());
      }
      std::fill(buf.get(), buf.get() + n, 0.0f);
      for (std::size_t i = 0; i < frames; ++i) buf[i] = lr[2 * i + static_cast<std::size_t>(c)];
      fftwf_execute_dft_r2c(fwd.get(), buf.get(), spec.get());
      const auto wet = static_cast<float>(fx.reverb_wet);
      for (std::size_t k = 0; k < nc; ++k) {
        std::complex<float> h(1.0f, 0.0f);
        if (room) h += wet * std::complex<float>(ir_spec[k][0], ir_spec[k][1]);
        h *= eq[k] / static_cast<float>(n);  // FFTW's inverse is unnormalized
        const std::complex<float> y = std::complex<float>(spec[k][0], spec[k][1]) * h;
        spec[k][0] = y.real();
        spec[k][1] = y.imag();
      }
      fftwf_execute_dft_c2r(inv.get(), spec.get(), buf.get());
      for (std::size_t i = 0; i < frames; ++i) lr[2 * i + static_cast<std::size_t>(c)] = buf[i];
    }
  }
  compress(lr, sample_rate_hz, fx.comp_threshold_db, fx.comp_ratio, fx.comp_attack_s,
           fx.comp_release_s);
  if (fx.stereo_width != 1.0) {
    const auto w = static_cast<float>(fx.stereo_width);
    for (std::size_t i = 0; i < frames; ++i) {
      const float m = 0.5f * (lr[2 * i] + lr[2 * i + 1]);
      const float s = 0.5f * (lr[2 * i] - lr[2 * i + 1]) * w;
      lr[2 * i] = m + s;
      lr[2 * i + 1] = m - s;
    }
  }
}

}  // namespace tutti::synth
