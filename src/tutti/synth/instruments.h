// The instrument classes the synthesizer can play: the OpenMIC-2018 class list (openmic20 order)
// mapped onto General MIDI. Each class is a set of GM programs (1-based, as the GM tables number
// them) or, for drums and cymbals, a set of GM percussion keys played on MIDI channel 10 (index 9).
//
//   const auto& classes = tutti::synth::instrument_classes();   // 20 classes, openmic20 order
//   classes[8].name == "guitar"; classes[8].gm_programs == {25..31}
//   classes[10].synthesizable == false                           // mandolin: no GM program
//
// Mandolin and ukulele have no General MIDI program: they never sound in synthetic clips, and
// their labels are unknown (mask false), never known-negative.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tutti::synth {

// What kind of part a class plays in a piece (composer.h).
enum class Role {
  kBass,      // bass line on the chord roots
  kChords,    // block chords / strums / pads (keyboards, guitars)
  kArpeggio,  // broken chords (banjo, mallets, guitars)
  kMelody,    // a single line (winds, brass, strings, voice)
  kDrums,     // kick, snare, toms on channel 10
  kCymbals,   // hi-hats, ride, crash on channel 10
};

std::string_view role_name(Role role);

struct InstrumentClass {
  std::string name;                  // OpenMIC name, e.g. "mallet_percussion"
  bool synthesizable = true;         // false: mandolin, ukulele
  bool percussion = false;           // true: plays keys on channel 10 (bank 128)
  std::vector<int> gm_programs;      // 1-based GM program numbers (melodic classes)
  std::vector<int> percussion_keys;  // GM percussion keys (percussion classes)
  std::vector<Role> roles;           // parts this class can play; the composer picks one
  // Roland GS variation presets (bank, 0-based program) that play this class in soundfonts that
  // have them: mandolin (bank 16, program 25) and ukulele (bank 8, program 24) have no GM program
  // but several soundfonts carry these. Used by randomized synthesis only (docs/synth.md).
  std::vector<std::pair<int, int>> variation_presets;
  int low_key = 0;  // playable MIDI key range (inclusive), melodic classes
  int high_key = 127;
};

// The 20 OpenMIC classes in openmic20 (class-map.json) order.
const std::vector<InstrumentClass>& instrument_classes();
int num_instrument_classes();
// Index of the class with this name, or std::nullopt.
std::optional<int> instrument_index(std::string_view name);
// Indices of the synthesizable classes (18 of the 20).
std::vector<int> synthesizable_classes();

// GM program (1-based) -> class index, or -1 when no class uses that program.
int class_of_gm_program(int program_1based);

}  // namespace tutti::synth
