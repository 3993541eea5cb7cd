#include "tutti/synth/composer.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::synth {

using core::Rng;

Palette Palette::general_midi() {
  Palette p;
  for (const auto& c : instrument_classes()) {
    p.programs.push_back(c.synthesizable && !c.percussion ? c.gm_programs : std::vector<int>{});
    p.percussion_keys.push_back(c.percussion ? c.percussion_keys : std::vector<int>{});
  }
  p.drum_kits = {0};
  return p;
}

std::vector<std::uint8_t> Palette::playable() const {
  const auto& cs = instrument_classes();
  std::vector<std::uint8_t> out(cs.size(), 0);
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (!cs[i].synthesizable) {
      out[i] = i < variations.size() && !variations[i].empty();
      continue;
    }
    if (cs[i].percussion)
      out[i] = i < percussion_keys.size() && !percussion_keys[i].empty() && !drum_kits.empty();
    else
      out[i] = i < programs.size() && !programs[i].empty();
  }
  return out;
}

std::pair<int, int> Palette::draw_preset(int cls, core::Rng& rng) const {
  const auto c = static_cast<std::size_t>(cls);
  if (programs[c].empty()) return rng.pick(variations[c]);
  return {0, rng.pick(programs[c]) - 1};
}

namespace {

constexpr int kMajorScale[7] = {0, 2, 4, 5, 7, 9, 11};
constexpr int kMinorScale[7] = {0, 2, 3, 5, 7, 8, 10};

// Chord progressions as scale degrees (0 = I), one chord per bar, repeated over the piece.
const std::vector<std::vector<int>> kMajorProgressions = {{0, 4, 5, 3}, {0, 5, 3, 4}, {0, 3, 4, 0},
                                                          {1, 4, 0, 0}, {0, 3, 0, 4}, {5, 3, 0, 4},
                                                          {0, 4, 3, 4}, {3, 4, 0, 5}};
const std::vector<std::vector<int>> kMinorProgressions = {
    {0, 5, 2, 6}, {0, 3, 4, 0}, {0, 6, 5, 4}, {0, 3, 6, 2}, {0, 5, 3, 4}};

const std::vector<Role> kMelodicRoles = {Role::kBass, Role::kChords, Role::kArpeggio,
                                         Role::kMelody};

struct RawNote {
  double on_s = 0, off_s = 0;
  int key = 60, velocity = 100;
};

struct Region {
  double start_s = 0, end_s = 0;
};

int floor_div(int a, int b) { return (a >= 0) ? a / b : -((-a + b - 1) / b); }
int pos_mod(int a, int m) { return ((a % m) + m) % m; }

// The lowest key >= lo with pitch class pc.
int key_at_or_above(int pc, int lo) { return lo + pos_mod(pc - lo, 12); }

int clamp_velocity(double v) { return std::clamp(static_cast<int>(std::lround(v)), 1, 127); }

class Piece {
 public:
  Piece(Rng& rng, double duration_s) : duration_s_(duration_s) {
    tempo_bpm = rng.uniform(80.0, 160.0);
    beat_s = 60.0 / tempo_bpm;
    beats_per_bar = rng.bernoulli(0.7) ? 4 : 3;
    tonic = rng.uniform_int(0, 11);
    minor = rng.bernoulli(0.4);
    // The clip starts somewhere inside the first bar, so downbeats do not always fall on t = 0.
    t0_s = -rng.uniform(0.0, beats_per_bar * beat_s);
    num_bars = static_cast<int>(std::ceil((duration_s - t0_s) / bar_s())) + 1;
    const auto& progs = minor ? kMinorProgressions : kMajorProgressions;
    const auto& prog = rng.pick(progs);
    for (int b = 0; b < num_bars; ++b)
      degrees.push_back(prog[static_cast<std::size_t>(b) % prog.size()]);
    sevenths = rng.bernoulli(0.3);
  }

  double bar_s() const { return beats_per_bar * beat_s; }
  double beat_time(double beat) const { return t0_s + beat * beat_s; }
  double bar_time(int bar) const { return t0_s + bar * bar_s(); }
  double duration_s() const { return duration_s_; }

