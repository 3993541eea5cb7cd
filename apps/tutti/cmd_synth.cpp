// `tutti synth`: strongly labeled multi-instrument clips rendered with FluidSynth (docs/synth.md).
#include <fmt/format.h>

#include <cstdio>
#include <filesystem>

#include "command.h"
#include "outputs.h"
#include "tutti/core/progress.h"
#include "tutti/pipelines/synth_dataset.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/instruments.h"
#include "tutti/synth/noise_dataset.h"

namespace tutti::cli {
namespace {

void setup(CLI::App& root) {
  struct Opts {
    synth::SynthConfig cfg;
    std::string out, noise = "white", format = "pcm16", embed;
    std::vector<std::string> fonts;
    double snr = 0;
    bool no_reverb = false, overwrite = false, noise_only = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "synth", "Compose and render labeled multi-instrument clips (General MIDI, FluidSynth)");
  auto& c = o->cfg;
  cmd->add_option("-n,--clips", c.n_clips, "Number of clips")->capture_default_str();
  cmd->add_option("--seed", c.seed, "Random seed")->capture_default_str();
  cmd->add_option("-o,--output", o->out, "Output folder (audio/, labels.csv, strong.csv)")
      ->required();
  cmd->add_option("--soundfont", o->fonts,
                  "Soundfont (.sf2/.sf3); repeat it or name a folder for a pool each clip draws "
                  "from (default " +
                      c.soundfont + ")");
  cmd->add_flag("--effects", c.effects,
                "Random per-clip effects: room, EQ tilt, compressor, width, detune, tempo, part "
                "levels, output level, noise (recorded in clips.csv)");
  cmd->add_flag("--test-font-ok", c.test_font_ok,
                "Allow FluidR3 soundfonts: this is a test set (they are refused for training)");
  cmd->add_option("--midi", c.midi,
                  "Render these Standard MIDI Files (files or folders) instead of composing; "
                  "labels from their programs and notes");
  cmd->add_flag("--midi-split", c.midi_split,
                "With --midi: cut each file into consecutive clips of --duration (else one clip "
                "from its start)");
  cmd->add_option("--generator", c.generator,
                  "Name recorded in clips.csv for where the arrangements came from (default: "
                  "composer, or midi with --midi)");
  cmd->add_option("--duration", c.duration_s, "Clip length in seconds")->capture_default_str();
  cmd->add_option("--sample-rate", c.sample_rate_hz, "Output sample rate (Hz)")
      ->capture_default_str();
  cmd->add_option("--channels", c.channels, "1 or 2")->capture_default_str();
  cmd->add_option("--format", o->format, "WAV samples: pcm16 or float")->capture_default_str();
  cmd->add_option("--instruments", c.instruments_per_clip,
                  "Relative weights of 1, 2, ... instruments per clip")
      ->capture_default_str();
  cmd->add_option("--classes", c.classes, "Only these instrument classes");
  cmd->add_option("--partial-probability", c.partial_probability,
                  "Chance that an instrument plays only part of the clip")
      ->capture_default_str();
  cmd->add_option("--any-role", c.any_role_probability,
                  "Chance that a composed instrument plays any role (bass, chords, arpeggio, "
                  "melody), not only its own")
      ->capture_default_str();
  cmd->add_option("--rhythm-section", c.rhythm_section_probability,
                  "Chance that drums, cymbals and bass join a composed clip's instruments")
      ->capture_default_str();
  cmd->add_option("--any-instrument", c.any_instrument_probability,
                  "MIDI files: chance that a melodic part is played by a random instrument class "
                  "of the soundfont (keys moved by octaves into its range)")
      ->capture_default_str();
  cmd->add_option("--drop-parts", c.drop_part_probability,
                  "MIDI files: chance that a part (drums too) is left out of a clip; one part "
                  "always stays")
      ->capture_default_str();
  cmd->add_option("--timbre", c.timbre_probability,
                  "Chance that a melodic part's sound is changed (envelope, low-pass filter, "
                  "vibrato: SoundFont generator offsets drawn per clip)")
      ->capture_default_str();
  auto* snr = cmd->add_option("--snr", o->snr, "Add background noise at this SNR (dB)");
  cmd->add_option("--noise", o->noise, "Noise colour: white or pink")->capture_default_str();
  cmd->add_option("--instance-fraction", c.instance_fraction,
                  "An instrument is active in a 0.96 s instance when it sounds for this fraction")
      ->capture_default_str();
  cmd->add_flag("--no-reverb", o->no_reverb, "Render without FluidSynth's reverb");
  cmd->add_option("--threads", c.threads, "Worker threads (0: all cores)")->capture_default_str();
  cmd->add_flag("--overwrite", o->overwrite, "Replace an existing output folder");
  cmd->add_option("--embed", o->embed,
                  "Also embed the clips (logmel-stats, vggish, or a .tutti-embedder file) into "
                  "DIR/dataset.npz with weak "
                  "labels and Y_instance");
  cmd->add_flag("--noise-only", o->noise_only,
                "Render background noise only (--noise colour, every label known absent)");
  cmd->callback([o, snr] {
    auto& cfg = o->cfg;
    // One soundfont file keeps the original single-font behaviour; several or a folder: a pool.
    std::error_code ec;
    if (o->fonts.size() == 1 && !std::filesystem::is_directory(o->fonts[0], ec))
      cfg.soundfont = o->fonts[0];
    else
      cfg.soundfonts = o->fonts;
    std::vector<NamedPath> inputs = {{"--soundfont", cfg.soundfont}};
    for (const auto& f : cfg.soundfonts) inputs.push_back({"--soundfont", f});
    for (const auto& f : cfg.midi) inputs.push_back({"--midi", f});
    check_output_folder("synth", inputs, {"-o", o->out}, o->overwrite);
    cfg.reverb = !o->no_reverb;
    if (snr->count() > 0) cfg.noise_snr_db = o->snr;
    cfg.noise_color = synth::parse_noise_color(o->noise);
    cfg.sample_format = synth::parse_sample_format(o->format);
    cfg.validate();
    core::Progress bar(o->noise_only ? "noise" : "synth", cfg.n_clips);
    std::unique_ptr<core::Progress> ebar;
    synth::SynthSummary s;
    pipelines::SynthEmbedSummary es;
    if (!o->embed.empty()) {
      pipelines::SynthEmbedOptions eo;
      eo.embedder = o->embed;
      eo.threads = cfg.threads;
      eo.noise_only = o->noise_only;
      es = pipelines::write_embedded_synth_dataset(
          cfg, o->out, eo, o->overwrite, [&bar](int) { bar.advance(); },
          [&](std::size_t, std::size_t total) {
            if (!ebar) {
              bar.finish();
              ebar = std::make_unique<core::Progress>("embed " + o->embed,
                                                      static_cast<std::int64_t>(total));
            }
            ebar->advance();
          });
      if (ebar) ebar->finish();
      s = es.synth;
    } else if (o->noise_only) {
      s = synth::write_noise_dataset(cfg, o->out, o->overwrite, [&bar](int) { bar.advance(); });
    } else {
      s = synth::write_synth_dataset(cfg, o->out, o->overwrite, [&bar](int) { bar.advance(); });
    }
    bar.finish();
    for (const auto& r : s.soundfonts.empty() ? std::vector{s.soundfont} : s.soundfonts)
      for (const auto& p : r.problems()) std::fprintf(stderr, "synth: %s\n", p.c_str());
    for (const auto& w : s.warnings) std::fprintf(stderr, "synth: %s\n", w.c_str());
    if (s.skipped_files > 0)
      std::fprintf(stderr, "synth: skipped %d of %d MIDI files\n", s.skipped_files,
                   s.skipped_files + s.n_clips);
    std::printf("%d clips, %.0f s of audio in %.1f s -> %s\n", s.n_clips, s.audio_s, s.wall_s,
                s.out_dir.c_str());
    std::printf("instrument-clip pairs: %lld, active for only part of the clip: %lld (%.0f%%)\n",
                static_cast<long long>(s.pairs), static_cast<long long>(s.partial_pairs),
                s.pairs ? 100.0 * static_cast<double>(s.partial_pairs) / s.pairs : 0.0);
    if (!o->embed.empty()) {
      std::printf(
          "dataset.npz: %lld clips x %lld instances (%s), %lld active (instance, class) "
          "cells\n",
          static_cast<long long>(es.clips), static_cast<long long>(es.max_instances),
          o->embed.c_str(), static_cast<long long>(es.active_instance_cells));
      for (const auto& w : es.warnings) std::fprintf(stderr, "synth: %s\n", w.c_str());
    }
    const auto& classes = synth::instrument_classes();
    for (std::size_t k = 0; k < classes.size() && k < s.clips_per_class.size(); ++k)
      std::printf("  %-18s %d clips%s\n", classes[k].name.c_str(), s.clips_per_class[k],
                  classes[k].synthesizable || s.clips_per_class[k] > 0
                      ? ""
                      : "  (no General MIDI program: unknown)");
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("synth", 20, tutti::cli::setup);
