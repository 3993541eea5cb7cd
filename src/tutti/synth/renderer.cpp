#include "tutti/synth/renderer.h"

#include <fluidsynth.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <mutex>
#include <numeric>

#include "tutti/core/error.h"

namespace tutti::synth {

// score.h numbers generators as the SoundFont specification does; so does FluidSynth.
static_assert(kGenVibLfoToPitch == GEN_VIBLFOTOPITCH && kGenFilterFc == GEN_FILTERFC &&
              kGenFilterQ == GEN_FILTERQ && kGenVolEnvAttack == GEN_VOLENVATTACK &&
              kGenVolEnvDecay == GEN_VOLENVDECAY && kGenVolEnvSustain == GEN_VOLENVSUSTAIN &&
              kGenVolEnvRelease == GEN_VOLENVRELEASE);

namespace {

// FluidSynth logs through a process-wide callback. Silence it, but keep the last error of this
// thread so that a failure can say why.
thread_local std::string t_last_fluid_error;

void capture_log(int level, const char* message, void*) {
  if (level <= FLUID_WARN && message) t_last_fluid_error = message;
}

void install_log_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    for (int level = 0; level < LAST_LOG_LEVEL; ++level)
      fluid_set_log_function(level, capture_log, nullptr);
  });
}

std::string last_fluid_error() {
  return t_last_fluid_error.empty() ? std::string("no detail from FluidSynth") : t_last_fluid_error;
}

// Creating synthesizers and loading fonts touches FluidSynth's shared sample cache and one-time
// initialization; serialize it (rendering itself runs in parallel).
std::mutex& creation_mutex() {
  static std::mutex m;
  return m;
}

struct SettingsDeleter {
  void operator()(fluid_settings_t* s) const { delete_fluid_settings(s); }
};
struct SynthDeleter {
  void operator()(fluid_synth_t* s) const { delete_fluid_synth(s); }
};

constexpr int kBlock = static_cast<int>(kBlockSamples);

// The RIFF layout of a SoundFont 2 file (SoundFont 2.01 spec, section 4): "RIFF" size "sfbk" with
// LIST chunks INFO, sdta and pdta. Checked before FluidSynth sees the file, so that a broken file
// gets a precise message (and FluidSynth does not hand it on to its DLS loader, which prints).
void check_soundfont_structure(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  tutti::check(f.is_open(), "synth: soundfont {}: cannot open the file", path.string());
  std::error_code ec;
  const auto file_size = std::filesystem::file_size(path, ec);
  tutti::check(!ec, "synth: soundfont {}: cannot read the file size", path.string());
  auto u32 = [](const char* p) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24;
  };
  char head[12] = {};
  const bool got = static_cast<bool>(f.read(head, 12));
  tutti::check(got && std::string(head, 4) == "RIFF" && std::string(head + 8, 4) == "sfbk",
               "synth: soundfont {}: not a SoundFont (.sf2/.sf3) file (no RIFF 'sfbk' header)",
               path.string());
  bool info = false, sdta = false, pdta = false;
  std::uint64_t pos = 12;
  const std::uint64_t end = std::min<std::uint64_t>(file_size, 8 + std::uint64_t{u32(head + 4)});
  while (pos + 8 <= end) {
    char ch[12] = {};
    f.seekg(static_cast<std::streamoff>(pos));
    if (!f.read(ch, 12)) f.clear();
    const std::uint64_t size = u32(ch + 4);
    // Some fonts carry junk after the three lists (MuseScore_General.sf3 does): stop there.
    if (info && sdta && pdta) break;
    tutti::check(pos + 8 + size <= file_size,
                 "synth: soundfont {}: truncated ('{}' chunk of {} bytes at offset {} runs past "
                 "the end of the {}-byte file)",
                 path.string(), std::string(ch, 4), size, pos, file_size);
    if (std::string(ch, 4) == "LIST" && size >= 4) {
      const std::string type(ch + 8, 4);
      info |= type == "INFO";
      sdta |= type == "sdta";
      pdta |= type == "pdta";
    }
    // Chunks of odd size are followed by a pad byte, but some writers leave it out
    // (MuseScore_General.sf3's sdta): take whichever position holds the next LIST.
    std::uint64_t next = pos + 8 + size;
    if (size & 1) {
      char id[4] = {};
      f.seekg(static_cast<std::streamoff>(next));
      if (!f.read(id, 4) || std::string(id, 4) != "LIST") ++next;
      f.clear();
    }
    pos = next;
  }
  tutti::check(info && sdta && pdta,
               "synth: soundfont {}: not a complete SoundFont (missing the {} list)", path.string(),
               !info   ? "INFO"
               : !sdta ? "sdta"
                       : "pdta");
}

}  // namespace

