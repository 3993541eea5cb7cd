#include "tutti/synth/dataset.h"

#include <sndfile.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <memory>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/random.h"
#include "tutti/core/work_pool.h"
#include "tutti/synth/font_pool.h"
#include "tutti/synth/midi_file.h"
#include "tutti/synth/mix.h"

namespace tutti::synth {

namespace fs = std::filesystem;

std::uint64_t clip_seed(std::uint64_t seed, int clip_index, int stream) {
  return core::derive_seed(seed, static_cast<std::uint64_t>(clip_index),
                           static_cast<std::uint64_t>(stream));
}

std::string clip_name(int clip_index) { return fmt::format("synth_{:06d}", clip_index); }

ComposerOptions composer_options(const SynthConfig& cfg) {
  ComposerOptions o;
  o.duration_s = cfg.duration_s;
  o.sample_rate_hz = cfg.sample_rate_hz;
  o.instruments_per_clip = cfg.instruments_per_clip;
  for (const auto& name : cfg.classes) {
    const auto idx = instrument_index(name);
    check<UsageError>(idx.has_value(), "synth: unknown instrument class '{}'", name);
    o.classes.push_back(*idx);
  }
  o.partial_probability = cfg.partial_probability;
  o.any_role_probability = cfg.any_role_probability;
  o.rhythm_section_probability = cfg.rhythm_section_probability;
  o.reverb = cfg.reverb;
  o.min_peak_dbfs = cfg.min_peak_dbfs;
  o.max_peak_dbfs = cfg.max_peak_dbfs;
  return o;
}

double active_fraction(std::span<const StrongLabel> strong, int class_index, double duration_s) {
  double total = 0;
  for (const auto& s : strong)
    if (s.class_index == class_index) total += s.offset_s - s.onset_s;
  return duration_s > 0 ? total / duration_s : 0.0;
}

SynthClip synthesize_clip(FluidSynthesizer& synth, const SynthConfig& cfg, const Palette& palette,
                          int clip_index) {
  return synthesize_clip(
      synth, cfg, palette, clip_index,
      compose(composer_options(cfg), palette, clip_seed(cfg.seed, clip_index, 0)), nullptr);
}

SynthClip synthesize_clip(FluidSynthesizer& synth, const SynthConfig& cfg, const Palette& palette,
                          int clip_index, Score score, const EffectsParams* fx) {
  check<UsageError>(synth.sample_rate_hz() == cfg.sample_rate_hz,
                    "synth: synthesizer runs at {} Hz, config asks for {} Hz",
                    synth.sample_rate_hz(), cfg.sample_rate_hz);
  SynthClip clip;
  clip.name = clip_name(clip_index);
  clip.channels = cfg.channels;
  clip.score = std::move(score);
  if (fx) apply_score_effects(clip.score, *fx);
  auto stereo = synth.render(clip.score);
  if (fx) apply_audio_effects(stereo, cfg.sample_rate_hz, *fx, clip_seed(cfg.seed, clip_index, 4));
  clip.audio = to_channels(stereo, cfg.channels);
  normalize_peak(clip.audio, std::pow(10.0, clip.score.peak_dbfs / 20.0));
  const auto snr = fx ? fx->noise_snr_db : cfg.noise_snr_db;
  if (snr) {
    add_noise(clip.audio, cfg.channels, *snr, fx ? fx->noise_color : cfg.noise_color,
              clip_seed(cfg.seed, clip_index, 1));
    // Noise peaks may clip: scale signal and noise together, which keeps the SNR.
    const double peak = peak_abs(clip.audio);
    if (peak > 0.999) normalize_peak(clip.audio, 0.999);
  }
  // Composed clips last exactly cfg.duration_s; a MIDI clip as long as its song (up to that).
  const double duration_s = cfg.midi.empty() ? cfg.duration_s : clip.score.duration_s();
  clip.strong = strong_labels(clip.score, cfg.release_s, cfg.merge_gap_s);
  clip.weak = weak_labels(clip.strong, palette.playable());
  clip.instances =
      instance_truth(clip.strong, num_instrument_classes(), num_instances(duration_s, cfg.hop_s),
                     cfg.hop_s, cfg.instance_fraction);
  return clip;
}

namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};