  // Key of an absolute scale degree (degree 0 = tonic in MIDI octave -1).
  int degree_key(int d) const {
    const int* scale = minor ? kMinorScale : kMajorScale;
    return tonic + 12 * floor_div(d, 7) + scale[pos_mod(d, 7)];
  }
  // The absolute degree whose key is closest to `key` (ties: lower).
  int nearest_degree(int key) const {
    int best = 0, best_dist = 1000;
    for (int d = -7; d < 84; ++d) {
      const int dist = std::abs(degree_key(d) - key);
      if (dist < best_dist) best = d, best_dist = dist;
    }
    return best;
  }
  int root_pc(int bar) const {
    return pos_mod(degree_key(degrees[static_cast<std::size_t>(bar)]), 12);
  }
  // Pitch classes of the bar's chord (triad or seventh); V in minor uses the raised leading tone.
  std::vector<int> chord_pcs(int bar) const {
    const int d = degrees[static_cast<std::size_t>(bar)];
    std::vector<int> pcs;
    const int n = sevenths ? 4 : 3;
    for (int i = 0; i < n; ++i) {
      int k = degree_key(d + 2 * i);
      if (minor && pos_mod(d, 7) == 4 && i == 1) k += 1;  // harmonic minor dominant
      pcs.push_back(pos_mod(k, 12));
    }
    return pcs;
  }
  bool is_chord_tone(int bar, int key) const {
    const auto pcs = chord_pcs(bar);
    return std::find(pcs.begin(), pcs.end(), pos_mod(key, 12)) != pcs.end();
  }
  int bar_at(double t_s) const {
    return std::clamp(static_cast<int>(std::floor((t_s - t0_s) / bar_s())), 0, num_bars - 1);
  }

  double tempo_bpm = 120, beat_s = 0.5, t0_s = 0;
  int beats_per_bar = 4, tonic = 0, num_bars = 1;
  bool minor = false, sevenths = false;
  std::vector<int> degrees;

 private:
  double duration_s_;
};

class PartWriter {
 public:
  PartWriter(Rng& rng, const Piece& piece, const InstrumentClass& cls)
      : rng_(rng), p_(piece), cls_(cls) {
    base_velocity_ = rng_.uniform(60.0, 110.0);
  }

  std::vector<RawNote> write(Role role) {
    switch (role) {
      case Role::kBass:
        bass();
        break;
      case Role::kChords:
        chords();
        break;
      case Role::kArpeggio:
        arpeggio();
        break;
      case Role::kMelody:
        melody();
        break;
      case Role::kDrums:
        drums();
        break;
      case Role::kCymbals:
        cymbals();
        break;
    }
    return std::move(notes_);
  }

 private:
  double vel(double accent = 0) { return base_velocity_ + accent + rng_.uniform(-8.0, 8.0); }
  void add(double on_s, double dur_s, int key, double velocity) {
    if (key < cls_.low_key || key > cls_.high_key || dur_s <= 0) return;
    notes_.push_back({on_s, on_s + dur_s, key, clamp_velocity(velocity)});
  }
  int lo() const { return cls_.low_key; }
  int hi() const { return cls_.high_key; }

