// Standard MIDI Files (SMF 1.0, formats 0 and 1) as labeled scores for `tutti synth --midi`.
//
//   auto song = tutti::synth::read_midi_file("song.mid");   // throws tutti::Error naming the file
//   auto score = tutti::synth::midi_score(song, palette, 44100, /*max_duration_s=*/10, reverb);
//   // score.parts: one per (channel, bank, program) whose GM program maps to a class, or whose
//   // (bank, program) is a GS variation preset of a class the palette has (instruments.h),
//   // drums and cymbals from channel 10 by key; other notes are muted (never sound unlabeled).
//
// The parser reads note on/off, program change, controllers 0 (bank select), 7 (volume) and 11
// (expression) over the whole song, 10 (pan), 64 (sustain: a held note ends at the pedal's
// release), 91 (reverb send) and 121 (reset all controllers: pedal up, expression 127), tempo and
// end-of-track; other events are skipped. Bounds: at most kMaxTracks tracks, kMaxEvents events,
// tempos in [kMinBpm, kMaxBpm], songs up to kMaxSongS seconds: anything beyond is refused with a
// message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tutti/synth/composer.h"
#include "tutti/synth/score.h"

namespace tutti::synth {

inline constexpr int kMaxMidiTracks = 256;
inline constexpr std::int64_t kMaxMidiEvents = 4'000'000;
inline constexpr double kMinMidiBpm = 8;
inline constexpr double kMaxMidiBpm = 1000;
inline constexpr double kMaxMidiSongS = 3600;
inline constexpr std::uintmax_t kMaxMidiFileBytes = 64ull << 20;

struct MidiNote {
  int channel = 0;  // 0..15 (9 = percussion)
  int program = 0;  // 0-based program selected on the channel when the note started
  int bank = 0;     // bank select (controller 0) in force then
  int key = 60;
  int velocity = 100;
  double on_s = 0;
  double off_s = 0;  // after the sustain pedal's release when the pedal held the note
};

struct MidiChannelSetup {  // first values of the channel's controllers (GM defaults otherwise)
  int pan = 64;
  int reverb_send = 40;
};

// A channel's level from t_s on: volume x expression / 127 (controllers 7 and 11), the one volume
// value that sounds as loud under General MIDI's 40 log10 curves (each controller attenuates by
// 40 log10(value / 127) dB).
struct MidiLevelChange {
  double t_s = 0;
  int level = 100;
};
// General MIDI's defaults: volume 100, expression 127.
inline constexpr int kMidiDefaultLevel = 100;
// Notes that never reach this level are muted (not played, not labeled): 40 log10(13 / 127) =
// -39.6 dB below full volume, where a part cannot be heard beside others (fades from and to
// silence, parts a song keeps at volume 0).
inline constexpr int kMinAudibleMidiLevel = 13;

struct MidiSong {
  std::string name;  // the file, for messages
  int format = 0;
  int num_tracks = 0;
  double first_tempo_bpm = 120;
  double length_s = 0;          // last note-off
  std::vector<MidiNote> notes;  // sorted by on_s
  MidiChannelSetup channels[16];
  std::vector<MidiLevelChange> levels[16];  // each channel's level changes, in time order
};

// Parses SMF bytes; `name` is used in error messages. Throws tutti::Error ("midi: NAME: ...").
MidiSong parse_midi(std::span<const std::uint8_t> bytes, const std::string& name);
// Reads and parses a file (at most kMaxMidiFileBytes).
MidiSong read_midi_file(const std::filesystem::path& path);

struct MidiScoreStats {
  std::int64_t notes = 0;              // notes in the clip
  std::int64_t muted_notes = 0;        // unmapped programs / keys, not in the soundfont, or quiet
  std::int64_t quiet_notes = 0;        // of those: below kMinAudibleMidiLevel all through
  std::vector<int> unmapped_programs;  // 1-based GM programs no class maps (sorted)
};

// The clip: the song from start_s for min(song length + 1 s - start_s, max_duration_s), notes on
// the block grid (a note sounding at start_s starts at the clip's first sample). Throws
// tutti::Error naming the song when nothing in it can be labeled and played: no notes, only
// unmapped programs, or only instruments the palette lacks.
Score midi_score(const MidiSong& song, const Palette& palette, int sample_rate_hz,
                 double max_duration_s, bool reverb, MidiScoreStats* stats = nullptr,
                 double start_s = 0);

// Plays each melodic part, with probability `probability`, by a class drawn uniformly from the
// melodic classes the palette has (a program of it, or a GS variation preset), and moves its keys
// by the whole octaves that put most of them in the class's range; keys still outside are folded
// into it by octaves. The part's label follows (class_index). Percussion parts are untouched;
// probability 0 makes no random draw. Deterministic in `seed`.
void reassign_instruments(Score& score, const Palette& palette, double probability,
                          std::uint64_t seed);

// Leaves out each part that has notes (percussion too) with probability `probability`, so that a
// generator's full band also comes as duos and solos; when every part would go, one drawn
// uniformly stays. Parts without notes are kept. Probability 0 makes no random draw.
// Deterministic in `seed`.
void drop_parts(Score& score, double probability, std::uint64_t seed);

// Start times of the excerpts that cover a song of length_s in clips of duration_s: 0,
// duration_s, 2 duration_s, ... while the excerpt holds at least min_s of the song.
std::vector<double> excerpt_starts(double length_s, double duration_s, double min_s = 1.0);

// MIDI files named by `items`: files as given, folders searched recursively for *.mid / *.midi
// (sorted). Throws tutti::UsageError for a missing path or a folder without MIDI files.
std::vector<std::filesystem::path> resolve_midi_files(const std::vector<std::string>& items);

}  // namespace tutti::synth
