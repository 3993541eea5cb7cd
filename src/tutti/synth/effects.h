// The randomized per-clip effects chain of `tutti synth --effects`: every parameter is drawn from a
// seed, recorded per clip (clips.csv) and applied in a fixed order.
//
//   auto fx = tutti::synth::draw_effects(seed, score.parts.size());
//   tutti::synth::apply_score_effects(score, fx);   // tempo, detune, mix levels (before rendering)
//   auto lr = synth.render(score);
//   tutti::synth::apply_audio_effects(lr, score.sample_rate_hz, fx);  // room, EQ, compressor,
//   width
//
// Order: tempo change and part levels edit the score (so the strong labels follow them); detune
// is a FluidSynth key tuning and FluidSynth's reverb gets drawn settings; the room reverb
// (convolution with an algorithmic impulse response) and the EQ tilt are one FFT multiplication
// (FFTW); then a feed-forward compressor and mid/side stereo width. Output level and background
// noise are applied by the caller (mix.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tutti/synth/score.h"
#include "tutti/synth/synth_config.h"

namespace tutti::synth {

struct EffectsParams {
  double tempo_factor = 1.0;                // > 1 plays faster: note times are divided by it
  double detune_cents = 0.0;                // every melodic key shifted by this much
  std::vector<double> part_level_db;        // [parts] added to each part's level (CC 7)
  double reverb_rt60_s = 0.0;               // room decay time (0: no room)
  double reverb_wet = 0.0;                  // room level relative to the dry signal (linear)
  double reverb_predelay_s = 0.0;           // gap before the room answers
  std::optional<FluidReverb> fluid_reverb;  // FluidSynth's own reverb (room, damping, width, level)
  double tilt_db_per_octave = 0.0;  // EQ: gain of log2(f / 1 kHz) * tilt, clamped to +-12 dB
  double comp_threshold_db = 0.0;   // compressor threshold (dB re the clip's peak); 0: off
  double comp_ratio = 1.0;          // compressor ratio (1: off)
  double comp_attack_s = 0.01;
  double comp_release_s = 0.1;
  double stereo_width = 1.0;           // side signal scale (0 mono, 1 unchanged)
  double peak_dbfs = -3.0;             // output level: the mix is normalized to this peak
  std::optional<double> noise_snr_db;  // background noise, or none
  NoiseColor noise_color = NoiseColor::kWhite;
};

// The ranges parameters are drawn from (uniform): see docs/synth.md.
struct EffectsRanges {
  double tempo_min = 0.92, tempo_max = 1.08;
  double detune_cents_max = 15;
  double part_level_db_max = 6;
  double reverb_probability = 0.8;
  double rt60_min_s = 0.2, rt60_max_s = 1.6;
  double wet_min = 0.05, wet_max = 0.35;
  double predelay_max_s = 0.02;
  double tilt_max_db_per_octave = 2;
  double comp_probability = 0.7;
  double comp_threshold_min_db = -30, comp_threshold_max_db = -6;
  double comp_ratio_min = 1.5, comp_ratio_max = 4;
  double attack_min_s = 0.002, attack_max_s = 0.02;
  double release_min_s = 0.05, release_max_s = 0.25;
  double width_min = 0.5, width_max = 1.5;
  double noise_probability = 0.5;
  double snr_min_db = 10, snr_max_db = 40;
  double fluid_room_min = 0.1, fluid_room_max = 0.9;
  double fluid_damp_max = 1.0;
  double fluid_width_min = 0.2, fluid_width_max = 1.0;
  double fluid_level_min = 0.3, fluid_level_max = 0.9;
};

// Draws every parameter from `seed` for a score with `num_parts` parts. The output level is drawn
// in [cfg.min_peak_dbfs, cfg.max_peak_dbfs]; cfg.noise_snr_db, when set, fixes the noise (always on
// at that SNR and cfg.noise_color) instead of drawing it.
EffectsParams draw_effects(std::uint64_t seed, std::size_t num_parts, const SynthConfig& cfg,
                           const EffectsRanges& ranges = {});

// Tempo: every note time divided by tempo_factor and put back on the block grid; notes that start
// past the clip are dropped, the rest end inside it. Levels: CC 7 scaled by 10^(dB/40) (General
// MIDI's volume curve, 40 log10(cc/127) dB), clamped to [1, 127]. Detune: score.detune_cents.
void apply_score_effects(Score& score, const EffectsParams& fx);

// Room reverb + EQ tilt (one FFT convolution of each channel, FFTW), compressor, stereo width, on
// FluidSynth's [frames, 2] interleaved output. The impulse response is exponentially decaying
// Gaussian noise (independent per channel, drawn from ir_seed) reaching -60 dB at rt60.
void apply_audio_effects(std::vector<float>& stereo, int sample_rate_hz, const EffectsParams& fx,
                         std::uint64_t ir_seed);

// The room's impulse response for one channel (for tests): [round(predelay + rt60) * rate] samples.
std::vector<float> room_impulse_response(int sample_rate_hz, double rt60_s, double predelay_s,
                                         std::uint64_t seed);

// The ranges of `tutti synth --timbre P` (uniform draws; see docs/synth.md, "Timbre").
struct TimbreRanges {
  double attack_min_tc = -1200, attack_max_tc = 2400;    // volume envelope attack, timecents
  double decay_min_tc = -2400, decay_max_tc = 2400;      // volume envelope decay
  double sustain_max_cb = 240;                           // more sustain attenuation, centibels
  double release_min_tc = -1200, release_max_tc = 1200;  // volume envelope release
  double filter_probability = 0.5;
  double cutoff_min_cents = -3600, cutoff_max_cents = 1200;  // low-pass cutoff
  double resonance_max_cb = 120;                             // low-pass Q
  double vibrato_probability = 0.3;
  double vibrato_max_cents = 30;
};

// With probability `probability` each melodic part gets SoundFont generator offsets (score.h)
// drawn from `seed`: its volume envelope's attack, decay, sustain and release, and maybe a
// low-pass filter and vibrato, so one preset sounds as many. Percussion is untouched; at
// probability 0 nothing is drawn. Replaces what a part had.
void draw_timbres(Score& score, double probability, std::uint64_t seed,
                  const TimbreRanges& ranges = {});

// Feed-forward compressor on interleaved stereo (Giannoulis, Massberg, Reiss, "Digital Dynamic
// Range Compressor Design - A Tutorial and Analysis", JAES 2012: log-domain gain computer with a
// hard knee, smooth decoupled peak detector on the gain reduction). Threshold relative to the
// buffer's peak.
void compress(std::vector<float>& stereo, int sample_rate_hz, double threshold_db, double ratio,
              double attack_s, double release_s);

}  // namespace tutti::synth
