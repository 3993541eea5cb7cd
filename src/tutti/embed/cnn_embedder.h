// The learned embedder "logmel-cnn": a small log-mel CNN trained by `tutti train-embedder` on
// synthesized clips (docs/embed.md, "## Learned embedders"). Torch-free header; the network is in
// cnn_net.h.
//
//   auto emb = tutti::embed::make_embedder("models/synth.tutti-embedder");  // any embedder file
//   std::vector<std::uint8_t> f = emb->embed(examples, n);    // [n, 96, 64] log-mel -> [n, 128]
//   emb->info().name;    // "logmel-cnn:<id>": the id ties bag models to these exact weights
//
// Network ([n, 96, 64] -> [n, dim]): average pooling over `time_pool` frames (96 -> 48 at the
// default 2), then one block per entry of `channels` (3x3 convolution without bias, batch norm,
// ReLU, 2x2 max pooling), then mean and max over the remaining time-frequency cells concatenated
// ([n, 2 * channels.back()]), a linear layer to `dim` and a sigmoid. The sigmoid's [0, 1] output
// is what a bag model sees: features are round(255 * value) as uint8, scaled back by 1/255 like
// every embedder's.
//
// File (.tutti-embedder, a zip written atomically):
//   meta.json  {"format": "tutti-embedder", "version": 1, "name": "logmel-cnn",
//               "kind_version": 1, "id": <16 hex digits of the SHA-256 of cnn.pt>, "dim": 128,
//               "config": CnnConfig, "classes": [...], "training": {...}, "tutti_version": ...}
//   cnn.pt     torch::save archive of the network with its frame and clip heads.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/embed/embedder.h"

namespace tutti::embed {

inline constexpr std::string_view kCnnEmbedderName = "logmel-cnn";
// Version of the network layout inside the file.
inline constexpr int kCnnEmbedderVersion = 1;
// A logmel-cnn file is a zip container, which the format calls version 1 (VGGish's raw-tensor
// layout is version 2, vggish_import.h).
inline constexpr int kZipEmbedderFormatVersion = 1;

struct CnnConfig {
  std::vector<std::int64_t> channels = {16, 32, 64, 128};  // one conv block each, 1..6 blocks
  std::int64_t time_pool = 2;  // input frames averaged before the first block: 1, 2 or 4
  std::int64_t dim = 128;      // embedding size, 1..1024
  // UsageError "cnn embedder: <field> = <value>: <why>" (also when 96 x 64 pooled by the blocks
  // would leave no cell).
  void validate() const;
  core::Json to_json() const;
  static CnnConfig from_json(const core::Json& j);  // missing keys keep defaults
};

// What a .tutti-embedder file says about itself (meta.json), read without loading weights.
struct EmbedderFileMeta {
  std::string name;  // "vggish", "logmel-cnn"
  core::Json json;   // the whole meta.json
};
// Either layout: a version 1 zip with a meta.json, or VGGish's version 2 raw-tensor file.
// Throws tutti::Error "embedder: <file>: <problem>" for a missing file, a file of neither layout
// with a meta.json of format "tutti-embedder", or a version that does not fit its layout.
EmbedderFileMeta read_embedder_meta(const std::filesystem::path& file);

// True when `name` names an embedder file rather than a built-in embedder (ends in
// ".tutti-embedder" or contains a path separator).
bool is_embedder_file_name(const std::string& name);

// Loads a logmel-cnn file. Errors name the file: wrong kind ("holds embedder 'vggish'"), a
// kind_version other than kCnnEmbedderVersion, a bad config, weights that do not load or do not
// match the config, an id that does not match the weights (a corrupt or edited file).
std::unique_ptr<Embedder> load_cnn_embedder(const std::filesystem::path& file, int threads,
                                            int parallel = 1);

}  // namespace tutti::embed