  void bass() {
    const int pattern = rng_.uniform_int(0, 4);
    const int base = lo() + rng_.uniform_int(0, std::min(6, std::max(0, hi() - lo() - 12)));
    const double legato = rng_.uniform(0.75, 0.95);
    const int bpb = p_.beats_per_bar;
    const double b = p_.beat_s;
    int prev = key_at_or_above(p_.root_pc(0), base);
    for (int bar = 0; bar < p_.num_bars; ++bar) {
      const double t = p_.bar_time(bar);
      const int root = key_at_or_above(p_.root_pc(bar), base);
      const int fifth = root + 7 <= hi() ? root + 7 : root - 5;
      const int next_root = key_at_or_above(p_.root_pc(std::min(bar + 1, p_.num_bars - 1)), base);
      switch (pattern) {
        case 0:  // one long note per bar
          add(t, bpb * b * legato, root, vel(6));
          break;
        case 1:  // root then fifth
          add(t, (bpb == 4 ? 2 : 2) * b * legato, root, vel(6));
          add(t + 2 * b, (bpb - 2) * b * legato, rng_.bernoulli(0.5) ? fifth : root, vel());
          break;
        case 2:  // quarters with an approach note into the next bar
          for (int i = 0; i < bpb; ++i) {
            int k = (i == 0) ? root : (i % 2 ? root : fifth);
            if (i == bpb - 1)
              k = next_root + (rng_.bernoulli(0.5) ? 1 : -1) * rng_.uniform_int(1, 2);
            if (k < lo()) k += 12;
            add(t + i * b, b * legato, k, vel(i == 0 ? 8 : 0));
          }
          break;
        case 3:  // driving eighths, octave jump now and then
          for (int i = 0; i < 2 * bpb; ++i) {
            const int k =
                (i == 2 * bpb - 1 && rng_.bernoulli(0.3) && root + 12 <= hi()) ? root + 12 : root;
            add(t + i * 0.5 * b, 0.5 * b * 0.85, k, vel(i % 2 ? -6 : 4));
          }
          break;
        default: {  // walking: chord and scale tones stepping towards the next root
          int k = root;
          for (int i = 0; i < bpb; ++i) {
            if (i > 0) {
              const int remaining = bpb - i;
              const int target = next_root;
              const int step = (target - k) / (remaining + 1);
              int d = p_.nearest_degree(k + step + rng_.uniform_int(-2, 2));
              k = p_.degree_key(d);
              if (k == prev) k = p_.degree_key(d + (rng_.bernoulli(0.5) ? 1 : -1));
              while (k < lo()) k += 12;
              while (k > hi()) k -= 12;
            }
            add(t + i * b, b * legato, k, vel(i == 0 ? 8 : 0));
            prev = k;
          }
        }
      }
      prev = root;
    }
  }

  // Chord tones from `base` upwards, `extra` more tones stacked above (guitar voicings).
  std::vector<int> voicing(int bar, int base, int extra) const {
    const auto pcs = p_.chord_pcs(bar);
    std::vector<int> keys;
    const int root = key_at_or_above(pcs[0], base);
    keys.push_back(root);
    for (std::size_t i = 1; i < pcs.size(); ++i) keys.push_back(key_at_or_above(pcs[i], root + 1));
    for (int e = 0; e < extra; ++e)
      keys.push_back(keys[static_cast<std::size_t>(e) % pcs.size()] + 12);
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    std::vector<int> in_range;
    for (int k : keys)
      if (k >= lo() && k <= hi()) in_range.push_back(k);
    return in_range;
  }

  void chords() {
    const bool guitar = cls_.name == "guitar" || cls_.name == "ukulele";  // strummed
    const bool piano = cls_.name == "piano";
    const int span = guitar ? 19 : 14;
    const int base = rng_.uniform_int(lo(), std::max(lo(), hi() - span));
    const int bpb = p_.beats_per_bar;
    const double b = p_.beat_s;
    // (onset beat, length in beats) of each chord in a bar
    std::vector<std::pair<double, double>> rhythm;
    const int style = rng_.uniform_int(0, 3);
    if (style == 0) {
      rhythm = {{0.0, double(bpb)}};
    } else if (style == 1) {
      rhythm = bpb == 4 ? std::vector<std::pair<double, double>>{{0, 2}, {2, 2}}
                        : std::vector<std::pair<double, double>>{{0, 2}, {2, 1}};
    } else if (style == 2) {
      for (int i = 0; i < bpb; ++i) rhythm.push_back({double(i), rng_.uniform(0.5, 0.9)});
    } else {
      for (int i = 0; i < 2 * bpb; ++i)
        if (i % 2 == 0 || rng_.bernoulli(0.6)) rhythm.push_back({0.5 * i, 0.5});
    }
    const double legato = rng_.uniform(0.8, 0.98);
    const double strum_s = guitar ? rng_.uniform(0.008, 0.025) : 0.0;
    const int piano_lh = piano && rng_.bernoulli(0.6);
    for (int bar = 0; bar < p_.num_bars; ++bar) {
      const double t = p_.bar_time(bar);
      auto keys = voicing(bar, piano_lh ? std::max(base, 55) : base, guitar ? 2 : 0);
      if (keys.empty()) keys = voicing(bar, lo(), 0);
      for (std::size_t r = 0; r < rhythm.size(); ++r) {
        const auto [beat, len] = rhythm[r];
        const bool down = guitar ? (std::fmod(beat, 1.0) == 0.0) : true;
        const double accent = beat == 0 ? 8 : 0;
        for (std::size_t i = 0; i < keys.size(); ++i) {
          const std::size_t order = down ? i : keys.size() - 1 - i;
          add(t + beat * b + order * strum_s, len * b * legato, keys[i], vel(accent) - 3.0 * order);
        }
      }
      if (piano_lh) {  // left hand: the root an octave or two below
        const int root = key_at_or_above(p_.root_pc(bar), std::max(lo(), 36));
        add(t, bpb * b * legato, root, vel(4));
      }
    }
  }