std::string class_status_name(ClassStatus s) {
  switch (s) {
    case ClassStatus::kOk:
      return "ok";
    case ClassStatus::kPartial:
      return "partial";
    case ClassStatus::kMissing:
      return "missing";
    case ClassStatus::kNoGeneralMidi:
      return "no-gm-program";
  }
  return "?";
}

struct FluidSynthesizer::Impl {
  std::unique_ptr<fluid_settings_t, SettingsDeleter> settings;
  std::unique_ptr<fluid_synth_t, SynthDeleter> synth;
  int sfont_id = -1;
  std::vector<float> scratch;

  void render_into(float* lr, int frames) {
    // fluid_synth_write_float renders at most what fits; split long requests to stay in int.
    if (frames <= 0) return;
    const int rc = fluid_synth_write_float(synth.get(), frames, lr, 0, 2, lr, 1, 2);
    tutti::check(rc == FLUID_OK, "synth: FluidSynth failed to render {} samples: {}", frames,
                 last_fluid_error());
  }
  // All notes off, controllers and effects reset. Voices that system_reset turns off fade out
  // over the next few milliseconds of rendering (measured: gone after 1024 samples at 44.1 kHz),
  // so render and drop 50 ms before the next notes.
  void reset() {
    // system_reset alone lets voices ring on (seconds for some presets), and all_sounds_off
    // before it does not help (measured with FluidSynth 2.3): reset, then silence every channel.
    fluid_synth_system_reset(synth.get());
    fluid_synth_all_sounds_off(synth.get(), -1);
    const int flush = (flush_samples + kBlock - 1) / kBlock * kBlock;
    scratch.assign(static_cast<std::size_t>(flush) * 2, 0.0f);
    render_into(scratch.data(), flush);
  }
  int flush_samples = 2240;
  bool tuned = false;         // a key tuning is active on the melodic channels
  bool reverb_moved = false;  // the reverb parameters differ from FluidSynth's defaults
};

FluidSynthesizer::FluidSynthesizer(const std::filesystem::path& soundfont, int sample_rate_hz,
                                   bool reverb)
    : impl_(std::make_unique<Impl>()), soundfont_(soundfont), sample_rate_hz_(sample_rate_hz) {
  tutti::check<UsageError>(sample_rate_hz >= 8000 && sample_rate_hz <= 192000,
                           "synth: sample rate {} Hz outside [8000, 192000]", sample_rate_hz);
  install_log_handler();
  std::error_code ec;
  tutti::check(std::filesystem::is_regular_file(soundfont, ec), "synth: soundfont {}: no such file",
               soundfont.string());
  check_soundfont_structure(soundfont);
  std::lock_guard lock(creation_mutex());
  t_last_fluid_error.clear();
  impl_->settings.reset(new_fluid_settings());
  tutti::check(impl_->settings != nullptr, "synth: FluidSynth cannot create settings");
  fluid_settings_t* s = impl_->settings.get();
  fluid_settings_setnum(s, "synth.sample-rate", static_cast<double>(sample_rate_hz));
  fluid_settings_setint(s, "synth.reverb.active", reverb ? 1 : 0);
  fluid_settings_setint(s, "synth.chorus.active", 0);
  fluid_settings_setint(s, "synth.threadsafe-api", 0);  // one thread per synthesizer
  fluid_settings_setint(s, "synth.cpu-cores", 1);
  fluid_settings_setint(s, "synth.polyphony", 256);
  impl_->synth.reset(new_fluid_synth(s));
  tutti::check(impl_->synth != nullptr, "synth: FluidSynth cannot create a synthesizer: {}",
               last_fluid_error());
  impl_->flush_samples = sample_rate_hz / 20;
  impl_->sfont_id = fluid_synth_sfload(impl_->synth.get(), soundfont.c_str(), 1);
  tutti::check(impl_->sfont_id != FLUID_FAILED,
               "synth: soundfont {}: FluidSynth cannot load it: {}", soundfont.string(),
               last_fluid_error());
}

