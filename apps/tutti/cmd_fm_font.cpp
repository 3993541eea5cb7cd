// `tutti fm-font BANKS... -o FONT.sf2`: a General MIDI soundfont of DX7 FM voices played through
// hexter (docs/synth.md, "An FM soundfont: `tutti fm-font`").
#include <fmt/format.h>

#include <cstdio>
#include <map>

#include "command.h"
#include "outputs.h"
#include "tutti/synth/fm_font.h"
#include "tutti/synth/instruments.h"

namespace tutti::cli {
namespace {

void setup(CLI::App& root) {
  struct Opts {
    std::string out;
    synth::FmFontConfig cfg;
  };
  auto o = std::make_shared<Opts>();
  auto& c = o->cfg;
  auto* cmd = root.add_subcommand(
      "fm-font", "Build a General MIDI soundfont (.sf2) of DX7 FM voices played through hexter");
  cmd->add_option("BANKS", c.banks,
                  "DX7 voice banks (.dx7: packed voices or a 32-voice bulk dump), e.g. "
                  "/usr/share/hexter/*.dx7")
      ->required();
  cmd->add_option("-o,--output", o->out, "Soundfont to write (.sf2)")->required();
  cmd->add_option("--plugin", c.plugin, "hexter's DSSI plugin")->capture_default_str();
  cmd->add_option("--sample-rate", c.sample_rate_hz, "Sample rate of the samples (Hz)")
      ->capture_default_str();
  cmd->add_option("--hold", c.hold_s, "Seconds each sampled note is held")->capture_default_str();
  cmd->add_option("--release", c.release_s, "Seconds of release recorded after it")
      ->capture_default_str();
  cmd->add_option("--key-step", c.key_step, "One sample every N keys (24-108)")
      ->capture_default_str();
  cmd->add_option("--velocity", c.velocity, "Velocity of the sampled notes")->capture_default_str();
  cmd->add_option("--name", c.name, "The soundfont's name")->capture_default_str();
  cmd->callback([o] {
    std::vector<NamedPath> inputs;
    for (const auto& b : o->cfg.banks) inputs.push_back({"BANKS", b});
    check_outputs_differ("fm-font", inputs, {{"-o", o->out}});
    const auto s = synth::build_fm_font(o->cfg, o->out);
    std::map<std::string, int> per_class;
    for (const auto& [program, voice] : s.presets) {
      const int c = synth::class_of_gm_program(program);
      if (c >= 0) ++per_class[synth::instrument_classes()[static_cast<std::size_t>(c)].name];
    }
    std::string classes;
    for (const auto& [name, n] : per_class) classes += fmt::format(" {}:{}", name, n);
    std::fprintf(stderr, "fm-font: %d voices read, %d used: %zu presets, %d samples -> %s\n",
                 s.voices_read, s.voices_used, s.presets.size(), s.samples, o->out.c_str());
    std::fprintf(stderr, "fm-font: presets per class:%s\n", classes.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("fm-font", 21, tutti::cli::setup);