  void arpeggio() {
    const double b = p_.beat_s;
    const double slot = (p_.tempo_bpm < 110 && rng_.bernoulli(0.4)) ? 0.25 * b : 0.5 * b;
    const int base = rng_.uniform_int(lo(), std::max(lo(), hi() - 19));
    const int direction = rng_.uniform_int(0, 2);  // up, down, up-down
    const bool mallet = cls_.name == "mallet_percussion";
    const double ring = mallet ? 0.9 : rng_.uniform(1.0, 3.0);
    for (int bar = 0; bar < p_.num_bars; ++bar) {
      auto tones = voicing(bar, base, 3);
      if (tones.empty()) tones = voicing(bar, lo(), 0);
      if (tones.empty()) continue;
      const int n_slots = static_cast<int>(std::lround(p_.bar_s() / slot));
      const int n = static_cast<int>(tones.size());
      for (int i = 0; i < n_slots; ++i) {
        int idx;
        if (direction == 0)
          idx = i % n;
        else if (direction == 1)
          idx = n - 1 - i % n;
        else {
          const int period = std::max(1, 2 * n - 2);
          const int ph = i % period;
          idx = ph < n ? ph : period - ph;
        }
        add(p_.bar_time(bar) + i * slot, slot * ring, tones[static_cast<std::size_t>(idx)],
            vel(i == 0 ? 8 : (i % 2 ? -4 : 0)));
      }
    }
  }

  void melody() {
    const int width = std::min(hi() - lo(), 19);
    const int low = rng_.uniform_int(lo(), hi() - width);
    const int high = low + width;
    const double b = p_.beat_s;
    const int bpb = p_.beats_per_bar;
    const double legato = rng_.uniform(0.8, 0.98);
    int d = p_.nearest_degree((low + high) / 2);
    const int dlo = p_.nearest_degree(low) + 1, dhi = p_.nearest_degree(high) - 1;
    // Rhythm cells (lengths in beats); a phrase is two bars of cells ending on a long note.
    static const std::vector<std::vector<double>> kCells = {
        {1}, {0.5, 0.5}, {1.5, 0.5}, {2}, {0.75, 0.25}, {1, 1}, {0.5, 0.5, 1}, {3}};
    double beat = 0;
    const double total_beats = p_.num_bars * bpb;
    const int phrase_beats = 2 * bpb;
    while (beat < total_beats) {
      const double phrase_end = std::floor(beat / phrase_beats + 1) * phrase_beats;
      while (beat < phrase_end) {
        const auto& cell = rng_.pick(kCells);
        for (double len : cell) {
          if (beat >= phrase_end) break;
          len = std::min(len, phrase_end - beat);
          // Pitch: a random walk on the scale, landing on chord tones on strong beats.
          const double u = rng_.uniform();
          int step = u < 0.15   ? -2
                     : u < 0.4  ? -1
                     : u < 0.5  ? 0
                     : u < 0.75 ? 1
                     : u < 0.9  ? 2
                                : (rng_.bernoulli(0.5) ? 4 : -3);
          d = std::clamp(d + step, dlo, dhi);
          const double t = p_.beat_time(beat);
          const int bar = p_.bar_at(t + 1e-6);
          const bool strong =
              std::fmod(beat, bpb) == 0.0 || (bpb == 4 && std::fmod(beat, 4.0) == 2.0);
          if (strong && !p_.is_chord_tone(bar, p_.degree_key(d))) {
            for (int k = 1; k <= 3; ++k) {
              if (d + k <= dhi && p_.is_chord_tone(bar, p_.degree_key(d + k))) {
                d += k;
                break;
              }
              if (d - k >= dlo && p_.is_chord_tone(bar, p_.degree_key(d - k))) {
                d -= k;
                break;
              }
            }
          }
          const bool last = beat + len >= phrase_end;
          // Breathe at the end of some phrases (half a beat, shorter than the default merge gap).
          double dur = len * legato;
          if (last && rng_.bernoulli(0.5)) dur = std::max(0.25, len - 0.5);
          add(t, dur * b, p_.degree_key(d), vel(strong ? 6 : 0));
          beat += len;
        }
      }
    }
  }

