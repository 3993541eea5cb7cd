#include "tutti/synth/synth_config.h"

#include <cmath>
#include <set>

#include "tutti/core/error.h"
#include "tutti/synth/instruments.h"

namespace tutti::synth {

namespace {
constexpr const char* kWhat = "synth config";
}

int SynthConfig::max_instruments() const {
  for (std::size_t i = instruments_per_clip.size(); i-- > 0;)
    if (instruments_per_clip[i] > 0) return static_cast<int>(i) + 1;
  return 0;
}

void SynthConfig::validate() const {
  using E = UsageError;
  check<E>(n_clips > 0, "{}: n_clips must be > 0, got {}", kWhat, n_clips);
  check<E>(std::isfinite(duration_s) && duration_s > 0 && duration_s <= 600,
           "{}: duration_s must be in (0, 600], got {}", kWhat, duration_s);
  check<E>(sample_rate_hz >= 8000 && sample_rate_hz <= 192000,
           "{}: sample_rate_hz must be in [8000, 192000], got {}", kWhat, sample_rate_hz);
  check<E>(channels == 1 || channels == 2, "{}: channels must be 1 or 2, got {}", kWhat, channels);
  check<E>(!soundfont.empty(), "{}: soundfont path is empty", kWhat);
  check<E>(!instruments_per_clip.empty(), "{}: instruments_per_clip needs at least one weight",
           kWhat);
  double total = 0;
  for (std::size_t i = 0; i < instruments_per_clip.size(); ++i) {
    const double w = instruments_per_clip[i];
    check<E>(std::isfinite(w) && w >= 0,
             "{}: instruments_per_clip weight {} (for {} instruments) must be >= 0", kWhat, w,
             i + 1);
    total += w;
  }
  check<E>(total > 0, "{}: instruments_per_clip weights sum to 0", kWhat);
  std::set<std::string> seen;
  for (const auto& name : classes) {
    const auto idx = instrument_index(name);
    check<E>(idx.has_value(), "{}: unknown instrument class '{}'", kWhat, name);
    const auto& cls = instrument_classes()[static_cast<std::size_t>(*idx)];
    check<E>(cls.synthesizable || (randomized() && !cls.variation_presets.empty()),
             "{}: class '{}' has no General MIDI program and cannot be synthesized (with a "
             "soundfont pool or --effects, its GS variation preset is used where a font has it)",
             kWhat, name);
    check<E>(seen.insert(name).second, "{}: class '{}' listed twice", kWhat, name);
  }
  const int available = classes.empty() ? static_cast<int>(synthesizable_classes().size())
                                        : static_cast<int>(classes.size());
  check<E>(max_instruments() <= available,
           "{}: instruments_per_clip allows {} instruments per clip but only {} classes can be "
           "synthesized",
           kWhat, max_instruments(), available);
  if (noise_snr_db) {
    check<E>(std::isfinite(*noise_snr_db) && *noise_snr_db >= -20 && *noise_snr_db <= 100,
             "{}: noise_snr_db must be in [-20, 100] dB, got {}", kWhat, *noise_snr_db);
  }
  check<E>(std::isfinite(min_peak_dbfs) && std::isfinite(max_peak_dbfs) && min_peak_dbfs >= -60 &&
               min_peak_dbfs <= max_peak_dbfs && max_peak_dbfs <= 0,
           "{}: peak range [{}, {}] dBFS must satisfy -60 <= min <= max <= 0", kWhat, min_peak_dbfs,
           max_peak_dbfs);
  check<E>(partial_probability >= 0 && partial_probability <= 1,
           "{}: partial_probability must be in [0, 1], got {}", kWhat, partial_probability);
  check<E>(std::isfinite(release_s) && release_s >= 0 && release_s <= 10,
           "{}: release_s must be in [0, 10], got {}", kWhat, release_s);
  check<E>(std::isfinite(merge_gap_s) && merge_gap_s >= 0 && merge_gap_s <= 60,
           "{}: merge_gap_s must be in [0, 60], got {}", kWhat, merge_gap_s);
  check<E>(std::isfinite(hop_s) && hop_s > 0, "{}: hop_s must be > 0, got {}", kWhat, hop_s);
  check<E>(instance_fraction > 0 && instance_fraction <= 1,
           "{}: instance_fraction must be in (0, 1], got {}", kWhat, instance_fraction);
  check<E>(threads >= 0 && threads <= 1024, "{}: threads must be in [0, 1024], got {}", kWhat,
           threads);
  for (const auto& f : soundfonts) check<E>(!f.empty(), "{}: empty soundfont path", kWhat);
  for (const auto& f : midi) check<E>(!f.empty(), "{}: empty MIDI path", kWhat);
  check<E>(!midi_split || !midi.empty(), "{}: midi_split needs MIDI files (--midi)", kWhat);
  check<E>(any_role_probability >= 0 && any_role_probability <= 1,
           "{}: any_role_probability must be in [0, 1], got {}", kWhat, any_role_probability);
  check<E>(any_role_probability == 0 || midi.empty(),
           "{}: any_role_probability is for the composer; for MIDI files (--midi) use "
           "any_instrument_probability",
           kWhat);
  check<E>(rhythm_section_probability >= 0 && rhythm_section_probability <= 1,
           "{}: rhythm_section_probability must be in [0, 1], got {}", kWhat,
           rhythm_section_probability);
  check<E>(rhythm_section_probability == 0 || midi.empty(),
           "{}: rhythm_section_probability is for the composer, not MIDI files (--midi)", kWhat);
  check<E>(any_instrument_probability >= 0 && any_instrument_probability <= 1,
           "{}: any_instrument_probability must be in [0, 1], got {}", kWhat,
           any_instrument_probability);
  check<E>(any_instrument_probability == 0 || !midi.empty(),
           "{}: any_instrument_probability is for MIDI files (--midi); for the composer use "
           "any_role_probability",
           kWhat);
  check<E>(drop_part_probability >= 0 && drop_part_probability <= 1,
           "{}: drop_part_probability must be in [0, 1], got {}", kWhat, drop_part_probability);
  check<E>(drop_part_probability == 0 || !midi.empty(),
           "{}: drop_part_probability is for MIDI files (--midi)", kWhat);
  check<E>(timbre_probability >= 0 && timbre_probability <= 1,
           "{}: timbre_probability must be in [0, 1], got {}", kWhat, timbre_probability);
  check<E>(generator.find_first_of(",\n\r\"") == std::string::npos,
           "{}: generator name '{}' has a comma, quote or line break", kWhat, generator);
  check<E>(clips_per_synth >= 1, "{}: clips_per_synth must be >= 1, got {}", kWhat,
           clips_per_synth);
}

std::string noise_color_name(NoiseColor c) { return c == NoiseColor::kPink ? "pink" : "white"; }

NoiseColor parse_noise_color(const std::string& name) {
  if (name == "white") return NoiseColor::kWhite;
  if (name == "pink") return NoiseColor::kPink;
  fail<UsageError>("{}: unknown noise color '{}' (white, pink)", kWhat, name);
}

std::string sample_format_name(SampleFormat f) {
  return f == SampleFormat::kFloat ? "float" : "pcm16";
}

SampleFormat parse_sample_format(const std::string& name) {
  if (name == "pcm16") return SampleFormat::kPcm16;
  if (name == "float") return SampleFormat::kFloat;
  fail<UsageError>("{}: unknown sample format '{}' (pcm16, float)", kWhat, name);
}

core::Json to_json(const SynthConfig& c) {
  core::Json j;
  j["n_clips"] = c.n_clips;
  j["seed"] = c.seed;
  j["duration_s"] = c.duration_s;
  j["sample_rate_hz"] = c.sample_rate_hz;
  j["channels"] = c.channels;
  j["sample_format"] = sample_format_name(c.sample_format);
  j["soundfont"] = c.soundfont;
  j["instruments_per_clip"] = c.instruments_per_clip;
  j["classes"] = c.classes;
  j["reverb"] = c.reverb;
  j["noise_snr_db"] = c.noise_snr_db ? core::Json(*c.noise_snr_db) : core::Json(nullptr);
  j["noise_color"] = noise_color_name(c.noise_color);
  j["min_peak_dbfs"] = c.min_peak_dbfs;
  j["max_peak_dbfs"] = c.max_peak_dbfs;
  j["partial_probability"] = c.partial_probability;
  j["release_s"] = c.release_s;
  j["merge_gap_s"] = c.merge_gap_s;
  j["hop_s"] = c.hop_s;
  j["instance_fraction"] = c.instance_fraction;
  j["threads"] = c.threads;
  j["clips_per_synth"] = c.clips_per_synth;
  if (c.randomized() || c.test_font_ok || !c.generator.empty()) {  // absent: old files unchanged
    j["soundfonts"] = c.soundfonts;
    j["effects"] = c.effects;
    j["test_font_ok"] = c.test_font_ok;
    j["midi"] = c.midi;
    j["midi_split"] = c.midi_split;
    j["generator"] = c.generator_name();
  }
  if (c.any_role_probability > 0) j["any_role_probability"] = c.any_role_probability;
  if (c.rhythm_section_probability > 0)
    j["rhythm_section_probability"] = c.rhythm_section_probability;
  if (c.any_instrument_probability > 0)
    j["any_instrument_probability"] = c.any_instrument_probability;
  if (c.drop_part_probability > 0) j["drop_part_probability"] = c.drop_part_probability;
  if (c.timbre_probability > 0) j["timbre_probability"] = c.timbre_probability;
  return j;
}

SynthConfig synth_config_from_json(const core::Json& j) {
  check<UsageError>(j.is_object(), "{}: expected a JSON object", kWhat);
  SynthConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const core::Json& v = it.value();
    try {
      if (k == "n_clips")
        c.n_clips = v.get<int>();
      else if (k == "seed")
        c.seed = v.get<std::uint64_t>();
      else if (k == "duration_s")
        c.duration_s = v.get<double>();
      else if (k == "sample_rate_hz")
        c.sample_rate_hz = v.get<int>();
      else if (k == "channels")
        c.channels = v.get<int>();
      else if (k == "sample_format")
        c.sample_format = parse_sample_format(v.get<std::string>());
      else if (k == "soundfont")
        c.soundfont = v.get<std::string>();
      else if (k == "instruments_per_clip")
        c.instruments_per_clip = v.get<std::vector<double>>();
      else if (k == "classes")
        c.classes = v.get<std::vector<std::string>>();
      else if (k == "reverb")
        c.reverb = v.get<bool>();
      else if (k == "noise_snr_db") {
        if (v.is_null())
          c.noise_snr_db.reset();
        else
          c.noise_snr_db = v.get<double>();
      } else if (k == "noise_color")
        c.noise_color = parse_noise_color(v.get<std::string>());
      else if (k == "min_peak_dbfs")
        c.min_peak_dbfs = v.get<double>();
      else if (k == "max_peak_dbfs")
        c.max_peak_dbfs = v.get<double>();
      else if (k == "partial_probability")
        c.partial_probability = v.get<double>();
      else if (k == "any_role_probability")
        c.any_role_probability = v.get<double>();
      else if (k == "rhythm_section_probability")
        c.rhythm_section_probability = v.get<double>();
      else if (k == "any_instrument_probability")
        c.any_instrument_probability = v.get<double>();
      else if (k == "drop_part_probability")
        c.drop_part_probability = v.get<double>();
      else if (k == "timbre_probability")
        c.timbre_probability = v.get<double>();
      else if (k == "release_s")
        c.release_s = v.get<double>();
      else if (k == "merge_gap_s")
        c.merge_gap_s = v.get<double>();
      else if (k == "hop_s")
        c.hop_s = v.get<double>();
      else if (k == "instance_fraction")
        c.instance_fraction = v.get<double>();
      else if (k == "threads")
        c.threads = v.get<int>();
      else if (k == "clips_per_synth")
        c.clips_per_synth = v.get<int>();
      else if (k == "soundfonts")
        c.soundfonts = v.get<std::vector<std::string>>();
      else if (k == "effects")
        c.effects = v.get<bool>();
      else if (k == "test_font_ok")
        c.test_font_ok = v.get<bool>();
      else if (k == "midi")
        c.midi = v.get<std::vector<std::string>>();
      else if (k == "midi_split")
        c.midi_split = v.get<bool>();
      else if (k == "generator")
        c.generator = v.get<std::string>();
      else
        fail<UsageError>("{}: unknown key '{}'", kWhat, k);
    } catch (const core::Json::exception& e) {
      fail<UsageError>("{}: key '{}' has the wrong type: {}", kWhat, k, e.what());
    }
  }
  return c;
}

}  // namespace tutti::synth
