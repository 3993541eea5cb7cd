// A General MIDI soundfont of FM synthesis voices, for training fonts that are not sampled
// instruments. DX7 voice banks (the ROM banks Debian's hexter package ships in /usr/share/hexter)
// are played note by note through hexter, a DX7 emulator, hosted as a DSSI plugin; the notes
// become the samples of an SF2 file written with libinstpatch, one preset per GM program.
//
//   tutti::synth::FmFontConfig cfg;
//   cfg.banks = {"/usr/share/hexter/dx7_roms.dx7", "/usr/share/hexter/tx7_roms.dx7"};
//   auto summary = tutti::synth::build_fm_font(cfg, "dx7.sf2");   // atomic write
//
// A voice's GM program comes from its name ("E.PIANO 1" -> piano, "FB:Trombon" -> trombone):
// fm_voice_program_group(). The programs of a group share the group's voices in turn, so that a
// class's programs sound different. No drum kit: FM percussion voices do not make a GM kit, so
// the drums and cymbals classes are missing from such a font (tutti synth skips them, as it skips
// any class a font lacks).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tutti/synth/dx7_bank.h"

namespace tutti::synth {

struct FmFontConfig {
  std::vector<std::string> banks;  // DX7 bank files, read in this order
  std::string plugin = "/usr/lib/dssi/hexter.so";
  int sample_rate_hz = 22050;
  double hold_s = 4.0;     // each sample: the note held this long, then released
  double release_s = 0.5;  // and this much of its release recorded
  int key_step = 6;        // one sample every key_step keys over keys 24-108
  int velocity = 100;
  std::string name = "tutti DX7 FM";  // the soundfont's name (INFO/INAM)

  // Throws tutti::UsageError for an impossible value.
  void validate() const;
};

struct FmFontSummary {
  int voices_read = 0;
  int voices_used = 0;  // voices that became a preset
  int samples = 0;
  // One entry per preset: 1-based GM program and the voice that plays it.
  std::vector<std::pair<int, std::string>> presets;
};

// Renders and writes the soundfont to `out` (atomically). Throws tutti::Error naming the plugin
// when it cannot be loaded or is not hexter, naming a bank as read_dx7_bank does, and when no
// voice of the banks matches a GM program group.
FmFontSummary build_fm_font(const FmFontConfig& cfg, const std::filesystem::path& out);

// One note of one voice through the plugin: mono float samples at cfg.sample_rate_hz, the note
// held cfg.hold_s and released for cfg.release_s. For tests and for build_fm_font.
std::vector<float> render_dx7_note(const FmFontConfig& cfg, const Dx7Voice& voice, int key);

}  // namespace tutti::synth
