// The logmel-cnn network in LibTorch (layout: cnn_embedder.h) with the two training heads, and
// its .tutti-embedder file. Included by the embedder and by its trainer (train/).
//
//   tutti::embed::CnnNet net(config, n_classes);
//   auto e = net->embed(x);                    // [n, 96, 64] -> [n, dim] in [0, 1]
//   auto frame_logits = net->frame_head(e);    // [n, C]
//   auto clip_logits = net->clip_head(std::get<0>(e_of_clip.max(0)));  // pooled frames -> [C]
//
// Parameter names (PyTorch's for the same module tree,
// tools/fixtures/make_cnn_embedder_fixture.py): blocks.<b>.0.weight (conv),
// blocks.<b>.1.{weight,bias,running_mean,running_var} (batch norm), embedding.{weight,bias},
// frame_head.{weight,bias}, clip_head.{weight,bias}.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/embed/cnn_embedder.h"

namespace tutti::embed {

struct CnnNetImpl : torch::nn::Module {
  CnnNetImpl(const CnnConfig& config, std::int64_t n_classes);
  // [n, 96, 64] or [n, 1, 96, 64] log-mel -> [n, dim] embeddings in [0, 1].
  torch::Tensor embed(torch::Tensor x);

  CnnConfig config;
  torch::nn::ModuleList blocks{nullptr};  // each a Sequential: conv, batch norm, ReLU, pool
  torch::nn::Linear embedding{nullptr};
  torch::nn::Linear frame_head{nullptr};  // [n, dim] -> [n, C] per-frame logits (strong labels)
  torch::nn::Linear clip_head{nullptr};   // [B, dim] max over a clip's frames -> [B, C] (weak)
};
TORCH_MODULE(CnnNet);

// The network's parameters and buffers serialized (torch::save archive bytes).
std::string cnn_net_bytes(CnnNet& net);
// 16 hex digits of the SHA-256 of those bytes: the embedder's identity.
std::string cnn_net_id(const std::string& bytes);

// Writes the .tutti-embedder file atomically. `training`: what made it (data, options, loss).
// Returns the embedder's id (cnn_net_id), as written to meta.json.
std::string write_cnn_embedder_file(const std::filesystem::path& file, CnnNet& net,
                                    const std::vector<std::string>& classes,
                                    const core::Json& training);

struct LoadedCnn {
  CnnNet net{nullptr};  // in eval mode
  std::vector<std::string> classes;
  std::string id;
  core::Json meta;
};
LoadedCnn load_cnn_file(const std::filesystem::path& file);

}  // namespace tutti::embed
