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
  check<UsageError>(synth.sample_rate_hz() == cfg.sample_rate_hz,
                    "synth: synthesizer runs at {} Hz, config asks for {} Hz",
                    synth.sample_rate_hz(), cfg.sample_rate_hz);
  SynthClip clip;
  clip.name = clip_name(clip_index);
  clip.channels = cfg.channels;
  clip.score = compose(composer_options(cfg), palette, clip_seed(cfg.seed, clip_index, 0));
  const auto stereo = synth.render(clip.score);
  clip.audio = to_channels(stereo, cfg.channels);
  normalize_peak(clip.audio, std::pow(10.0, clip.score.peak_dbfs / 20.0));
  if (cfg.noise_snr_db) {
    add_noise(clip.audio, cfg.channels, *cfg.noise_snr_db, cfg.noise_color,
              clip_seed(cfg.seed, clip_index, 1));
    // Noise peaks may clip: scale signal and noise together, which keeps the SNR.
    const double peak = peak_abs(clip.audio);
    if (peak > 0.999) normalize_peak(clip.audio, 0.999);
  }
  clip.strong = strong_labels(clip.score, cfg.release_s, cfg.merge_gap_s);
  clip.weak = weak_labels(clip.strong, palette.playable());
  clip.instances =
      instance_truth(clip.strong, num_instrument_classes(),
                     num_instances(cfg.duration_s, cfg.hop_s), cfg.hop_s, cfg.instance_fraction);
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

SynthSummary write_synth_dataset(const SynthConfig& cfg, const fs::path& out_dir, bool overwrite,
                                 const std::function<void(int)>& on_clip_done) {
  const auto t_start = std::chrono::steady_clock::now();
  cfg.validate();
  check<UsageError>(!out_dir.empty(), "synth: output folder path is empty");
  std::error_code ec;
  check<UsageError>(overwrite || !fs::exists(out_dir, ec), "synth: output folder {} already exists",
                    out_dir.string());
  const fs::path target = fs::absolute(out_dir);

  // The anchor synthesizer checks the font and keeps its samples in FluidSynth's cache while the
  // workers load it again (an .sf3 font is decoded only once).
  FluidSynthesizer anchor(cfg.soundfont, cfg.sample_rate_hz, cfg.reverb);
  SynthSummary summary;
  summary.soundfont = anchor.check();
  const Palette palette = summary.soundfont.palette();
  const auto playable = palette.playable();
  const auto opts = composer_options(cfg);
  int n_playable = 0;
  if (opts.classes.empty()) {
    for (auto p : playable) n_playable += p;
  } else {
    for (int c : opts.classes) n_playable += playable[static_cast<std::size_t>(c)];
  }
  check<UsageError>(n_playable >= cfg.max_instruments(),
                    "synth: soundfont {} can play {} of the requested classes, but "
                    "instruments_per_clip allows up to {} per clip",
                    cfg.soundfont, n_playable, cfg.max_instruments());

  core::StagingDir tmp(target);
  fs::create_directories(tmp.path() / "audio");

  const int n = cfg.n_clips;
  const int groups = (n + cfg.clips_per_synth - 1) / cfg.clips_per_synth;

  struct ClipLabels {
    std::vector<StrongLabel> strong;
    WeakLabels weak;
    InstanceTruth instances;
  };
  std::vector<ClipLabels> labels(static_cast<std::size_t>(n));
  std::atomic<int> done{0};
  // One synthesizer per group of clips (loading the soundfont is the slow part).
  core::parallel_for(static_cast<std::size_t>(groups), cfg.threads, [&](std::size_t g) {
    FluidSynthesizer synth(cfg.soundfont, cfg.sample_rate_hz, cfg.reverb);
    const int first = static_cast<int>(g) * cfg.clips_per_synth;
    const int last = std::min(n, first + cfg.clips_per_synth);
    for (int i = first; i < last; ++i) {
      auto clip = synthesize_clip(synth, cfg, palette, i);
      write_wav(tmp.path() / "audio" / (clip.name + ".wav"), clip.audio, cfg.channels,
                cfg.sample_rate_hz, cfg.sample_format);
      labels[static_cast<std::size_t>(i)] = {std::move(clip.strong), std::move(clip.weak),
                                             std::move(clip.instances)};
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
        if (active_fraction(l.strong, static_cast<int>(c), cfg.duration_s) < 0.9)
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

  summary.out_dir = target;
  summary.n_clips = n;
  summary.audio_s = n * cfg.duration_s;
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
  write_text("synth.json", meta.dump(2) + "\n");

  tmp.publish(overwrite);  // replaces an old folder only now
  summary.wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return summary;
}

}  // namespace tutti::synth