FluidSynthesizer::~FluidSynthesizer() {
  if (impl_) {
    std::lock_guard lock(creation_mutex());
    impl_->synth.reset();
    impl_->settings.reset();
  }
}

std::vector<float> FluidSynthesizer::render(const Score& score) {
  tutti::check(score.sample_rate_hz == sample_rate_hz_,
               "synth: score at {} Hz, synthesizer at {} Hz", score.sample_rate_hz,
               sample_rate_hz_);
  tutti::check(score.num_samples >= 0 && score.num_samples < (std::int64_t{1} << 31),
               "synth: score length {} samples out of range", score.num_samples);
  fluid_synth_t* fs = impl_->synth.get();
  impl_->reset();

  // At equal times: note-offs first, so a key can be struck again at once; then volume changes,
  // which the notes struck with them follow.
  enum Kind { kOff = 0, kVolume = 1, kOn = 2 };
  struct Event {
    std::int64_t sample;
    int kind;
    int channel, key, value;
  };
  std::vector<Event> events;
  const auto& cs = instrument_classes();
  bool percussion_set = false;
  for (const auto& p : score.parts) {
    const auto& name = cs.at(static_cast<std::size_t>(p.class_index)).name;
    tutti::check(p.channel >= 0 && p.channel < 16, "synth: part '{}' on MIDI channel {}", name,
                 p.channel);
    if (p.channel == kPercussionChannel && percussion_set) continue;  // drums + cymbals share it
    percussion_set |= p.channel == kPercussionChannel;
    tutti::check(
        fluid_synth_program_select(fs, p.channel, impl_->sfont_id, p.bank, p.program) == FLUID_OK,
        "synth: soundfont {}: no preset bank {} program {} for '{}'", soundfont_.string(), p.bank,
        p.program, name);
    fluid_synth_cc(fs, p.channel, 7, p.volume);
    fluid_synth_cc(fs, p.channel, 10, p.pan);
    fluid_synth_cc(fs, p.channel, 91, p.reverb_send);
    fluid_synth_cc(fs, p.channel, 93, 0);
    tutti::check(p.generators.empty() || p.channel != kPercussionChannel,
                 "synth: generator offsets on the percussion channel ('{}')", name);
    for (const auto& g : p.generators)
      tutti::check(
          fluid_synth_set_gen(fs, p.channel, g.generator, static_cast<float>(g.value)) == FLUID_OK,
          "synth: FluidSynth cannot set generator {} to {} on channel {}: {}", g.generator, g.value,
          p.channel, last_fluid_error());
    for (const auto& v : p.volume_changes)
      events.push_back({v.sample, kVolume, p.channel, 7, v.volume});
  }
  if (score.fluid_reverb || impl_->reverb_moved) {
    const FluidReverb r = score.fluid_reverb.value_or(FluidReverb{});
    fluid_synth_set_reverb_group_roomsize(fs, -1, r.room_size);
    fluid_synth_set_reverb_group_damp(fs, -1, r.damping);
    fluid_synth_set_reverb_group_width(fs, -1, r.width);
    fluid_synth_set_reverb_group_level(fs, -1, r.level);
    impl_->reverb_moved = score.fluid_reverb.has_value();
  }
  // Detune: one key tuning (tuning bank 0, program 0) on every melodic channel. Tuning outlives
  // system_reset, so a clip without detune deactivates what an earlier clip set.
  if (score.detune_cents != 0) {
    double pitch[128];
    for (int k = 0; k < 128; ++k) pitch[k] = 100.0 * k + score.detune_cents;
    tutti::check(fluid_synth_activate_key_tuning(fs, 0, 0, "tutti-detune", pitch, 0) == FLUID_OK,
                 "synth: FluidSynth cannot set a key tuning: {}", last_fluid_error());
    for (int ch = 0; ch < 16; ++ch)
      if (ch != kPercussionChannel) fluid_synth_activate_tuning(fs, ch, 0, 0, 0);
    impl_->tuned = true;
  } else if (impl_->tuned) {
    for (int ch = 0; ch < 16; ++ch) fluid_synth_deactivate_tuning(fs, ch, 0);
    impl_->tuned = false;
  }

  for (const auto& p : score.parts) {
    for (const auto& n : p.notes) {
      events.push_back({n.on, kOn, p.channel, n.key, n.velocity});
      events.push_back({n.off, kOff, p.channel, n.key, 0});
    }
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) {
    return a.sample != b.sample ? a.sample < b.sample : a.kind < b.kind;
  });

  // Render whole blocks only, so that the synthesizer's internal buffer is empty between calls
  // and every event lands exactly on its block boundary; trim at the end.
  const std::int64_t n = score.num_samples;
  const std::int64_t padded = (n + kBlockSamples - 1) / kBlockSamples * kBlockSamples;
  std::vector<float> lr(static_cast<std::size_t>(padded) * 2, 0.0f);
  std::int64_t pos = 0;
  for (const auto& e : events) {
    if (e.sample >= n) break;  // after the clip's last sample: inaudible in it
    const std::int64_t at = std::max<std::int64_t>(e.sample, 0);
    tutti::check(at % kBlockSamples == 0, "synth: event at sample {} is off the {}-sample grid", at,
                 kBlockSamples);
    if (at > pos) {
      impl_->render_into(lr.data() + pos * 2, static_cast<int>(at - pos));
      pos = at;
    }
    if (e.kind == kOn)
      fluid_synth_noteon(fs, e.channel, e.key, e.value);
    else if (e.kind == kOff)
      fluid_synth_noteoff(fs, e.channel, e.key);
    else
      fluid_synth_cc(fs, e.channel, e.key, e.value);
  }
  if (padded > pos) impl_->render_into(lr.data() + pos * 2, static_cast<int>(padded - pos));
  lr.resize(static_cast<std::size_t>(n) * 2);
  impl_->reset();
  return lr;
}

