// A synthetic piece as note events: what the composer writes and the renderer plays.
// Times are sample indices at the score's sample rate, on FluidSynth's 64-sample block grid
// (kBlockSamples): FluidSynth applies an event at the start of its next internal block, so events
// on the grid sound exactly where the labels say they do.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "tutti/synth/instruments.h"

namespace tutti::synth {

// FluidSynth's internal block size (FLUID_BUFSIZE): events take effect on these boundaries.
inline constexpr std::int64_t kBlockSamples = 64;
// General MIDI percussion channel (channel 10, index 9).
inline constexpr int kPercussionChannel = 9;

struct Note {
  std::int64_t on = 0;   // note-on sample (multiple of kBlockSamples), >= 0
  std::int64_t off = 0;  // note-off sample (multiple of kBlockSamples), on < off <= num_samples
  int key = 60;          // MIDI key 0..127
  int velocity = 100;    // 1..127
};

// A part's volume (CC 7) from `sample` on: MIDI files that change their channels' loudness.
struct VolumeChange {
  std::int64_t sample = 0;  // multiple of kBlockSamples, 0 <= sample < num_samples
  int volume = 100;         // 0..127
};

// A SoundFont 2.01 generator offset on a part's channel (fluid_synth_set_gen: added to what the
// preset sets, as an NRPN would). Generator numbers and units are the specification's (§8.1.3).
struct GeneratorOffset {
  int generator = 0;  // e.g. kGenFilterFc
  double value = 0;   // in the generator's units: cents, centibels or timecents
};
inline constexpr int kGenVibLfoToPitch = 6;   // cents of vibrato
inline constexpr int kGenFilterFc = 8;        // low-pass cutoff, absolute cents
inline constexpr int kGenFilterQ = 9;         // low-pass resonance, centibels
inline constexpr int kGenVolEnvAttack = 34;   // timecents
inline constexpr int kGenVolEnvDecay = 36;    // timecents
inline constexpr int kGenVolEnvSustain = 37;  // centibels of attenuation
inline constexpr int kGenVolEnvRelease = 38;  // timecents

struct Part {
  int class_index = 0;  // into instrument_classes()
  Role role = Role::kMelody;
  int channel = 0;   // MIDI channel 0..15 (kPercussionChannel for drums/cymbals)
  int bank = 0;      // 0 (melodic) or 128 (percussion kits)
  int program = 0;   // 0-based preset number in `bank` (GM program - 1, or the drum kit)
  int volume = 100;  // CC 7 at the start
  std::vector<VolumeChange> volume_changes;  // later CC 7 values, sorted by sample
  int pan = 64;                              // CC 10
  int reverb_send = 0;                       // CC 91
  std::vector<GeneratorOffset> generators;   // sound changes on the channel (melodic parts)
  std::vector<Note> notes;  // sorted by on; the same key never overlaps itself on a channel
};

// FluidSynth's reverb parameters, in its ranges (fluid_synth_set_reverb_group_*).
struct FluidReverb {
  double room_size = 0.2;  // [0, 1]
  double damping = 0.0;    // [0, 1]
  double width = 0.5;      // [0, 100]
  double level = 0.9;      // [0, 1]
};

struct Score {
  int sample_rate_hz = 44100;
  std::int64_t num_samples = 0;  // clip length in samples
  double tempo_bpm = 120;
  int beats_per_bar = 4;
  int tonic = 0;  // pitch class 0 = C
  bool minor = false;
  double peak_dbfs = -3;       // the rendered mix is normalized to this peak
  double first_bar_s = 0;      // start of bar 0 (<= 0: the clip may start inside a bar)
  double bar_s = 2;            // bar length
  std::vector<int> bar_roots;  // pitch class of each bar's chord root
  std::vector<Part> parts;
  // Every melodic channel is tuned this many cents off equal temperament (FluidSynth key tuning);
  // 0 leaves the synthesizer's tuning alone.
  double detune_cents = 0;
  // FluidSynth's own reverb for this clip; unset leaves the synthesizer's settings (FluidSynth's
  // defaults unless an earlier clip set them: render() then restores the defaults).
  std::optional<FluidReverb> fluid_reverb;

  double duration_s() const { return static_cast<double>(num_samples) / sample_rate_hz; }
};

}  // namespace tutti::synth
