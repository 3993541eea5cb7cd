// Synthetic, strongly labeled multi-instrument clips: one clip in memory, or a whole dataset
// folder on disk (the library part of `tutti synth`).
//
//   tutti::synth::SynthConfig cfg;
//   cfg.n_clips = 200; cfg.seed = 1;
//   auto summary = tutti::synth::write_synth_dataset(cfg, "out/synth");
//   // out/synth/audio/synth_000000.wav ... synth_000199.wav
//   // out/synth/labels.csv     file,instrument,relevance      (weak labels, known classes only)
//   // out/synth/strong.csv     file,instrument,onset_s,offset_s
//   // out/synth/instances.csv  file,instance,onset_s,offset_s,instrument  (active instances)
//   // out/synth/synth.json     config, soundfont report, summary, version
//
// The folder is written as DIR.tmp-XXXXXX next to DIR and renamed on success: after any failure
// no folder that looks complete remains. Same config (seed included) -> bit-identical files,
// whatever the number of threads (see SynthConfig::clips_per_synth).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tutti/synth/effects.h"
#include "tutti/synth/labels.h"
#include "tutti/synth/renderer.h"
#include "tutti/synth/synth_config.h"

namespace tutti::synth {

struct SynthClip {
  std::string name;  // "synth_000017" (file stem)
  Score score;
  int channels = 2;
  std::vector<float> audio;  // [frames, channels] interleaved, normalized (+ noise)
  std::vector<StrongLabel> strong;
  WeakLabels weak;          // [20]
  InstanceTruth instances;  // [K, 20]
};

// Per-clip seeds: stream 0 composes, 1 draws the noise, 2 the soundfont, 3 the effects, 4 the
// room's impulse response.
std::uint64_t clip_seed(std::uint64_t seed, int clip_index, int stream = 0);
std::string clip_name(int clip_index);  // "synth_%06d"

// Composes, renders and labels clip `clip_index` of `cfg` with `synth` (whose sample rate must be
// cfg.sample_rate_hz) and the palette of its soundfont.
SynthClip synthesize_clip(FluidSynthesizer& synth, const SynthConfig& cfg, const Palette& palette,
                          int clip_index);

// Renders a given score (composed or read from MIDI) the same way; with `fx` the effects chain is
// applied (effects.h) and its output level and noise replace the config's.
SynthClip synthesize_clip(FluidSynthesizer& synth, const SynthConfig& cfg, const Palette& palette,
                          int clip_index, Score score, const EffectsParams* fx);

// Index of the soundfont clip `clip_index` draws from a pool of `pool_size` (seed stream 2).
int draw_soundfont(std::uint64_t seed, int clip_index, std::size_t pool_size);

// clips.csv (written when SynthConfig::randomized()): one row per clip, what rendered it.
inline constexpr const char* kClipsCsvHeader =
    "file,generator,source,source_start_s,soundfont,programs,tempo_factor,detune_cents,part_levels_"
    "db,"
    "reverb_rt60_s,reverb_wet,reverb_predelay_s,tilt_db_per_octave,comp_threshold_db,comp_ratio,"
    "comp_attack_s,comp_release_s,stereo_width,peak_dbfs,noise_snr_db,noise_color,"
    "fluid_reverb_room,fluid_reverb_damp,fluid_reverb_width,fluid_reverb_level";

// The composer options a config implies (class names resolved to indices).
ComposerOptions composer_options(const SynthConfig& cfg);

// Writes [frames, channels] float audio as WAV through libsndfile (16-bit PCM, clipped, or 32-bit
// float without the PEAK chunk, whose timestamp would make files differ). Throws tutti::Error
// naming the file.
void write_wav(const std::filesystem::path& path, std::span<const float> audio, int channels,
               int sample_rate_hz, SampleFormat format);

struct SynthSummary {
  std::filesystem::path out_dir;
  int n_clips = 0;
  double audio_s = 0;                       // total audio written
  double wall_s = 0;                        // time taken
  SoundfontReport soundfont;                // the first (or only) font
  std::vector<SoundfontReport> soundfonts;  // every font of the pool
  std::vector<std::string> warnings;        // MIDI files skipped, one line each
  int skipped_files = 0;
  std::int64_t pairs = 0;            // (clip, instrument) pairs
  std::int64_t partial_pairs = 0;    // of which active for under 90% of the clip
  std::vector<int> clips_per_class;  // [20]
};

// Fraction of the clip during which a class sounds, from its strong labels.
double active_fraction(std::span<const StrongLabel> strong, int class_index, double duration_s);

// Renders the dataset into out_dir (see above). Throws tutti::UsageError for an invalid config, an
// existing out_dir (unless overwrite: then it is replaced only after the new one is complete) or
// a soundfont that plays fewer classes than cfg.max_instruments(); tutti::Error for I/O and
// synthesis failures. on_clip_done(clips_done) is called from worker threads after each clip.
SynthSummary write_synth_dataset(const SynthConfig& cfg, const std::filesystem::path& out_dir,
                                 bool overwrite = false,
                                 const std::function<void(int)>& on_clip_done = {});

}  // namespace tutti::synth
