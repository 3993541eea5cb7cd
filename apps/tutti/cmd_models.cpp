// `tutti models import-vggish`: convert the released VGGish weights (torchvggish .pth state dicts,
// or the TensorFlow release's PCA .npz) once into a .tutti-embedder file.
#include <cstdio>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/embed/embedder.h"
#include "tutti/embed/vggish_import.h"

namespace tutti::cli {
namespace {

void setup(CLI::App& root) {
  auto* models = root.add_subcommand("models", "Pretrained models tutti uses (VGGish import)");
  models->require_subcommand(1);

  auto o = std::make_shared<embed::VggishImportOptions>();
  auto out = std::make_shared<std::string>();
  auto* imp = models->add_subcommand(
      "import-vggish",
      "Convert the VGGish weights (torchvggish vggish-10086976.pth + vggish_pca_params-970ea276.pth "
      "or the release's vggish_pca_params.npz) into a .tutti-embedder file");
  imp->add_option("--weights", o->weights, "VGGish state dict (.pth, torchvggish keys)")
      ->required();
  imp->add_option("--pca", o->pca,
                  "PCA parameters: torchvggish .pth, or the release's vggish_pca_params.npz "
                  "(checked by sha256)")
      ->required();
  imp->add_option("-o,--output", *out,
                  "Output file (default: $TUTTI_VGGISH, else "
                  "$XDG_DATA_HOME/tutti/vggish.tutti-embedder, where `--embedder vggish` looks)");
  imp->callback([o, out] {
    o->output = out->empty() ? embed::default_vggish_file() : std::filesystem::path(*out);
    if (o->output.has_parent_path()) std::filesystem::create_directories(o->output.parent_path());
    const auto meta = embed::import_vggish(*o);
    std::fprintf(stderr, "vggish: %s + %s -> %s (weights sha256 %s)\n", o->weights.c_str(),
                 o->pca.c_str(), o->output.c_str(),
                 meta["sources"]["weights"]["sha256"].get<std::string>().c_str());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("models", 45, tutti::cli::setup);
