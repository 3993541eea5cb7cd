// Embedders: VGGish log-mel examples -> one 128-d uint8 feature vector per 0.96 s example, the
// form in which OpenMIC-2018 and AudioSet ship their features. Torch-free interface; the VGGish
// network behind it (vggish.h) uses LibTorch.
//
//   auto emb = tutti::embed::make_embedder("logmel-stats");          // no weights needed
//   auto vgg = tutti::embed::make_embedder("vggish");                // the imported weights
//   std::vector<std::uint8_t> f = emb->embed(examples, n);           // [n, 96, 64] -> [n, 128]
//
// A path to a .tutti-embedder file is accepted as a name too (load_embedder_file): the learned
// "logmel-cnn" embedders of `tutti train-embedder` (cnn_embedder.h) or VGGish weights.
// Names: "logmel-stats" (features/logmel_stats.h), "vggish" (the network + PCA + uint8
// post-processing of the 2018 release; weights from `tutti models import-vggish`, looked up as
// EmbedderOptions::vggish_file, else $TUTTI_VGGISH, else
// $XDG_DATA_HOME/tutti/vggish.tutti-embedder (~/.local/share/... when XDG_DATA_HOME is unset)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tutti::embed {

struct EmbedderInfo {
  std::string name;        // "vggish", "logmel-stats": recorded in datasets and model files
  std::int64_t dim = 128;  // values per example
  std::string source;      // weights file, or "" for weight-free embedders
};

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual const EmbedderInfo& info() const = 0;
  // examples [n, 96, 64] float log-mel (features::LogMelConfig defaults) -> [n, dim] uint8.
  // Thread-safe: several threads may call it at once on one embedder.
  virtual std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const = 0;
};

struct EmbedderOptions {
  std::filesystem::path vggish_file;  // empty: $TUTTI_VGGISH, then the default location
  int threads = 1;                    // intra-op threads of a network embedder (0 = all cores)
  // A network embedder splits the examples of each call over this many threads (each slice on
  // `threads` intra-op threads): how one long file keeps every core busy. 1 = no split.
  int parallel = 1;
};

// The registered names, in documentation order.
std::vector<std::string> embedder_names();

// Throws tutti::UsageError for an unknown name (listing the known ones) and tutti::Error when the
// VGGish weights are missing or unreadable (the message says where to get and how to import them).
std::unique_ptr<Embedder> make_embedder(const std::string& name,
                                        const EmbedderOptions& options = {});

// An embedder file by the kind its meta.json names ("vggish", "logmel-cnn"). make_embedder takes
// this path for any name that is_embedder_file_name (cnn_embedder.h). Errors name the file.
std::unique_ptr<Embedder> load_embedder_file(const std::filesystem::path& file,
                                             const EmbedderOptions& options = {});

// Where "vggish" looks for its weights when EmbedderOptions::vggish_file is empty.
std::filesystem::path default_vggish_file();

// Implemented in vggish_embedder.cpp (LibTorch): loads a .tutti-embedder file written by
// `tutti models import-vggish`.
std::unique_ptr<Embedder> load_vggish_embedder(const std::filesystem::path& file, int threads,
                                               int parallel = 1);

}  // namespace tutti::embed
