#include "tutti/synth/instruments.h"

namespace tutti::synth {

namespace {

std::vector<int> range(int a, int b) {
  std::vector<int> v;
  for (int i = a; i <= b; ++i) v.push_back(i);
  return v;
}

InstrumentClass melodic(std::string name, std::vector<int> programs, std::vector<Role> roles,
                        int low, int high) {
  InstrumentClass c;
  c.name = std::move(name);
  c.gm_programs = std::move(programs);
  c.roles = std::move(roles);
  c.low_key = low;
  c.high_key = high;
  return c;
}

InstrumentClass percussion(std::string name, std::vector<int> keys, Role role) {
  InstrumentClass c;
  c.name = std::move(name);
  c.percussion = true;
  c.percussion_keys = std::move(keys);
  c.roles = {role};
  c.low_key = 35;
  c.high_key = 81;
  return c;
}

InstrumentClass absent(std::string name) {
  InstrumentClass c;
  c.name = std::move(name);
  c.synthesizable = false;
  return c;
}

// No GM program, but a GS variation preset some soundfonts have (and the parts it would play).
InstrumentClass variation(std::string name, std::vector<std::pair<int, int>> presets,
                          std::vector<Role> roles, int low, int high) {
  InstrumentClass c = absent(std::move(name));
  c.variation_presets = std::move(presets);
  c.roles = std::move(roles);
  c.low_key = low;
  c.high_key = high;
  return c;
}

std::vector<InstrumentClass> make_classes() {
  using R = Role;
  // Key ranges: the usual written ranges of each instrument (sounding pitch), trimmed to where
  // GM soundfonts sample them well. Sources: standard orchestration tables (e.g. Adler, "The
  // Study of Orchestration"); GM presets for saxophones and mallets span several instruments, so
  // their range is the common part.
  return {
      melodic("accordion", {22, 24}, {R::kChords, R::kMelody}, 53, 84),
      melodic("banjo", {106}, {R::kArpeggio}, 50, 76),
      melodic("bass", range(33, 38), {R::kBass}, 28, 55),
      melodic("cello", {43}, {R::kMelody, R::kBass}, 36, 69),
      melodic("clarinet", {72}, {R::kMelody}, 52, 84),
      percussion("cymbals", {42, 44, 46, 49, 57, 51, 59, 52, 55}, R::kCymbals),
      percussion("drums", {35, 36, 38, 40, 37, 41, 43, 45, 47, 48, 50}, R::kDrums),
      melodic("flute", {74}, {R::kMelody}, 60, 93),
      melodic("guitar", range(25, 31), {R::kChords, R::kArpeggio}, 40, 76),
      melodic("mallet_percussion", range(9, 14), {R::kArpeggio, R::kMelody}, 60, 88),
      variation("mandolin", {{16, 25}}, {R::kArpeggio, R::kMelody}, 55, 88),
      melodic("organ", range(17, 21), {R::kChords}, 36, 84),
      melodic("piano", range(1, 6), {R::kChords, R::kArpeggio}, 36, 96),
      melodic("saxophone", range(65, 68), {R::kMelody}, 49, 77),
      melodic("synthesizer", range(81, 96), {R::kChords, R::kMelody}, 36, 96),
      melodic("trombone", {58}, {R::kMelody}, 40, 72),
      melodic("trumpet", {57, 60}, {R::kMelody}, 54, 82),
      variation("ukulele", {{8, 24}}, {R::kChords, R::kArpeggio}, 60, 81),
      melodic("violin", {41, 111}, {R::kMelody}, 55, 96),
      melodic("voice", {53, 54, 55}, {R::kMelody}, 48, 79),
  };
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kBass:
      return "bass";
    case Role::kChords:
      return "chords";
    case Role::kArpeggio:
      return "arpeggio";
    case Role::kMelody:
      return "melody";
    case Role::kDrums:
      return "drums";
    case Role::kCymbals:
      return "cymbals";
  }
  return "?";
}

const std::vector<InstrumentClass>& instrument_classes() {
  static const std::vector<InstrumentClass> classes = make_classes();
  return classes;
}

int num_instrument_classes() { return static_cast<int>(instrument_classes().size()); }

std::optional<int> instrument_index(std::string_view name) {
  const auto& cs = instrument_classes();
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (cs[i].name == name) return static_cast<int>(i);
  return std::nullopt;
}

std::vector<int> synthesizable_classes() {
  std::vector<int> out;
  const auto& cs = instrument_classes();
  for (std::size_t i = 0; i < cs.size(); ++i)
    if (cs[i].synthesizable) out.push_back(static_cast<int>(i));
  return out;
}

int class_of_gm_program(int program_1based) {
  const auto& cs = instrument_classes();
  for (std::size_t i = 0; i < cs.size(); ++i)
    for (int p : cs[i].gm_programs)
      if (p == program_1based) return static_cast<int>(i);
  return -1;
}

}  // namespace tutti::synth
