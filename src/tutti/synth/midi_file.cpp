#include "tutti/synth/midi_file.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "tutti/core/error.h"
#include "tutti/core/random.h"
#include "tutti/core/text.h"

namespace tutti::synth {

namespace fs = std::filesystem;

namespace {

// A key struck again while it sounds: the earlier note ends where the next one starts (one
// FluidSynth voice per key and channel is what the labels assume).
void end_restruck_notes(Part& part) {
  auto& ns = part.notes;
  std::stable_sort(ns.begin(), ns.end(), [](const Note& a, const Note& b) { return a.on < b.on; });
  for (std::size_t i = 0; i < ns.size(); ++i)
    for (std::size_t j = i + 1; j < ns.size() && ns[j].on < ns[i].off; ++j)
      if (ns[j].key == ns[i].key) ns[i].off = std::max(ns[i].on + kBlockSamples, ns[j].on);
  std::erase_if(ns, [](const Note& n) { return n.off <= n.on; });
}

// One event after the tracks are read: absolute tick, then what it does.
struct RawEvent {
  std::int64_t tick = 0;
  int track = 0;
  std::int64_t order = 0;  // position in the file, to keep simultaneous events in file order
  int status = 0;          // 0x80..0xEF channel message, 0x51 tempo (meta), 0 otherwise
  int a = 0, b = 0;        // data bytes; tempo: microseconds per quarter note in `a`
};

class Reader {
 public:
  Reader(std::span<const std::uint8_t> d, const std::string& name) : d_(d), name_(name) {}
  std::size_t pos() const { return pos_; }
  std::size_t left() const { return d_.size() - pos_; }
  std::uint8_t u8() {
    need(1);
    return d_[pos_++];
  }
  std::uint32_t be(int n) {
    need(static_cast<std::size_t>(n));
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i) v = v << 8 | d_[pos_++];
    return v;
  }
  // Variable-length quantity (SMF 1.0: at most 4 bytes, 28 bits).
  std::uint32_t vlq() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const std::uint8_t c = u8();
      v = v << 7 | (c & 0x7F);
      if (!(c & 0x80)) return v;
    }
    fail("midi: {}: variable-length number longer than 4 bytes at byte {}", name_, pos_);
  }
  void skip(std::size_t n) {
    need(n);
    pos_ += n;
  }
  std::string tag() {
    need(4);
    std::string t(reinterpret_cast<const char*>(d_.data() + pos_), 4);
    pos_ += 4;
    return t;
  }

 private:
  void need(std::size_t n) const {
    check(left() >= n, "midi: {}: truncated at byte {} (needs {} more of {})", name_, pos_, n,
          d_.size());
  }
  std::span<const std::uint8_t> d_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

}  // namespace

