// The composer: a short piece of General MIDI music as note events, for one clip.
//
//   tutti::synth::ComposerOptions opt;                 // 10 s, 44.1 kHz, 1-5 instruments
//   auto score = tutti::synth::compose(opt, tutti::synth::Palette::general_midi(), seed);
//
// A piece shares one tempo (80-160 BPM), meter (4/4 or 3/4), key (any tonic, major or minor) and
// chord progression (one chord per bar, from common progressions). Each instrument plays a part
// for its role: bass lines on the chord roots, block chords / strums / pads for keyboards and
// guitars, broken chords for banjo and mallets, melodies for winds, brass, strings and voice,
// drum and cymbal patterns on channel 10. Each part sounds in one or more active regions: with
// probability partial_probability an instrument enters late, leaves early, plays in the middle
// or plays twice with a rest of at least 1.5 s, so instruments come and go inside a clip.
// With probability any_role_probability a melodic instrument plays any of the four melodic roles
// (a flute bass line, an arpeggiated violin, trumpet chords) instead of its own. With probability
// rhythm_section_probability the clip also gets drums, cymbals and bass (those of them allowed,
// playable and not drawn already), as most bands have.
// Keys stay inside each class's range (instruments.h); velocities vary per part and per note.
// Deterministic: the same options, palette and seed give the same score.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "tutti/synth/score.h"

namespace tutti::core {
class Rng;
}

namespace tutti::synth {

// What the soundfont can play: per class, the GM programs (1-based) and percussion keys that are
// available, and the drum kits (bank 128 presets). A class with nothing available is not played.
struct Palette {
  std::vector<std::vector<int>> programs;         // [20] 1-based GM programs per melodic class
  std::vector<std::vector<int>> percussion_keys;  // [20] keys per percussion class
  std::vector<int> drum_kits;                     // bank-128 preset numbers, e.g. {0, 8, 16}
  // [20] or empty: GS variation presets (bank, 0-based program) for classes without a GM program
  // (instruments.h variation_presets) that the soundfont has.
  std::vector<std::vector<std::pair<int, int>>> variations;

  // Every GM program and key of every synthesizable class; drum kit 0.
  static Palette general_midi();
  // [20] 1 when the class can be played with this palette.
  std::vector<std::uint8_t> playable() const;
  // A preset that plays melodic class `cls` (playable): (0, GM program - 1) drawn from its
  // programs, or a (bank, program) GS variation preset when it has no GM program.
  std::pair<int, int> draw_preset(int cls, core::Rng& rng) const;
};

struct ComposerOptions {
  double duration_s = 10.0;
  int sample_rate_hz = 44100;
  std::vector<double> instruments_per_clip = {0.15, 0.25, 0.25, 0.2, 0.15};  // weights of 1..N
  std::vector<int> classes;  // allowed class indices (empty: every playable class)
  double partial_probability = 0.5;
  // Chance that a melodic instrument plays a role drawn from all four melodic roles instead of
  // its class's (0: no random draw is made, so scores are those of a composer without it).
  double any_role_probability = 0;
  // Chance that drums, cymbals and bass join the drawn instruments (0: no random draw is made).
  double rhythm_section_probability = 0;
  bool reverb = true;  // random reverb sends (CC 91) when true, 0 otherwise
  double min_peak_dbfs = -12.0;
  double max_peak_dbfs = -1.0;
};

// Throws tutti::UsageError when the palette/allowed classes cannot supply one instrument.
// The instrument count is capped at the number of playable allowed classes.
Score compose(const ComposerOptions& options, const Palette& palette, std::uint64_t seed);

}  // namespace tutti::synth
