// libFuzzer target: arbitrary bytes through the Standard MIDI File parser and the MIDI-to-score
// conversion of `tutti synth --midi`. tutti::Error is an expected rejection; crashes, sanitizer
// reports, other exceptions and scores that break the renderer's rules are bugs.
// Seeds: tests/fixtures/fuzz/fuzz_midi/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tutti/core/error.h"
#include "tutti/synth/midi_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace ts = tutti::synth;
  static const auto palette = ts::Palette::general_midi();
  try {
    const auto song = ts::parse_midi(std::span<const std::uint8_t>(data, size), "fuzz");
    if (!(song.length_s >= 0 && song.length_s <= ts::kMaxMidiSongS)) std::abort();
    const auto starts = ts::excerpt_starts(song.length_s, 30.0);
    for (std::size_t k = 0; k < starts.size() && k < 4; ++k) {
      ts::Score score;
      try {
        score = ts::midi_score(song, palette, 16000, 30.0, true, nullptr, starts[k]);
      } catch (const tutti::Error&) {
        continue;
      }
      for (const auto& p : score.parts) {
        if (p.channel < 0 || p.channel > 15) std::abort();
        for (const auto& n : p.notes)
          if (n.on < 0 || n.off <= n.on || n.off > score.num_samples || n.on % ts::kBlockSamples ||
              n.key < 0 || n.key > 127 || n.velocity < 1 || n.velocity > 127)
            std::abort();
        std::int64_t last = 0;
        for (const auto& v : p.volume_changes) {
          if (v.sample < last || v.sample >= score.num_samples || v.sample % ts::kBlockSamples ||
              v.volume < 0 || v.volume > 127)
            std::abort();
          last = v.sample;
        }
      }
    }
  } catch (const tutti::Error&) {
  }
  return 0;
}
