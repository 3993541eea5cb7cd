// DX7 voice banks: the voice format of Yamaha's DX7 (and the ROM banks Debian's hexter package
// ships in /usr/share/hexter), and the General MIDI programs a voice plays by its name. The FM
// soundfont of fm_font.h is made of them; this file has no plugin or soundfont dependency.
//
//   auto voices = tutti::synth::read_dx7_bank("/usr/share/hexter/dx7_roms.dx7");  // 128 voices
//   tutti::synth::fm_voice_program_group(voices[14].name);  // "BASS    1" -> {33, ..., 38}
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tutti::synth {

struct Dx7Voice {
  std::string name;                        // the voice's 10-character name, trailing blanks cut
  std::array<std::uint8_t, 128> packed{};  // the DX7 packed (bulk dump) voice format
};

// Reads a DX7 voice bank: packed 128-byte voices back to back (hexter's .dx7 files, any number
// of voices) or a 32-voice bulk dump (4,104 bytes: F0 43 0n 09 20 00, 4,096 bytes, checksum, F7).
// Throws tutti::Error naming the file when it cannot be read, has another size, has a bulk dump
// checksum that does not match, or holds a byte above 127 (DX7 data are 7-bit).
std::vector<Dx7Voice> read_dx7_bank(const std::filesystem::path& path);

// The GM program group a voice plays, by its name: the group's 1-based GM programs, or an empty
// vector when the name matches none (sound effects, "TRAIN", "LASER GUN").
std::vector<int> fm_voice_program_group(const std::string& voice_name);

}  // namespace tutti::synth
