#include "tutti/synth/dx7_bank.h"

#include <algorithm>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/text.h"

namespace tutti::synth {

namespace fs = std::filesystem;

namespace {

constexpr int kVoiceBytes = 128;

bool contains_any(const std::string& s, const std::vector<const char*>& words) {
  for (const char* w : words)
    if (s.find(w) != std::string::npos) return true;
  return false;
}

std::vector<int> programs(int first, int last) {
  std::vector<int> v;
  for (int p = first; p <= last; ++p) v.push_back(p);
  return v;
}

}  // namespace

std::vector<Dx7Voice> read_dx7_bank(const fs::path& path) {
  const auto bytes = core::read_file_bytes(path);
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  if (n == 4104 && bytes[0] == 0xF0) {
    check(bytes[1] == 0x43 && bytes[3] == 0x09 && bytes[4] == 0x20 && bytes[5] == 0x00 &&
              bytes[4103] == 0xF7,
          "fm-font: {}: a 4,104-byte file that is not a DX7 32-voice bulk dump", path.string());
    unsigned sum = 0;
    for (std::size_t i = 6; i < 6 + 4096; ++i) sum += bytes[i];
    check(((128 - (sum & 0x7f)) & 0x7f) == bytes[4102],
          "fm-font: {}: the bulk dump's checksum does not match its data", path.string());
    p += 6;
    n = 4096;
  }
  check(n > 0 && n % kVoiceBytes == 0,
        "fm-font: {}: not a DX7 voice bank ({} bytes; expected packed 128-byte voices or a "
        "4,104-byte bulk dump)",
        path.string(), bytes.size());
  std::vector<Dx7Voice> voices(n / kVoiceBytes);
  for (std::size_t v = 0; v < voices.size(); ++v) {
    std::copy(p + v * kVoiceBytes, p + (v + 1) * kVoiceBytes, voices[v].packed.begin());
    for (int i = 0; i < kVoiceBytes; ++i)
      check(voices[v].packed[i] < 128,
            "fm-font: {}: voice {} has byte {} = {} (DX7 data are 7-bit)", path.string(), v + 1, i,
            voices[v].packed[i]);
    std::string name(voices[v].packed.begin() + 118, voices[v].packed.end());
    while (!name.empty() && (name.back() == ' ' || name.back() == '\0')) name.pop_back();
    voices[v].name = name;
  }
  return voices;
}

std::vector<int> fm_voice_program_group(const std::string& voice_name) {
  std::string s = core::ascii_lower(voice_name);
  if (s.rfind("fb:", 0) == 0) s = s.substr(3);
  // Sound effects and sweeps first: their names hold instrument words ("GRAND PRIX").
  if (contains_any(
          s, {"prix",    "train",    "take off", "laser",    "explosion", "helicop",    "alarm",
              "racing",  "storm",    "water",    "wasp",     "descent",   "octave war", "st.helens",
              "smash",   "timewarp", "tuberise", "syn-rise", "flexatone", "winds",      "ghostie",
              "wildwar", "mars to",  "zingplp",  "clock",    "heifer",    "refs whisl"}))
    return {};
  struct Group {
    std::vector<const char*> words;
    std::vector<int> programs;
  };
  // In order: the first group with a word in the name wins ("bassoon" before "bass").
  static const std::vector<Group> groups = {
      {{"bassoon"}, {71}},
      {{"bass", "synbas", "plukbas", "uprtbas", "flapbas", "monobas", "fretles"}, programs(33, 38)},
      {{"harpsi"}, {7}},
      {{"clav"}, {8}},
      {{"piano", "grand", "pf", "honkey", "e.p", "elec", "tine", "newep"}, programs(1, 6)},
      {{"organ", "org", "pipe", "caliope"}, programs(17, 21)},
      {{"accordion", "squeeze"}, {22, 24}},
      {{"harmonica", "harmon", "hrmnca"}, {23}},
      {{"vibe", "marimb", "xylo", "glock", "celest", "karimba", "mallet"}, programs(9, 14)},
      {{"guitar", "guitr", "gtr", "gt"}, programs(25, 31)},
      {{"violin", "vio"}, {41, 111}},
      {{"cello"}, {43}},
      {{"pizzic"}, {46}},
      {{"harp"}, {47}},
      {{"timpani", "syntimp"}, {48}},
      {{"string", "strng", "strg", "lostrg", "lostrig", "richst", "5th str", "orchest", "str"},
       programs(49, 51)},
      {{"voice", "choir", "vox", "voc", "synvoic"}, {53, 54, 55}},
      {{"trumpet", "trumpt", "tmpt", "flugel"}, {57, 60}},
      {{"trombon"}, {58}},
      {{"horn"}, {61}},
      {{"brass", "brs", "hardbr", "hradbr", "percbr"}, programs(62, 64)},
      {{"sax"}, programs(65, 68)},
      {{"oboe"}, {69}},
      {{"clarinet", "clarine", "clar"}, {72}},
      {{"piccolo"}, {73}},
      {{"recorder"}, {75}},
      {{"pan flt"}, {76}},
      {{"flute", "flt"}, {74}},
      {{"bell", "chime", "tubebe"}, {15}},
      {{"syn", "lead", "analog", "fantasy"}, programs(81, 96)},
      {{"sitar"}, {105}},
      {{"banjo"}, {106}},
      {{"koto", "zither"}, {108}},
      {{"steel dr", "steeldr"}, {115}},
  };
  for (const auto& g : groups)
    if (contains_any(s, g.words)) return g.programs;
  return {};
}

}  // namespace tutti::synth