MidiSong parse_midi(std::span<const std::uint8_t> bytes, const std::string& name) {
  MidiSong song;
  song.name = name;
  Reader r(bytes, name);
  check(bytes.size() >= 14 && std::equal(bytes.begin(), bytes.begin() + 4, "MThd"),
        "midi: {}: not a Standard MIDI File (no 'MThd' header)", name);
  r.skip(4);
  const std::uint32_t header_len = r.be(4);
  check(header_len >= 6, "midi: {}: header of {} bytes (6 expected)", name, header_len);
  song.format = static_cast<int>(r.be(2));
  const std::uint32_t ntracks = r.be(2);
  const std::uint32_t division = r.be(2);
  r.skip(header_len - 6);
  check(song.format == 0 || song.format == 1,
        "midi: {}: format {} is not supported (0 and 1 are; format 2 holds independent "
        "sequences)",
        name, song.format);
  check(ntracks >= 1 && ntracks <= kMaxMidiTracks, "midi: {}: {} tracks (1 to {} accepted)", name,
        ntracks, kMaxMidiTracks);
  check(division != 0, "midi: {}: time division is 0", name);
  // Division: ticks per quarter note, or (bit 15 set) SMPTE frames per second x ticks per frame.
  double smpte_tick_s = 0;
  if (division & 0x8000) {
    const int fps = 256 - static_cast<int>(division >> 8);
    const int tpf = static_cast<int>(division & 0xFF);
    check(fps > 0 && tpf > 0, "midi: {}: bad SMPTE time division {:#06x}", name, division);
    smpte_tick_s = 1.0 / (fps == 29 ? 29.97 * tpf : static_cast<double>(fps) * tpf);
  }

  std::vector<RawEvent> events;
  std::int64_t order = 0;
  int track = 0;
  while (r.left() >= 8 && track < static_cast<int>(ntracks)) {
    const std::string tag = r.tag();
    const std::uint32_t len = r.be(4);
    check(len <= r.left(), "midi: {}: chunk '{}' of {} bytes runs past the end of the file", name,
          tag, len);
    if (tag != "MTrk") {  // unknown chunks are skipped (SMF 1.0)
      r.skip(len);
      continue;
    }
    const std::size_t end = r.pos() + len;
    std::int64_t tick = 0;
    int running = 0;
    while (r.pos() < end) {
      tick += r.vlq();
      check(static_cast<std::int64_t>(events.size()) < kMaxMidiEvents,
            "midi: {}: more than {} events", name, kMaxMidiEvents);
      int status = r.u8();
      if (status < 0x80) {  // running status: this byte is the first data byte
        check(running != 0, "midi: {}: data byte without a status at byte {}", name, r.pos() - 1);
        RawEvent e{tick, track, order++, running, status & 0x7F, 0};
        const int hi = running & 0xF0;
        if (hi != 0xC0 && hi != 0xD0) e.b = r.u8() & 0x7F;
        events.push_back(e);
        continue;
      }
      if (status == 0xFF) {  // meta event
        const int type = r.u8();
        const std::uint32_t mlen = r.vlq();
        if (type == 0x51 && mlen == 3) {
          const auto us = static_cast<int>(r.be(3));
          events.push_back({tick, track, order++, 0x51, us, 0});
        } else if (type == 0x2F) {
          r.skip(mlen);
          break;
        } else {
          r.skip(mlen);
        }
        continue;
      }
      if (status == 0xF0 || status == 0xF7) {  // sysex: skipped
        r.skip(r.vlq());
        running = 0;
        continue;
      }
      check(status < 0xF0, "midi: {}: unexpected status byte {:#04x} at byte {}", name, status,
            r.pos() - 1);
      running = status;
      RawEvent e{tick, track, order++, status, r.u8() & 0x7F, 0};
      const int hi = status & 0xF0;
      if (hi != 0xC0 && hi != 0xD0) e.b = r.u8() & 0x7F;
      events.push_back(e);
    }
    check(r.pos() <= end, "midi: {}: track {} runs past its chunk", name, track);
    r.skip(end - r.pos());
    ++track;
  }
  check(track == static_cast<int>(ntracks),
        "midi: {}: truncated or damaged: the header announces {} tracks, the file holds {}", name,
        ntracks, track);
  song.num_tracks = track;
  std::stable_sort(events.begin(), events.end(), [](const RawEvent& a, const RawEvent& b) {
    return a.tick != b.tick ? a.tick < b.tick : a.order < b.order;
  });

  // Ticks to seconds through the tempo map; channel state; notes matched first-in first-out.
  double t = 0;
  std::int64_t last_tick = 0;
  double us_per_quarter = 500000;  // 120 BPM until a tempo event says otherwise
  bool tempo_seen = false;
  int program[16] = {};
  int bank[16] = {};
  bool sustain[16] = {};
  bool setup_done[16] = {};
  int volume[16], expression[16];
  std::fill(std::begin(volume), std::end(volume), kMidiDefaultLevel);
  std::fill(std::begin(expression), std::end(expression), 127);
  std::deque<std::size_t> open[16][128];  // indices into song.notes of sounding notes
  std::vector<std::size_t> held[16];      // released while the pedal was down
  std::vector<bool> closed;
  auto end_note = [&](std::size_t i, double at) {
    song.notes[i].off_s = std::max(at, song.notes[i].on_s);
    closed[i] = true;
  };
  for (const auto& e : events) {
    t += static_cast<double>(e.tick - last_tick) *
         (smpte_tick_s > 0 ? smpte_tick_s : us_per_quarter * 1e-6 / division);
    last_tick = e.tick;
    check(t <= kMaxMidiSongS,
          "midi: {}: events past {} s (the song is too long or the tempo absurd)", name,
          kMaxMidiSongS);
    if (e.status == 0x51) {
      check(e.a > 0, "midi: {}: tempo of 0 microseconds per quarter note", name);
      const double bpm = 60e6 / e.a;
      check(bpm >= kMinMidiBpm && bpm <= kMaxMidiBpm, "midi: {}: tempo {:.1f} BPM outside [{}, {}]",
            name, bpm, kMinMidiBpm, kMaxMidiBpm);
      us_per_quarter = e.a;
      if (!tempo_seen) song.first_tempo_bpm = bpm;
      tempo_seen = true;
      continue;
    }
    const int ch = e.status & 0x0F;
    const int hi = e.status & 0xF0;
    if (hi == 0x90 && e.b > 0) {
      song.notes.push_back({ch, program[ch], bank[ch], e.a, e.b, t, t});
      closed.push_back(false);
      open[ch][e.a].push_back(song.notes.size() - 1);
      setup_done[ch] = true;
    } else if (hi == 0x80 || hi == 0x90) {
      auto& q = open[ch][e.a];
      if (q.empty()) continue;
      const std::size_t i = q.front();
      q.pop_front();
      if (sustain[ch]) {
        song.notes[i].off_s = t;
        held[ch].push_back(i);
      } else {
        end_note(i, t);
      }
    } else if (hi == 0xC0) {
      program[ch] = e.a;
    } else if (hi == 0xB0) {
      if (e.a == 0) bank[ch] = e.b;
      // Reset All Controllers (GM RP-015): the pedal up and expression 127; volume, pan and
      // reverb send stay.
      const bool reset = e.a == 121;
      if (e.a == 64 || reset) {
        const bool down = !reset && e.b >= 64;
        if (sustain[ch] && !down) {
          for (auto i : held[ch]) end_note(i, t);
          held[ch].clear();
        }
        sustain[ch] = down;
      }
      if (e.a == 7 || e.a == 11 || reset) {
        if (e.a == 7)
          volume[ch] = e.b;
        else
          expression[ch] = reset ? 127 : e.b;
        const int level = (volume[ch] * expression[ch] + 63) / 127;
        auto& lv = song.levels[ch];
        if (!lv.empty() && lv.back().t_s == t) lv.pop_back();  // at one instant the last holds
        if (level != (lv.empty() ? kMidiDefaultLevel : lv.back().level)) lv.push_back({t, level});
      } else if (e.a != 64 && !setup_done[ch]) {
        auto& s = song.channels[ch];
        if (e.a == 10) s.pan = e.b;
        if (e.a == 91) s.reverb_send = e.b;
      }
    }
  }
  // Notes still sounding at the end of the song end there.
  for (std::size_t i = 0; i < song.notes.size(); ++i)
    if (!closed[i]) end_note(i, t);
  song.length_s = 0;
  for (const auto& n : song.notes) song.length_s = std::max(song.length_s, n.off_s);
  std::stable_sort(song.notes.begin(), song.notes.end(),
                   [](const MidiNote& a, const MidiNote& b) { return a.on_s < b.on_s; });
  return song;
}