  // Percussion: each key rings for a typical time (seconds) unless hit again earlier.
  static double ring_s(int key) {
    switch (key) {
      case 35:
      case 36:
        return 0.35;  // kick
      case 38:
      case 40:
        return 0.3;  // snare
      case 37:
        return 0.15;  // side stick
      case 41:
      case 43:
      case 45:
      case 47:
      case 48:
      case 50:
        return 0.45;  // toms
      case 42:
      case 44:
        return 0.2;  // closed / pedal hi-hat
      case 46:
        return 0.6;  // open hi-hat
      case 51:
      case 59:
        return 0.9;  // ride
      case 49:
      case 57:
        return 1.8;  // crash
      case 52:
        return 1.5;  // china
      case 55:
        return 0.9;  // splash
      default:
        return 0.3;
    }
  }
  void hit(double t, int key, double velocity) { add(t, ring_s(key), key, velocity); }

  void drums() {
    const double b = p_.beat_s;
    const int bpb = p_.beats_per_bar;
    const int kick = rng_.bernoulli(0.5) ? 36 : 35;
    const bool stick = rng_.bernoulli(0.15);
    const int snare = stick ? 37 : (rng_.bernoulli(0.6) ? 38 : 40);
    const double extra_kicks = rng_.uniform(0.0, 0.4);
    static const int kToms[] = {50, 48, 47, 45, 43, 41};
    for (int bar = 0; bar < p_.num_bars; ++bar) {
      const double t = p_.bar_time(bar);
      const bool fill = bar % 4 == 3 && rng_.bernoulli(0.7);
      for (int i = 0; i < bpb; ++i) {
        const double tb = t + i * b;
        if (fill && i == bpb - 1) {  // a tom fill on the last beat
          const int start = rng_.uniform_int(0, 2);
          for (int j = 0; j < 4; ++j) hit(tb + j * 0.25 * b, kToms[start + j], vel(4));
          continue;
        }
        const bool backbeat = bpb == 4 ? (i % 2 == 1) : (i > 0);
        if (backbeat)
          hit(tb, snare, vel(6));
        else
          hit(tb, kick, vel(8));
        if (rng_.bernoulli(extra_kicks)) hit(tb + 0.5 * b, kick, vel(-6));
      }
    }
  }

  void cymbals() {
    const double b = p_.beat_s;
    const int bpb = p_.beats_per_bar;
    const int style = rng_.uniform_int(0, 2);  // hi-hat eighths, hi-hat quarters, ride
    const int crash = rng_.bernoulli(0.5) ? 49 : 57;
    const int ride = rng_.bernoulli(0.8) ? 51 : 59;
    for (int bar = 0; bar < p_.num_bars; ++bar) {
      const double t = p_.bar_time(bar);
      const bool crash_here = bar % 4 == 0 && rng_.bernoulli(0.6);
      if (crash_here)
        hit(t, crash, vel(10));
      else if (rng_.bernoulli(0.08))
        hit(t, rng_.bernoulli(0.5) ? 55 : 52, vel(6));
      if (style == 0) {
        for (int i = 0; i < 2 * bpb; ++i) {
          if (crash_here && i == 0) continue;
          const bool open = i == 2 * bpb - 1 && rng_.bernoulli(0.3);
          hit(t + 0.5 * i * b, open ? 46 : 42, vel(i % 2 ? -8 : 2));
        }
      } else if (style == 1) {
        for (int i = 0; i < bpb; ++i) {
          if (crash_here && i == 0) continue;
          hit(t + i * b, rng_.bernoulli(0.2) ? 46 : 42, vel(i == 0 ? 6 : 0));
        }
      } else {
        for (int i = 0; i < bpb; ++i) {
          if (crash_here && i == 0) continue;
          hit(t + i * b, ride, vel(i == 0 ? 6 : 0));
          if (i % 2 == 1) hit(t + i * b, 44, vel(-10));  // pedal hi-hat on the backbeat
        }
      }
    }
  }

