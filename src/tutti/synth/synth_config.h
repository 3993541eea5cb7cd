// SynthConfig: every option of the synthetic-data generator, with defaults, validate() and JSON.
//
//   tutti::synth::SynthConfig cfg;           // 100 clips of 10 s, TimGM6mb, 44.1 kHz, reverb on
//   cfg.n_clips = 500; cfg.seed = 7; cfg.noise_snr_db = 20.0;
//   cfg.validate();                          // throws tutti::UsageError on impossible options
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::synth {

enum class NoiseColor { kWhite, kPink };
enum class SampleFormat { kPcm16, kFloat };

inline constexpr const char* kDefaultSoundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";

struct SynthConfig {
  int n_clips = 100;           // clips to render (> 0)
  std::uint64_t seed = 0;      // everything random derives from it (per clip)
  double duration_s = 10.0;    // clip length, (0, 600]
  int sample_rate_hz = 44100;  // [8000, 192000]
  int channels = 2;            // 1 (mono mix) or 2 (FluidSynth's stereo)
  SampleFormat sample_format = SampleFormat::kPcm16;  // WAV sample format
  std::string soundfont = kDefaultSoundfont;          // any .sf2/.sf3 file
  // Relative weights of 1, 2, ..., N instruments per clip (N = size, at most the number of
  // classes the soundfont can play). Default: 1..5, centered on 2-3.
  std::vector<double> instruments_per_clip = {0.15, 0.25, 0.25, 0.2, 0.15};
  // Restrict to these class names (empty: every synthesizable class).
  std::vector<std::string> classes;
  bool reverb = true;                  // FluidSynth's reverb (random send per part)
  std::optional<double> noise_snr_db;  // add background noise at this SNR (dB, [-20, 100])
  NoiseColor noise_color = NoiseColor::kWhite;
  double min_peak_dbfs = -12.0;      // the mix is normalized to a random peak in
  double max_peak_dbfs = -1.0;       //   [min_peak_dbfs, max_peak_dbfs] (dBFS, <= 0)
  double partial_probability = 0.5;  // chance that an instrument plays only part of the clip
  double release_s = 0.1;            // strong labels: a note sounds until note-off + release
  double merge_gap_s = 0.5;          // strong labels: gaps shorter than this are merged
  double hop_s = 0.96;               // instance truth: instance length (VGGish frame)
  double instance_fraction = 0.5;    // instance truth: active when sounding >= this fraction
  int threads = 0;                   // worker threads (0: all cores)
  // A fresh synthesizer renders each group of this many consecutive clips (clip i belongs to
  // group i / clips_per_synth). FluidSynth voices keep a little state from earlier notes, so a
  // clip's bits depend on the clips rendered before it by the same synthesizer; fixed groups make
  // the output independent of the number of threads. Larger groups amortize loading the font.
  int clips_per_synth = 16;

  // Randomized synthesis (docs/synth.md). None of these is set by default; with all of them at
  // their defaults the output is what it was before they existed, bit for bit.
  std::vector<std::string> soundfonts;  // a pool (files or folders): each clip draws one
  bool effects = false;                 // per-clip random effects chain (effects.h)
  bool test_font_ok = false;            // allow FluidR3 (test sets only; font_pool.h)
  std::vector<std::string> midi;        // render these MIDI files / folders instead of composing
  bool midi_split = false;              // each MIDI file: consecutive clips of duration_s
  std::string generator;                // recorded per clip: "composer", "midi" or e.g. "mma"
  // The composer: chance that a melodic instrument plays a role drawn from all four (bass,
  // chords, arpeggio, melody) instead of its own (instruments.h), so that what an instrument
  // plays says less about which instrument it is.
  double any_role_probability = 0;
  // The composer: chance that drums, cymbals and bass join a clip's drawn instruments, so that
  // melodic instruments are also heard over a rhythm section, as in most songs (composer.h).
  double rhythm_section_probability = 0;
  // MIDI files: chance that a melodic part is played by an instrument class drawn at random from
  // those the clip's soundfont has (its keys moved by octaves into that class's range), so that
  // what a part plays says less about which instrument plays it (midi_file.h).
  double any_instrument_probability = 0;
  // MIDI files: chance that a part (drums too) is left out of a clip, so that a generator's full
  // band also comes as duos and solos, as a composer's sparser textures do (midi_file.h).
  double drop_part_probability = 0;
  // Chance that a melodic part's sound is changed: SoundFont generator offsets on its envelope,
  // filter and vibrato, so that one preset sounds as many (effects.h, draw_timbres).
  double timbre_probability = 0;

  // True when any option above asks for the randomized output (then clips.csv is written).
  bool randomized() const {
    return !soundfonts.empty() || effects || !midi.empty() || timbre_probability > 0;
  }
  // The generator name recorded in clips.csv.
  std::string generator_name() const {
    return !generator.empty() ? generator : midi.empty() ? "composer" : "midi";
  }

  // Throws tutti::UsageError naming the option and the bad value.
  void validate() const;
  // Largest instrument count with a non-zero weight.
  int max_instruments() const;
};

core::Json to_json(const SynthConfig& cfg);
// Missing keys keep their defaults; unknown keys and wrong types throw tutti::UsageError.
SynthConfig synth_config_from_json(const core::Json& j);

std::string noise_color_name(NoiseColor c);
NoiseColor parse_noise_color(const std::string& name);  // "white" | "pink", else UsageError
std::string sample_format_name(SampleFormat f);
SampleFormat parse_sample_format(const std::string& name);  // "pcm16" | "float"

}  // namespace tutti::synth