MidiSong read_midi_file(const fs::path& path) {
  std::error_code ec;
  check(fs::is_regular_file(path, ec), "midi: {}: no such file", path.string());
  const auto size = fs::file_size(path, ec);
  check(!ec, "midi: {}: cannot read the file size", path.string());
  check(size <= kMaxMidiFileBytes, "midi: {}: {} bytes is larger than the {} accepted",
        path.string(), size, kMaxMidiFileBytes);
  std::ifstream f(path, std::ios::binary);
  std::vector<std::uint8_t> bytes(size);
  check(f.is_open() &&
            f.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(size)),
        "midi: {}: cannot read the file", path.string());
  return parse_midi(bytes, path.string());
}

Score midi_score(const MidiSong& song, const Palette& palette, int sample_rate_hz,
                 double max_duration_s, bool reverb, MidiScoreStats* stats, double start_s) {
  MidiScoreStats st;
  const auto& cs = instrument_classes();
  check(!song.notes.empty(), "midi: {}: has no notes", song.name);
  Score score;
  score.sample_rate_hz = sample_rate_hz;
  check(start_s >= 0 && start_s < song.length_s + 1.0,
        "midi: {}: excerpt start {} s is past the end", song.name, start_s);
  const double length_s = std::min(song.length_s + 1.0 - start_s, max_duration_s);
  score.num_samples = static_cast<std::int64_t>(std::llround(length_s * sample_rate_hz));
  score.tempo_bpm = song.first_tempo_bpm;
  score.bar_s = 4 * 60.0 / song.first_tempo_bpm;
  auto grid = [&](double s) {
    return static_cast<std::int64_t>(std::floor(s * sample_rate_hz / kBlockSamples)) *
           kBlockSamples;
  };
  const auto drums = instrument_index("drums").value();
  const auto cymbals = instrument_index("cymbals").value();
  auto has = [](const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  auto has_pair = [](const std::vector<std::pair<int, int>>& v, std::pair<int, int> x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  // Class of a note, or -1 (muted): melodic by program, percussion by key. Percussion keys that
  // neither class lists (claps, cowbell, congas...) count as drums.
  std::set<int> unmapped, mapped_any;
  auto class_of = [&](const MidiNote& n) -> int {
    if (n.channel == kPercussionChannel) {
      const bool cymbal = has(cs[static_cast<std::size_t>(cymbals)].percussion_keys, n.key);
      const int c = cymbal ? cymbals : drums;
      const bool listed = has(cs[static_cast<std::size_t>(c)].percussion_keys, n.key);
      if (!listed && (n.key < 27 || n.key > 87)) return -1;  // outside the GM percussion map
      mapped_any.insert(c);
      const auto& keys = palette.percussion_keys[static_cast<std::size_t>(c)];
      return (listed ? has(keys, n.key) : !keys.empty()) ? c : -1;
    }
    for (std::size_t v = 0; v < palette.variations.size(); ++v)
      if (has_pair(palette.variations[v], {n.bank, n.program})) return static_cast<int>(v);
    const int c = class_of_gm_program(n.program + 1);
    if (c < 0) {
      unmapped.insert(n.program + 1);
      return -1;
    }
    mapped_any.insert(c);
    return has(palette.programs[static_cast<std::size_t>(c)], n.program + 1) ? c : -1;
  };

  // Parts: one per (channel, program) on melodic channels, drums and cymbals on channel 10.
  // (channel, bank * 128 + program, or -1 - class on channel 10) -> part
  std::map<std::pair<int, int>, std::size_t> part_of;
  int kit = palette.drum_kits.empty() ? 0 : palette.drum_kits.front();
  for (const auto& n : song.notes) {
    if (n.channel == kPercussionChannel && has(palette.drum_kits, n.program)) kit = n.program;
  }
  // The channel's level at t, and the highest it reaches in [t0, t1).
  auto after = [&](int ch, double t) {  // the first change later than t
    const auto& lv = song.levels[ch];
    return std::upper_bound(lv.begin(), lv.end(), t,
                            [](double x, const MidiLevelChange& c) { return x < c.t_s; });
  };
  auto level_at = [&](int ch, double t) {
    const auto it = after(ch, t);
    return it == song.levels[ch].begin() ? kMidiDefaultLevel : std::prev(it)->level;
  };
  auto max_level = [&](int ch, double t0, double t1) {
    int m = level_at(ch, t0);
    for (auto it = after(ch, t0); it != song.levels[ch].end() && it->t_s < t1; ++it)
      m = std::max(m, it->level);
    return m;
  };
  const double end_s = start_s + length_s;
  for (const auto& n : song.notes) {
    // An excerpt: a note struck before it starts at its first sample, as in the composer.
    if (n.off_s <= start_s) continue;
    const std::int64_t on = grid(std::max(0.0, n.on_s - start_s));
    if (on >= score.num_samples) continue;
    const int c = class_of(n);
    if (c < 0) {
      ++st.muted_notes;
      continue;
    }
    if (max_level(n.channel, std::max(n.on_s, start_s), std::min(n.off_s, end_s)) <
        kMinAudibleMidiLevel) {
      ++st.muted_notes;
      ++st.quiet_notes;
      continue;
    }
    const bool perc = n.channel == kPercussionChannel;
    const bool variation = !perc && !cs[static_cast<std::size_t>(c)].synthesizable;
    const std::pair<int, int> id{n.channel,
                                 perc ? -1 - c : (variation ? n.bank * 128 : 0) + n.program};
    auto it = part_of.find(id);
    if (it == part_of.end()) {
      Part p;
      p.class_index = c;
      p.role = perc ? (c == drums ? Role::kDrums : Role::kCymbals) : Role::kMelody;
      p.bank = perc ? 128 : variation ? n.bank : 0;
      p.program = perc ? kit : n.program;
      const auto& setup = song.channels[n.channel];
      p.volume = std::clamp(level_at(n.channel, start_s), 1, 127);
      for (auto it = after(n.channel, start_s); it != song.levels[n.channel].end(); ++it) {
        const std::int64_t at = grid(it->t_s - start_s);
        if (at >= score.num_samples) break;
        p.volume_changes.push_back({at, it->level});
      }
      p.pan = setup.pan;
      p.reverb_send = reverb ? setup.reverb_send : 0;
      p.channel = perc ? kPercussionChannel : -1;
      it = part_of.emplace(id, score.parts.size()).first;
      score.parts.push_back(p);
    }
    Note note;
    note.on = on;
    note.off = std::min(score.num_samples, std::max(grid(n.off_s - start_s), on + kBlockSamples));
    note.key = n.key;
    note.velocity = std::clamp(n.velocity, 1, 127);
    if (note.off > note.on) score.parts[it->second].notes.push_back(note);
    ++st.notes;
  }
  st.unmapped_programs.assign(unmapped.begin(), unmapped.end());
  if (score.parts.empty()) {
    if (mapped_any.empty() && !unmapped.empty())
      fail("midi: {}: uses only General MIDI programs that no instrument class maps ({})",
           song.name, fmt::format("{}", fmt::join(st.unmapped_programs, ",")));
    if (mapped_any.empty())
      fail("midi: {}: has no notes in {}-{} s", song.name, start_s, start_s + length_s);
    if (st.quiet_notes > 0)
      fail(
          "midi: {}: every note in {}-{} s is too quiet to hear (channel volume x expression "
          "below {} of 127)",
          song.name, start_s, start_s + length_s, kMinAudibleMidiLevel);
    fail("midi: {}: none of its instruments is in the soundfont", song.name);
  }
  // Melodic parts get channels 0-8, 10-15 in order of entry; parts beyond 15 are muted.
  std::vector<Part> kept;
  int next = 0;
  for (auto& p : score.parts) {
    if (p.channel == kPercussionChannel) {
      kept.push_back(std::move(p));
      continue;
    }
    if (next == kPercussionChannel) ++next;
    if (next > 15) {
      st.muted_notes += static_cast<std::int64_t>(p.notes.size());
      st.notes -= static_cast<std::int64_t>(p.notes.size());
      continue;
    }
    p.channel = next++;
    kept.push_back(std::move(p));
  }
  score.parts = std::move(kept);
  for (auto& p : score.parts) end_restruck_notes(p);
  if (stats) *stats = st;
  return score;
}

void reassign_instruments(Score& score, const Palette& palette, double probability,
                          std::uint64_t seed) {
  if (probability <= 0) return;
  const auto& cs = instrument_classes();
  const auto playable = palette.playable();
  std::vector<int> melodic;  // the classes the palette can play on a melodic channel
  for (std::size_t c = 0; c < cs.size(); ++c)
    if (!cs[c].percussion && playable[c]) melodic.push_back(static_cast<int>(c));
  if (melodic.empty()) return;
  core::Rng rng(seed);
  for (auto& part : score.parts) {
    if (part.channel == kPercussionChannel || part.notes.empty() || !rng.bernoulli(probability))
      continue;
    const int c = rng.pick(melodic);
    const auto& cls = cs[static_cast<std::size_t>(c)];
    part.class_index = c;
    std::tie(part.bank, part.program) = palette.draw_preset(c, rng);
    // The octave shift that puts the most keys in range (the smallest shift among ties).
    int best = 0, best_in = -1;
    for (int k : {0, -1, 1, -2, 2, -3, 3, -4, 4}) {
      int in = 0;
      for (const auto& n : part.notes)
        in += n.key + 12 * k >= cls.low_key && n.key + 12 * k <= cls.high_key;
      if (in > best_in) best = k, best_in = in;
    }
    for (auto& n : part.notes) {
      n.key += 12 * best;
      while (n.key < cls.low_key) n.key += 12;
      while (n.key > cls.high_key) n.key -= 12;
    }
    end_restruck_notes(part);  // folding may put two sounding notes on one key
  }
}

void drop_parts(Score& score, double probability, std::uint64_t seed) {
  if (probability <= 0) return;
  core::Rng rng(seed);
  std::vector<std::size_t> sounding;
  std::vector<char> drop(score.parts.size(), 0);
  std::size_t n_dropped = 0;
  for (std::size_t i = 0; i < score.parts.size(); ++i) {
    if (score.parts[i].notes.empty()) continue;
    sounding.push_back(i);
    n_dropped += drop[i] = rng.bernoulli(probability);
  }
  if (!sounding.empty() && n_dropped == sounding.size()) drop[rng.pick(sounding)] = 0;
  std::vector<Part> kept;
  for (std::size_t i = 0; i < score.parts.size(); ++i)
    if (!drop[i]) kept.push_back(std::move(score.parts[i]));
  score.parts = std::move(kept);
}

std::vector<double> excerpt_starts(double length_s, double duration_s, double min_s) {
  std::vector<double> out{0.0};
  for (int k = 1; duration_s > 0 && k * duration_s + min_s <= length_s; ++k)
    out.push_back(k * duration_s);
  return out;
}

std::vector<fs::path> resolve_midi_files(const std::vector<std::string>& items) {
  std::vector<fs::path> out;
  for (const auto& item : items) {
    const fs::path p(item);
    std::error_code ec;
    check<UsageError>(fs::exists(p, ec), "synth: MIDI file {}: no such file or folder", item);
    if (!fs::is_directory(p, ec)) {
      out.push_back(p);
      continue;
    }
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(p, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      const auto ext = core::ascii_lower(it->path().extension().string());
      if ((ext == ".mid" || ext == ".midi" || ext == ".smf") && it->is_regular_file(ec))
        found.push_back(it->path());
    }
    check<UsageError>(!found.empty(), "synth: folder {} has no .mid or .midi file", item);
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace tutti::synth