  Rng& rng_;
  const Piece& p_;
  const InstrumentClass& cls_;
  double base_velocity_ = 90;
  std::vector<RawNote> notes_;
};

// Active regions of a part, on beat boundaries. Partial parts cover well under the whole clip.
std::vector<Region> make_regions(Rng& rng, const Piece& p, bool partial) {
  const double d = p.duration_s();
  const double span_end = d + p.beat_s;  // past the end: the part plays to the end
  if (!partial) return {{-1.0, span_end}};
  auto snap = [&](double t) { return p.t0_s + std::round((t - p.t0_s) / p.beat_s) * p.beat_s; };
  const double min_len = std::max(2.0, 2 * p.beat_s);
  const int kind = rng.uniform_int(0, 3);
  std::vector<Region> r;
  if (kind == 0) {  // enters late
    r.push_back({snap(rng.uniform(0.15, 0.6) * d), span_end});
  } else if (kind == 1) {  // leaves early
    r.push_back({-1.0, snap(rng.uniform(0.35, 0.8) * d)});
  } else if (kind == 2) {  // plays in the middle
    const double len = rng.uniform(0.25, 0.6) * d;
    const double start = rng.uniform(0.1 * d, 0.9 * d - len);
    r.push_back({snap(start), snap(start + len)});
  } else {  // plays, rests at least 1.5 s, plays again
    const double a = rng.uniform(0.2, 0.4) * d;
    const double gap = std::max(1.5, rng.uniform(0.15, 0.3) * d);
    r.push_back({-1.0, snap(a)});
    const double s2 = snap(a + gap);
    if (rng.bernoulli(0.5))
      r.push_back({s2, span_end});
    else
      r.push_back({s2, snap(s2 + std::max(min_len, rng.uniform(0.15, 0.3) * d))});
  }
  // Keep regions long enough and inside the clip.
  std::vector<Region> out;
  for (auto reg : r) {
    reg.start_s = std::max(reg.start_s, -1.0);
    if (reg.end_s - std::max(reg.start_s, 0.0) >= min_len - 1e-9 && reg.start_s < d)
      out.push_back(reg);
  }
  if (out.empty()) out.push_back({-1.0, snap(std::max(min_len, 0.5 * d))});
  return out;
}

// Notes inside the regions, on the 64-sample grid, clipped to the clip; same keys never overlap.
std::vector<Note> place_notes(const std::vector<RawNote>& raw, const std::vector<Region>& regions,
                              int sample_rate_hz, std::int64_t num_samples) {
  auto to_grid = [&](double t_s) {
    const double blocks = std::round(t_s * sample_rate_hz / static_cast<double>(kBlockSamples));
    return static_cast<std::int64_t>(blocks) * kBlockSamples;
  };
  std::vector<Note> out;
  for (const auto& n : raw) {
    for (const auto& r : regions) {
      if (n.on_s < r.start_s - 1e-9 || n.on_s >= r.end_s - 1e-9) continue;
      // A note struck before the clip starts sounds from its first sample (an excerpt starts
      // mid-note); its attack is then at 0.
      const std::int64_t on = std::max<std::int64_t>(0, to_grid(n.on_s));
      std::int64_t off = to_grid(std::min(n.off_s, r.end_s));
      off = std::min(off, num_samples);
      if (off - on < kBlockSamples) break;
      out.push_back({on, off, n.key, n.velocity});
      break;
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Note& a, const Note& b) {
    return a.on != b.on ? a.on < b.on : a.key < b.key;
  });
  // A key sounds once at a time on a channel: end a note where the same key starts again.
  std::vector<Note> kept;
  for (std::size_t i = 0; i < out.size(); ++i) {
    Note n = out[i];
    bool duplicate = false;
    for (std::size_t j = i + 1; j < out.size() && out[j].on < n.off; ++j) {
      if (out[j].key != n.key) continue;
      if (out[j].on == n.on) {
        duplicate = true;
        break;
      }
      n.off = out[j].on;
      break;
    }
    if (!duplicate) kept.push_back(n);
  }
  return kept;
}

}  // namespace

