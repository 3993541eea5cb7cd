// `tutti models list`: the declared models and their options. `tutti models import-vggish`: convert
// the released VGGish weights (torchvggish .pth state dicts, or the TensorFlow release's PCA .npz)
// once into a .tutti-embedder file.
#include <cstdio>

#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/embed/embedder.h"
#include "tutti/embed/vggish_import.h"
#include "tutti/models/model_decl.h"

namespace tutti::cli {
namespace {

const char* engine_name(models::Engine e) {
  switch (e) {
    case models::Engine::kAutograd:
      return "autograd";
    case models::Engine::kFusedStep:
      return "fused (whole step)";
    case models::Engine::kFusedOps:
      return "fused (ops)";
  }
  return "?";
}

void print_model_list() {
  for (const auto& d : models::model_decls()) {
    std::printf("%s: %s\n", d.name.c_str(), d.summary.c_str());
    if (d.neural()) {
      std::string engines;
      for (auto e : d.engines)
        engines += (engines.empty() ? "" : ", ") + std::string(engine_name(e));
      std::printf("  training: %d epochs, lr %g; engines: %s%s%s\n", d.epochs, d.learning_rate,
                  engines.c_str(), d.fixed_length ? "; fixed-length bags" : "",
                  d.instance_outputs ? "; per-instance outputs" : "");
    }
    for (const auto& o : d.options)
      std::printf("  --option %-22s %s (%s)\n", (o.key + "=").c_str(), o.help.c_str(),
                  o.describe().c_str());
  }
  for (const auto& a : models::model_aliases())
    std::printf("%s: %s (= %s with %s)\n", a.name.c_str(), a.summary.c_str(), a.model.c_str(),
                a.options.dump().c_str());
}

void setup(CLI::App& root) {
  auto* models = root.add_subcommand(
      "models", "The models tutti trains (list) and the pretrained ones it uses (VGGish import)");
  models->require_subcommand(1);

  models
      ->add_subcommand("list",
                       "The models `tutti train` builds: summary, training defaults, engines "
                       "and options with default, range and help (from their declarations)")
      ->callback(print_model_list);

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
    check_outputs_differ("models import-vggish", {{"--weights", o->weights}, {"--pca", o->pca}},
                         {{"-o", o->output.string()}});
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