SoundfontReport FluidSynthesizer::check(bool variations) {
  fluid_synth_t* fs = impl_->synth.get();
  SoundfontReport r;
  r.path = soundfont_;
  r.variations_checked = variations;
  fluid_sfont_t* sf = fluid_synth_get_sfont_by_id(fs, impl_->sfont_id);
  tutti::check(sf != nullptr, "synth: soundfont {}: not loaded", soundfont_.string());
  if (const char* name = fluid_sfont_get_name(sf)) r.name = name;
  fluid_sfont_iteration_start(sf);
  while (fluid_sfont_iteration_next(sf) != nullptr) ++r.num_presets;

  // A short test note: the preset exists and makes sound.
  const int test_len = ((sample_rate_hz_ / 10) / kBlock + 1) * kBlock;  // ~0.1 s
  // Call right after select(): the channel keeps the selected preset.
  auto sounds = [&](int channel, int key) {
    std::vector<float> buf(static_cast<std::size_t>(test_len) * 2);
    fluid_synth_noteon(fs, channel, key, 110);
    impl_->render_into(buf.data(), test_len);
    fluid_synth_noteoff(fs, channel, key);
    float peak = 0;
    for (float v : buf) peak = std::max(peak, std::abs(v));
    return peak > 1e-4f;
  };
  auto select = [&](int channel, int bank, int program) {
    if (fluid_sfont_get_preset(sf, bank, program) == nullptr) return false;
    impl_->reset();
    return fluid_synth_program_select(fs, channel, impl_->sfont_id, bank, program) == FLUID_OK;
  };

  // Percussion: the reference kit is the standard kit (0), or the first GM kit present.
  std::vector<int> kits_present;
  for (int kit : kGmDrumKits)
    if (fluid_sfont_get_preset(sf, 128, kit) != nullptr) kits_present.push_back(kit);
  std::vector<int> ref_keys;  // percussion keys of both classes that sound in the reference kit
  std::vector<int> all_keys;
  for (const auto& c : instrument_classes())
    if (c.percussion)
      all_keys.insert(all_keys.end(), c.percussion_keys.begin(), c.percussion_keys.end());
  std::sort(all_keys.begin(), all_keys.end());
  auto kit_keys = [&](int kit) {
    std::vector<int> ok;
    for (int key : all_keys) {
      if (!select(kPercussionChannel, 128, kit)) return ok;
      if (sounds(kPercussionChannel, key)) ok.push_back(key);
    }
    return ok;
  };
  if (!kits_present.empty()) {
    ref_keys = kit_keys(kits_present.front());
    r.drum_kits.push_back(kits_present.front());
    for (std::size_t i = 1; i < kits_present.size(); ++i) {
      const auto keys = kit_keys(kits_present[i]);
      if (std::includes(keys.begin(), keys.end(), ref_keys.begin(), ref_keys.end()))
        r.drum_kits.push_back(kits_present[i]);
    }
  }

  const auto& cs = instrument_classes();
  for (std::size_t ci = 0; ci < cs.size(); ++ci) {
    const auto& c = cs[ci];
    ClassSupport s;
    s.class_index = static_cast<int>(ci);
    s.name = c.name;
    if (!c.synthesizable) {
      s.status = ClassStatus::kNoGeneralMidi;
      const int test_key = std::clamp((c.low_key + c.high_key) / 2, 0, 127);
      for (const auto& [bank, program] :
           variations ? c.variation_presets : std::vector<std::pair<int, int>>{})
        if (select(0, bank, program) && sounds(0, test_key))
          s.variations.push_back({bank, program});
      if (!s.variations.empty()) s.status = ClassStatus::kOk;
      r.classes.push_back(s);
      continue;
    }
    if (c.percussion) {
      for (int key : c.percussion_keys) {
        const bool ok = std::find(ref_keys.begin(), ref_keys.end(), key) != ref_keys.end();
        (ok ? s.available : s.missing).push_back(key);
      }
    } else {
      const int test_key = std::clamp((c.low_key + c.high_key) / 2, 0, 127);
      for (int prog : c.gm_programs) {
        const bool ok = select(0, 0, prog - 1) && sounds(0, test_key);
        (ok ? s.available : s.missing).push_back(prog);
      }
    }
    s.status = s.missing.empty()     ? ClassStatus::kOk
               : s.available.empty() ? ClassStatus::kMissing
                                     : ClassStatus::kPartial;
    r.classes.push_back(s);
  }
  impl_->reset();
  return r;
}