std::string fmt_time(double t) { return fmt::format("{:.6f}", t); }

}  // namespace

void write_wav(const fs::path& path, std::span<const float> audio, int channels, int sample_rate_hz,
               SampleFormat format) {
  check<UsageError>(channels >= 1 && audio.size() % static_cast<std::size_t>(channels) == 0,
                    "synth: {}: {} samples do not split into {} channels", path.string(),
                    audio.size(), channels);
  SF_INFO info{};
  info.samplerate = sample_rate_hz;
  info.channels = channels;
  info.format =
      SF_FORMAT_WAV | (format == SampleFormat::kFloat ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
  std::unique_ptr<SNDFILE, SndfileCloser> f(sf_open(path.c_str(), SFM_WRITE, &info));
  check(f != nullptr, "synth: {}: cannot write WAV: {}", path.string(), sf_strerror(nullptr));
  sf_command(f.get(), SFC_SET_CLIPPING, nullptr, SF_TRUE);
  sf_command(f.get(), SFC_SET_ADD_PEAK_CHUNK, nullptr, SF_FALSE);
  const sf_count_t frames =
      static_cast<sf_count_t>(audio.size() / static_cast<std::size_t>(channels));
  const sf_count_t wrote = sf_writef_float(f.get(), audio.data(), frames);
  check(wrote == frames, "synth: {}: wrote {} of {} frames: {}", path.string(), wrote, frames,
        sf_strerror(f.get()));
  SNDFILE* raw = f.release();
  check(sf_close(raw) == 0, "synth: {}: cannot finish the WAV file", path.string());
}

namespace {

// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
std::string csv_field(const std::string& v) {
  if (v.find_first_of(",\"\n\r") == std::string::npos) return v;
  std::string out = "\"";
  for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

// "piano:1;bass:34;drums:kit0": each part's class and 1-based GM program (or drum kit).
std::string part_programs(const Score& score) {
  std::string out;
  const auto& cs = instrument_classes();
  for (const auto& p : score.parts) {
    if (!out.empty()) out += ';';
    out += cs[static_cast<std::size_t>(p.class_index)].name + ':' +
           (p.bank == 128 ? fmt::format("kit{}", p.program)
            : p.bank == 0 ? fmt::format("{}", p.program + 1)
                          : fmt::format("{}/{}", p.bank, p.program + 1));  // bank/GM program
  }
  return out;
}

std::string effects_columns(const EffectsParams* fx, double peak_dbfs,
                            const std::optional<double>& snr, NoiseColor color) {
  std::string levels;
  if (fx)
    for (double l : fx->part_level_db) {
      if (!levels.empty()) levels += ';';
      levels += fmt::format("{:.3f}", l);
    }
  auto num = [&](double v) { return fx ? fmt::format("{:.6g}", v) : std::string(); };
  const bool fr = fx && fx->fluid_reverb;
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{:.6g},{},{},{},{},{},{}",
                     num(fx ? fx->tempo_factor : 0), num(fx ? fx->detune_cents : 0), levels,
                     num(fx ? fx->reverb_rt60_s : 0), num(fx ? fx->reverb_wet : 0),
                     num(fx ? fx->reverb_predelay_s : 0), num(fx ? fx->tilt_db_per_octave : 0),
                     num(fx ? fx->comp_threshold_db : 0), num(fx ? fx->comp_ratio : 0),
                     num(fx ? fx->comp_attack_s : 0), num(fx ? fx->comp_release_s : 0),
                     num(fx ? fx->stereo_width : 0), peak_dbfs,
                     snr ? fmt::format("{:.6g}", *snr) : std::string(),
                     snr ? noise_color_name(color) : std::string(),
                     fr ? num(fx->fluid_reverb->room_size) : std::string(),
                     fr ? num(fx->fluid_reverb->damping) : std::string(),
                     fr ? num(fx->fluid_reverb->width) : std::string(),
                     fr ? num(fx->fluid_reverb->level) : std::string());
}

}  // namespace

int draw_soundfont(std::uint64_t seed, int clip_index, std::size_t pool_size) {
  if (pool_size <= 1) return 0;
  core::Rng rng(clip_seed(seed, clip_index, 2));
  return rng.uniform_int(0, static_cast<int>(pool_size) - 1);
}

SynthSummary write_synth_dataset(const SynthConfig& cfg, const fs::path& out_dir, bool overwrite,
                                 const std::function<void(int)>& on_clip_done) {
  const auto t_start = std::chrono::steady_clock::now();
  cfg.validate();
  check<UsageError>(!out_dir.empty(), "synth: output folder path is empty");
  std::error_code ec;
  check<UsageError>(overwrite || !fs::exists(out_dir, ec), "synth: output folder {} already exists",
                    out_dir.string());
  const fs::path target = fs::absolute(out_dir);

  const std::vector<fs::path> fonts = cfg.soundfonts.empty()
                                          ? std::vector<fs::path>{fs::path(cfg.soundfont)}
                                          : resolve_soundfonts(cfg.soundfonts);
  // Every name counts, also a link the pool drops as a duplicate of a file already in it.
  check_training_fonts(cfg.soundfonts.empty() ? fonts : resolve_soundfonts(cfg.soundfonts, true),
                       cfg.test_font_ok);

  // The anchor synthesizers check the fonts and keep their samples in FluidSynth's cache while
  // the workers load them again (an .sf3 font is decoded only once).
  std::vector<std::unique_ptr<FluidSynthesizer>> anchors;
  std::vector<Palette> palettes;
  SynthSummary summary;
  const auto opts = composer_options(cfg);
  for (const auto& font : fonts) {
    anchors.push_back(std::make_unique<FluidSynthesizer>(font, cfg.sample_rate_hz, cfg.reverb));
    summary.soundfonts.push_back(anchors.back()->check(/*variations=*/cfg.randomized()));
    palettes.push_back(summary.soundfonts.back().palette());
    if (!cfg.midi.empty()) continue;
    const auto playable = palettes.back().playable();
    int n_playable = 0;
    if (opts.classes.empty()) {
      for (auto p : playable) n_playable += p;
    } else {
      for (int c : opts.classes) n_playable += playable[static_cast<std::size_t>(c)];
    }
    check<UsageError>(n_playable >= cfg.max_instruments(),
                      "synth: soundfont {} can play {} of the requested classes, but "
                      "instruments_per_clip allows up to {} per clip",
                      font.string(), n_playable, cfg.max_instruments());
  }
  summary.soundfont = summary.soundfonts.front();

  // MIDI files: parsed and turned into scores before anything is written; a file that cannot be
  // rendered is skipped with a warning in a batch, and is the error when it is the only one.
  std::vector<Score> midi_scores;
  std::vector<std::string> midi_sources;
  std::vector<double> midi_starts;
  int n = cfg.n_clips;
  if (!cfg.midi.empty()) {
    const auto files = resolve_midi_files(cfg.midi);
    int files_used = 0;
    for (const auto& f : files) {
      std::string first_error;
      bool used = false;
      try {
        const auto song = read_midi_file(f);
        const auto starts = cfg.midi_split ? excerpt_starts(song.length_s, cfg.duration_s,
                                                            std::min(1.0, cfg.duration_s / 2))
                                           : std::vector<double>{0.0};
        for (double start : starts) {
          const int i = static_cast<int>(midi_scores.size());
          const auto& palette =
              palettes[static_cast<std::size_t>(draw_soundfont(cfg.seed, i, fonts.size()))];
          try {
            Score score = midi_score(song, palette, cfg.sample_rate_hz, cfg.duration_s, cfg.reverb,
                                     nullptr, start);
            reassign_instruments(score, palette, cfg.any_instrument_probability,
                                 clip_seed(cfg.seed, i, 5));
            drop_parts(score, cfg.drop_part_probability, clip_seed(cfg.seed, i, 6));
            core::Rng rng(clip_seed(cfg.seed, i, 0));
            score.peak_dbfs = rng.uniform(cfg.min_peak_dbfs, cfg.max_peak_dbfs);
            midi_scores.push_back(std::move(score));
            midi_sources.push_back(f.string());
            midi_starts.push_back(start);
            used = true;
          } catch (const Error& e) {  // an excerpt with nothing to play: the next one
            if (first_error.empty()) first_error = e.what();
          }
        }
      } catch (const Error& e) {
        first_error = e.what();
      }
      if (used) {
        ++files_used;
        continue;
      }
      check(files.size() > 1, "{}", first_error);  // one file alone: its error
      summary.warnings.push_back(fmt::format("skipped: {}", first_error));
    }
    summary.skipped_files = static_cast<int>(files.size()) - files_used;
    check(!midi_scores.empty(), "synth: none of the {} MIDI files can be rendered (first: {})",
          files.size(), summary.warnings.empty() ? std::string() : summary.warnings.front());
    n = static_cast<int>(midi_scores.size());
  }

  core::StagingDir tmp(target);
  fs::create_directories(tmp.path() / "audio");

  const int groups = (n + cfg.clips_per_synth - 1) / cfg.clips_per_synth;

  struct ClipLabels {
    std::vector<StrongLabel> strong;
    WeakLabels weak;
    InstanceTruth instances;
    double duration_s = 0;
    std::string record;  // clips.csv row
  };
  std::vector<ClipLabels> labels(static_cast<std::size_t>(n));
  std::atomic<int> done{0};
  // One synthesizer per group of clips and font (loading the soundfont is the slow part).
  core::parallel_for(static_cast<std::size_t>(groups), cfg.threads, [&](std::size_t g) {
    std::vector<std::unique_ptr<FluidSynthesizer>> synths(fonts.size());
    const int first = static_cast<int>(g) * cfg.clips_per_synth;
    const int last = std::min(n, first + cfg.clips_per_synth);
    for (int i = first; i < last; ++i) {
      const auto f = static_cast<std::size_t>(draw_soundfont(cfg.seed, i, fonts.size()));
      if (!synths[f])
        synths[f] = std::make_unique<FluidSynthesizer>(fonts[f], cfg.sample_rate_hz, cfg.reverb);
      SynthClip clip;
      if (!cfg.randomized()) {
        clip = synthesize_clip(*synths[f], cfg, palettes[f], i);
      } else {
        Score score = cfg.midi.empty() ? compose(opts, palettes[f], clip_seed(cfg.seed, i, 0))
                                       : midi_scores[static_cast<std::size_t>(i)];
        draw_timbres(score, cfg.timbre_probability, clip_seed(cfg.seed, i, 7));
        const std::string programs = part_programs(score);
        std::optional<EffectsParams> fx;
        if (cfg.effects) fx = draw_effects(clip_seed(cfg.seed, i, 3), score.parts.size(), cfg);
        clip =
            synthesize_clip(*synths[f], cfg, palettes[f], i, std::move(score), fx ? &*fx : nullptr);
        auto& l = labels[static_cast<std::size_t>(i)];
        l.record = fmt::format(
            "{}.wav,{},{},{},{},{},{}\n", clip.name, csv_field(cfg.generator_name()),
            csv_field(cfg.midi.empty() ? std::string() : midi_sources[static_cast<std::size_t>(i)]),
            cfg.midi.empty() ? std::string()
                             : fmt::format("{:.6g}", midi_starts[static_cast<std::size_t>(i)]),
            csv_field(fonts[f].string()), programs,
            effects_columns(fx ? &*fx : nullptr, clip.score.peak_dbfs,
                            fx ? fx->noise_snr_db : cfg.noise_snr_db,
                            fx ? fx->noise_color : cfg.noise_color));
      }
      write_wav(tmp.path() / "audio" / (clip.name + ".wav"), clip.audio, cfg.channels,
                cfg.sample_rate_hz, cfg.sample_format);
      auto& l = labels[static_cast<std::size_t>(i)];
      l.strong = std::move(clip.strong);
      l.weak = std::move(clip.weak);
      l.instances = std::move(clip.instances);
      l.duration_s = cfg.midi.empty() ? cfg.duration_s : clip.score.duration_s();
      const int d = ++done;
      if (on_clip_done) on_clip_done(d);
    }
  });

  // CSVs in clip order.
  const auto& cs = instrument_classes();
  summary.clips_per_class.assign(cs.size(), 0);
  std::string weak_csv = "file,instrument,relevance\n";
  std::string strong_csv = "file,instrument,onset_s,offset_s\n";
  std::string inst_csv = "file,instance,onset_s,offset_s,instrument\n";
  for (int i = 0; i < n; ++i) {
    const auto& l = labels[static_cast<std::size_t>(i)];
    const std::string file = clip_name(i) + ".wav";
    for (std::size_t c = 0; c < cs.size(); ++c) {
      if (!l.weak.known[c]) continue;
      weak_csv += fmt::format("{},{},{}\n", file, cs[c].name, l.weak.relevance[c] > 0.5f ? 1 : 0);
      if (l.weak.relevance[c] > 0.5f) {
        ++summary.clips_per_class[c];
        ++summary.pairs;
        if (active_fraction(l.strong, static_cast<int>(c), l.duration_s) < 0.9)
          ++summary.partial_pairs;
      }
    }
    for (const auto& s : l.strong)
      strong_csv +=
          fmt::format("{},{},{},{}\n", file, cs[static_cast<std::size_t>(s.class_index)].name,
                      fmt_time(s.onset_s), fmt_time(s.offset_s));
    for (int k = 0; k < l.instances.num_instances; ++k)
      for (int c = 0; c < l.instances.num_classes; ++c)
        if (l.instances.at(k, c))
          inst_csv +=
              fmt::format("{},{},{},{},{}\n", file, k, fmt_time(k * cfg.hop_s),
                          fmt_time((k + 1) * cfg.hop_s), cs[static_cast<std::size_t>(c)].name);
  }
  auto write_text = [&](const char* name, const std::string& text) {
    std::ofstream f(tmp.path() / name, std::ios::binary);
    f << text;
    f.close();
    check(static_cast<bool>(f), "synth: cannot write {}", (tmp.path() / name).string());
  };
  write_text("labels.csv", weak_csv);
  write_text("strong.csv", strong_csv);
  write_text("instances.csv", inst_csv);
  if (cfg.randomized()) {
    std::string clips_csv = std::string(kClipsCsvHeader) + "\n";
    for (const auto& l : labels) clips_csv += l.record;
    write_text("clips.csv", clips_csv);
  }

  summary.out_dir = target;
  summary.n_clips = n;
  summary.audio_s = 0;
  for (const auto& l : labels) summary.audio_s += l.duration_s;
  core::Json meta;
  meta["tutti_version"] = TUTTI_VERSION;
  meta["config"] = to_json(cfg);
  meta["soundfont"] = summary.soundfont.to_json();
  meta["summary"] = {{"n_clips", n},
                     {"pairs", summary.pairs},
                     {"partial_pairs", summary.partial_pairs},
                     {"clips_per_class", summary.clips_per_class}};
  meta["files"] = {{"audio", "audio/<file>"},
                   {"labels", "labels.csv"},
                   {"strong", "strong.csv"},
                   {"instances", "instances.csv"}};
  if (cfg.randomized()) {
    core::Json pool = core::Json::array();
    for (const auto& r : summary.soundfonts) pool.push_back(r.to_json());
    meta["soundfonts"] = pool;
    meta["files"]["clips"] = "clips.csv";
    meta["summary"]["skipped_files"] = summary.skipped_files;
  }
  write_text("synth.json", meta.dump(2) + "\n");

  tmp.publish(overwrite);  // replaces an old folder only now
  summary.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return summary;
}

}  // namespace tutti::synth
