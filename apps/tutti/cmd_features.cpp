// `tutti features`: the VGGish input examples of one audio file, for checking a pipeline against
// the reference (vggish_input.wavfile_to_examples): float32 [n, 96, 64] .npy.
#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/data/npz.h"
#include "tutti/features/file_examples.h"

namespace tutti::cli {
namespace {

void setup(CLI::App& root) {
  struct Opts {
    std::string audio, out;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "features", "VGGish log-mel input examples (n x 96 x 64, float32 .npy) of an audio file");
  cmd->add_option("AUDIO", o->audio, "Audio file (WAV, FLAC, Ogg, MP3, M4A, ...)")->required();
  cmd->add_option("-o,--output", o->out, "Output .npy")->required();
  cmd->callback([o] {
    check_outputs_differ("features", {{"AUDIO", o->audio}}, {{"-o", o->out}});
    features::LogMelConfig cfg;
    const auto ex = features::vggish_examples_from_file(o->audio, cfg);
    check(ex.count > 0, "{}: {:.2f} s of audio is shorter than one 0.96 s example", o->audio,
          ex.duration_s());
    data::write_npy(o->out, data::NpyArray::from_f32({static_cast<std::int64_t>(ex.count),
                                                      cfg.example_frames, cfg.num_mel_bins},
                                                     ex.values));
    std::fprintf(stderr, "%s: %.2f s -> %zu examples -> %s\n", o->audio.c_str(), ex.duration_s(),
                 ex.count, o->out.c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("features", 40, tutti::cli::setup);
