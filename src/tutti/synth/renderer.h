// FluidSynth rendering of scores, and what a soundfont can play.
//
//   tutti::synth::FluidSynthesizer fs("/usr/share/sounds/sf2/TimGM6mb.sf2", 44100,
//   /*reverb=*/true); auto report = fs.check();                     // which classes the soundfont
//   can play std::vector<float> lr = fs.render(score);     // [num_samples, 2] interleaved stereo
//
// Notes go straight to the synthesizer (fluid_synth_noteon/noteoff, program_select, cc) and audio
// is rendered with fluid_synth_write_float in blocks between events. FluidSynth applies an event
// at the start of its next 64-sample block, so scores put every event on that grid (score.h).
// FluidSynth's own log output is silenced process-wide; its messages end up in tutti::Error.
// Thread safety: one FluidSynthesizer per thread; different objects may render concurrently.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/synth/composer.h"
#include "tutti/synth/score.h"

namespace tutti::synth {

enum class ClassStatus {
  kOk,             // every GM program / percussion key of the class is present and audible
  kPartial,        // some are missing: only the present ones are used (no FluidSynth fallback)
  kMissing,        // none present: the class is skipped, its labels are unknown
  kNoGeneralMidi,  // mandolin, ukulele: no GM program exists
};
std::string class_status_name(ClassStatus s);

struct ClassSupport {
  int class_index = 0;
  std::string name;
  ClassStatus status = ClassStatus::kOk;
  std::vector<int> available;                   // 1-based GM programs, or percussion keys
  std::vector<int> missing;                     // absent or silent programs / keys
  std::vector<std::pair<int, int>> variations;  // GS variation presets present (bank, program)
};

// GM drum kits tried in bank 128 (GS numbering): Standard, Room, Power, Electronic, TR-808, Jazz,
// Brush. The Orchestra kit (48) is left out: its keys 41-53 are timpani, not toms.
inline const std::vector<int> kGmDrumKits = {0, 8, 16, 24, 25, 32, 40};

struct SoundfontReport {
  std::filesystem::path path;
  std::string name;  // the name FluidSynth reports
  int num_presets = 0;
  std::vector<int> drum_kits;         // usable kits (have every key the standard kit sounds)
  std::vector<ClassSupport> classes;  // [20], openmic20 order
  bool variations_checked = false;    // check(true): GS variation presets were looked up

  // The programs, keys and kits to compose with.
  Palette palette() const;
  // One line per class that is not kOk (empty when the soundfont has everything).
  std::vector<std::string> problems() const;
  core::Json to_json() const;
};

class FluidSynthesizer {
 public:
  // Loads the soundfont. Throws tutti::Error naming the file when it is missing, unreadable or
  // not a soundfont FluidSynth can load; tutti::UsageError for a bad sample rate.
  FluidSynthesizer(const std::filesystem::path& soundfont, int sample_rate_hz, bool reverb);
  ~FluidSynthesizer();
  FluidSynthesizer(const FluidSynthesizer&) = delete;
  FluidSynthesizer& operator=(const FluidSynthesizer&) = delete;

  // Inspects the soundfont: presets per GM program (bank 0) and drum kit (bank 128), and whether
  // each program / percussion key makes sound (a short test note). With `variations`, classes
  // without a GM program are looked up as GS variation presets (instruments.h) and are kOk when
  // one is present and sounds. Resets the synthesizer.
  SoundfontReport check(bool variations = false);

  // Renders a score from a reset synthesizer: [score.num_samples, 2] interleaved stereo, at
  // FluidSynth's gain (not normalized). Throws tutti::Error if a part's preset cannot be
  // selected or the score's sample rate differs from the synthesizer's.
  std::vector<float> render(const Score& score);

  int sample_rate_hz() const { return sample_rate_hz_; }
  const std::filesystem::path& soundfont() const { return soundfont_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::filesystem::path soundfont_;
  int sample_rate_hz_;
};

// check() on a fresh synthesizer (44.1 kHz, no reverb).
SoundfontReport check_soundfont(const std::filesystem::path& soundfont);

}  // namespace tutti::synth