Score compose(const ComposerOptions& opt, const Palette& palette, std::uint64_t seed) {
  const auto& cs = instrument_classes();
  check<UsageError>(opt.duration_s > 0 && opt.sample_rate_hz > 0,
                    "synth composer: duration {} s / sample rate {} Hz must be positive",
                    opt.duration_s, opt.sample_rate_hz);
  const auto playable = palette.playable();
  std::vector<int> allowed;
  if (opt.classes.empty()) {
    for (std::size_t i = 0; i < cs.size(); ++i)
      if (playable[i]) allowed.push_back(static_cast<int>(i));
  } else {
    for (int c : opt.classes)
      if (c >= 0 && c < static_cast<int>(cs.size()) && playable[static_cast<std::size_t>(c)])
        allowed.push_back(c);
  }
  check<UsageError>(!allowed.empty(),
                    "synth composer: none of the requested instrument classes can be played "
                    "with this soundfont");
  check<UsageError>(!opt.instruments_per_clip.empty(),
                    "synth composer: instruments_per_clip is empty");

  Rng rng(seed);
  Score score;
  score.sample_rate_hz = opt.sample_rate_hz;
  score.num_samples = static_cast<std::int64_t>(std::llround(opt.duration_s * opt.sample_rate_hz));
  score.peak_dbfs = rng.uniform(opt.min_peak_dbfs, opt.max_peak_dbfs);

  const Piece piece(rng, opt.duration_s);
  score.tempo_bpm = piece.tempo_bpm;
  score.beats_per_bar = piece.beats_per_bar;
  score.tonic = piece.tonic;
  score.minor = piece.minor;
  score.first_bar_s = piece.t0_s;
  score.bar_s = piece.bar_s();
  for (int b = 0; b < piece.num_bars; ++b) score.bar_roots.push_back(piece.root_pc(b));

  int k = rng.categorical(opt.instruments_per_clip) + 1;
  k = std::min<int>(k, static_cast<int>(allowed.size()));
  rng.shuffle(allowed);
  std::vector<int> rhythm;  // drums, cymbals and bass among the allowed classes not drawn
  if (opt.rhythm_section_probability > 0 && rng.bernoulli(opt.rhythm_section_probability))
    for (const char* name : {"drums", "cymbals", "bass"})
      if (auto it = std::find(allowed.begin() + k, allowed.end(), *instrument_index(name));
          it != allowed.end())
        rhythm.push_back(*it);
  allowed.resize(static_cast<std::size_t>(k));
  allowed.insert(allowed.end(), rhythm.begin(), rhythm.end());
  std::sort(allowed.begin(), allowed.end());

  const int drum_kit = palette.drum_kits.empty() ? 0 : rng.pick(palette.drum_kits);
  int next_channel = 0;
  for (int ci : allowed) {
    const auto& cls = cs[static_cast<std::size_t>(ci)];
    Part part;
    part.class_index = ci;
    part.role = rng.pick(cls.roles);
    if (!cls.percussion && opt.any_role_probability > 0 && rng.bernoulli(opt.any_role_probability))
      part.role = rng.pick(kMelodicRoles);
    if (cls.percussion) {
      part.channel = kPercussionChannel;
      part.bank = 128;
      part.program = drum_kit;
    } else {
      if (next_channel == kPercussionChannel) ++next_channel;
      part.channel = next_channel++;
      std::tie(part.bank, part.program) = palette.draw_preset(ci, rng);
    }
    part.volume = rng.uniform_int(80, 127);
    part.pan = rng.uniform_int(24, 104);
    part.reverb_send = opt.reverb ? rng.uniform_int(20, 90) : 0;

    PartWriter writer(rng, piece, cls);
    auto raw = writer.write(part.role);
    if (cls.percussion) {  // drop keys the soundfont's kit lacks
      const auto& keys = palette.percussion_keys[static_cast<std::size_t>(ci)];
      std::erase_if(raw, [&](const RawNote& n) {
        return std::find(keys.begin(), keys.end(), n.key) == keys.end();
      });
    }
    const bool partial = rng.bernoulli(opt.partial_probability);
    auto regions = make_regions(rng, piece, partial);
    part.notes = place_notes(raw, regions, opt.sample_rate_hz, score.num_samples);
    if (part.notes.empty())  // a region without notes: let the part play throughout
      part.notes =
          place_notes(raw, make_regions(rng, piece, false), opt.sample_rate_hz, score.num_samples);
    if (!part.notes.empty()) score.parts.push_back(std::move(part));
  }
  return score;
}

}  // namespace tutti::synth