Palette SoundfontReport::palette() const {
  Palette p;
  const auto& cs = instrument_classes();
  p.programs.assign(cs.size(), {});
  p.percussion_keys.assign(cs.size(), {});
  for (const auto& s : classes) {
    if (s.status == ClassStatus::kNoGeneralMidi || s.status == ClassStatus::kMissing) continue;
    const auto i = static_cast<std::size_t>(s.class_index);
    if (!s.variations.empty()) {
      p.variations.resize(cs.size());
      p.variations[i] = s.variations;
      continue;
    }
    (cs[i].percussion ? p.percussion_keys[i] : p.programs[i]) = s.available;
  }
  p.drum_kits = drum_kits;
  return p;
}

std::vector<std::string> SoundfontReport::problems() const {
  std::vector<std::string> out;
  const auto& cs = instrument_classes();
  auto list = [](const std::vector<int>& v) { return fmt::format("{}", fmt::join(v, ",")); };
  for (const auto& s : classes) {
    const bool perc = cs[static_cast<std::size_t>(s.class_index)].percussion;
    const char* what = perc ? "percussion keys" : "GM programs";
    switch (s.status) {
      case ClassStatus::kOk:
        break;
      case ClassStatus::kNoGeneralMidi:
        if (variations_checked &&
            !cs[static_cast<std::size_t>(s.class_index)].variation_presets.empty())
          out.push_back(fmt::format(
              "{}: no General MIDI program and no GS variation preset in {}; labels unknown in "
              "its clips",
              s.name, path.string()));
        else
          out.push_back(fmt::format(
              "{}: no General MIDI program; never synthesized, labels unknown", s.name));
        break;
      case ClassStatus::kPartial:
        out.push_back(fmt::format("{}: {} {} missing or silent in {}; using only {}", s.name, what,
                                  list(s.missing), path.string(), list(s.available)));
        break;
      case ClassStatus::kMissing:
        out.push_back(fmt::format("{}: no {} ({}) in {}; skipped, labels unknown", s.name, what,
                                  list(s.missing), path.string()));
        break;
    }
  }
  return out;
}

core::Json SoundfontReport::to_json() const {
  core::Json j;
  j["path"] = path.string();
  j["name"] = name;
  j["num_presets"] = num_presets;
  j["drum_kits"] = drum_kits;
  core::Json arr = core::Json::array();
  for (const auto& s : classes) {
    arr.push_back({{"class", s.name},
                   {"status", class_status_name(s.status)},
                   {"available", s.available},
                   {"missing", s.missing}});
    if (!s.variations.empty()) arr.back()["variations"] = s.variations;  // [[bank, program]]
  }
  j["classes"] = arr;
  return j;
}

SoundfontReport check_soundfont(const std::filesystem::path& soundfont) {
  FluidSynthesizer fs(soundfont, 44100, false);
  return fs.check();
}

}  // namespace tutti::synth
