// Pure background-noise clips in the `tutti synth` folder layout (`tutti synth --noise-only`):
// a noise pool for noise-robustness experiments whose labels are all known negatives.
//
//   tutti::synth::SynthConfig cfg;  cfg.n_clips = 100;  cfg.noise_color = NoiseColor::kPink;
//   tutti::synth::write_noise_dataset(cfg, "out/noise");
//   // out/noise/audio/noise_000000.wav ..., labels.csv (every class of the 20, relevance 0:
//   // no instrument sounds, so even mandolin and ukulele are known absent), strong.csv and
//   // instances.csv with their headers only, synth.json ("noise_only": true).
//
// Clip i: noise of cfg.noise_color (white or pink, synth/mix.h make_noise) from seed
// clip_seed(cfg.seed, i, 1), normalized to a peak drawn uniformly in [min_peak_dbfs,
// max_peak_dbfs] (clip_seed(cfg.seed, i, 2)). Uses n_clips, seed, duration_s, sample_rate_hz,
// channels, sample_format, noise_color, the peak range and hop_s; the instrument options are
// ignored and no soundfont is needed. Written atomically like write_synth_dataset.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "tutti/synth/dataset.h"
#include "tutti/synth/synth_config.h"

namespace tutti::synth {

std::string noise_clip_name(int clip_index);  // "noise_%06d"

// Throws tutti::UsageError for an invalid config or an existing out_dir (unless overwrite);
// tutti::Error for I/O failures. on_clip_done(clips_done) after each clip (one thread).
SynthSummary write_noise_dataset(const SynthConfig& cfg, const std::filesystem::path& out_dir,
                                 bool overwrite = false,
                                 const std::function<void(int)>& on_clip_done = {});

}  // namespace tutti::synth
