// MMGAT: multi-instance multi-scale graph attention with label semantic embeddings (after Zhang et
// al., "Multi-Instance Multi-Scale Graph Attention Neural Net with Label Semantic Embeddings for
// Instrument Recognition"). Definition, shapes, options and every choice the paper leaves open:
// docs/models.md, "MMGAT".
//
// Per clip: an instance correlation graph over its real instances (cosine or EMD similarity,
// top-k or threshold sparsification, self-loops), 3 multi-scale graph attention layers (scale s =
// neighbours within s hops), class-specific attention pooling with queries from label semantic
// embeddings, per-class classifiers, and a masked label autoencoder that refines the logits.
// Training adds (extra_loss) an auxiliary onset-type task, the autoencoder's reconstruction loss
// and two center losses. The ablations are options (model_decl.h): scales = 1 ("mmgat-single"),
// use_aux = false ("mmgat-principal"), use_labels = false ("mmgat-graph": no label embeddings,
// no autoencoder).
#pragma once

#include <string>
#include <vector>

#include "tutti/models/bag_model.h"

namespace tutti::models {

// How the instance correlation graph is built (see build_instance_graph). The defaults are the
// mmgat declaration's (model_decl.cpp; a test keeps them equal), for callers of the graph alone.
struct GraphOptions {
  std::string similarity = "cosine";  // cosine | emd
  std::string sparsify = "topk";      // topk | threshold
  std::int64_t top_k = 2;             // neighbours kept per node (then symmetrized)
  double threshold = 0.75;            // edge kept when its weight >= threshold
  double center = 0.5;                // cosine: similarity of (x - center) (VGGish uint8 midpoint)
  double emd_sigma = 1.0;             // emd: weight = exp(-EMD / sigma)
  std::int64_t scales = 3;            // adjacency for 1..scales hops
};

// Every field comes from spec.options through the mmgat declaration (model_decl.cpp: defaults,
// ranges, help).
struct MmgatOptions {
  GraphOptions graph;
  std::int64_t hidden = 0;      // H
  std::int64_t num_layers = 0;  // graph attention layers
  double dropout = 0;           // on each layer's update and on the input projection
  std::string scale_fusion;     // per-node scale scores u . out_s (+ b_s) | u . tanh(out_s)
  // Label semantic embeddings (queries of the class-specific pooling).
  bool use_labels = false;       // false: class queries are free parameters, no autoencoder
  std::string label_embeddings;  // ppmi | learned | <file.npy|file.csv> (train time)
  std::int64_t label_dim = 0;    // d of learned / PPMI embeddings (PPMI: <= C)
  std::vector<std::vector<double>> label_embedding_matrix;  // C x d, filled by the trainer
  // Masked label autoencoder.
  std::int64_t ae_hidden = 0;
  std::int64_t ae_latent = 0;
  double ae_mask = 0;  // fraction of known labels hidden from the autoencoder in training
  // Auxiliary onset-type task.
  bool aux_task = false;  // the use_aux option as given
  bool use_aux = false;   // aux_task and some class has an onset group (else nothing to predict)
  std::string onset_table;                // recorded (the trainer resolves it to onset_groups)
  std::vector<std::int64_t> onset_groups; // per class: group index, -1 = none (no aux target)
  // Loss weights and center-loss rate (defaults measured on AudioSet: docs/models.md).
  double lambda_aux = 0;
  double lambda_ae = 0;
  double lambda_c1 = 0;
  double lambda_c2 = 0;
  double center_alpha = 0;

  std::int64_t num_groups() const;  // 1 + max(onset_groups), 0 when none
  // Reads spec.options (an alias name such as "mmgat-single" is resolved first); unknown keys
  // -> UsageError.
  static MmgatOptions from_spec(const ModelSpec& spec);
};

struct InstanceGraph {
  torch::Tensor weight;     // [B,K,K] edge weights in [0, 1]; 1 on the diagonal
  torch::Tensor adjacency;  // [B,S,K,K] bool: j within s+1 hops of i; self-loops everywhere
                            // (padded nodes: only their self-loop); no edge touches padding
};

// Pairwise similarity weights [B,K,K] of the instances x [B,K,D] (cosine: (1 + cos) / 2 of the
// centered vectors; emd: exp(-EMD / sigma)); values between padded entries are meaningless.
torch::Tensor pairwise_weights(const torch::Tensor& x, const GraphOptions& o);
// The sparsified graph and its multi-hop neighbourhoods. x [B,K,D] (padding may hold anything),
// mask [B,K] bool.
InstanceGraph build_instance_graph(const torch::Tensor& x, const torch::Tensor& mask,
                                   const GraphOptions& o);
// The same for float32 CPU tensors as one parallel loop over the clips (mmgat_graph.cpp), which
// build_instance_graph uses for them; top-k ties go to the lower index.
InstanceGraph build_instance_graph_cpu(const torch::Tensor& x, const torch::Tensor& mask,
                                       const GraphOptions& o);

// One multi-scale graph attention layer: per scale GAT attention over that scale's neighbourhood
// (shared projection, per-scale attention vectors, log edge weight added to the score), scales
// fused with per-node softmax weights, then h' = LayerNorm(h + dropout(ELU(fused))).
// fusion "linear" scores scale s of node i by u . out_s,i + b_s; then the fused output is one
// product with the beta-weighted sum of the scales' attention matrices, and no per-scale [K,H]
// output is ever formed. "tanh" scores by u . tanh(out_s,i) + b_s (HAN style) and needs them.
class MultiScaleGatLayerImpl : public torch::nn::Module {
 public:
  MultiScaleGatLayerImpl(std::int64_t hidden, std::int64_t scales, double dropout,
                         std::string fusion = "linear");
  // h [B,K,H], adjacency [B,S,K,K] bool, log_w [B,K,K] -> [B,K,H]
  torch::Tensor forward(const torch::Tensor& h, const torch::Tensor& adjacency,
                        const torch::Tensor& log_w);

  torch::nn::Linear proj{nullptr};
  torch::Tensor att_src, att_dst;  // [S,H]
  torch::Tensor fuse_u;            // [H]
  torch::Tensor fuse_b;            // [S]
  torch::nn::LayerNorm norm{nullptr};
  double dropout = 0;
  std::string fusion;
  // fusion "linear" on float32 CPU tensors runs as one op with a hand-written backward
  // (gat_fused.h) unless this is false (then: LibTorch ops and autograd, the reference path).
  bool fused = true;
};
TORCH_MODULE(MultiScaleGatLayer);

class MmgatImpl : public BagModelImpl {
 public:
  explicit MmgatImpl(ModelSpec spec);
  // x [B,K,D], mask [B,K] -> clip [B,C] (after the autoencoder refinement), instance [B,K,C]
  // (per-node class probabilities before refinement), attention [B,K,C] (class-specific pooling
  // weights), embedding [B,H] (mean of the final node features = the pooled graph feature).
  BagOutput forward(const torch::Tensor& x, const torch::Tensor& mask) override;
  // lambda_aux * aux BCE + lambda_ae * autoencoder BCE + lambda_c1/c2 * center losses; updates
  // the centers (moving average, rate center_alpha). Needs the preceding training-mode forward.
  // With an active share: every term normalized by its global count, the autoencoder's hidden
  // labels drawn for the whole global batch (this share's rows kept), the center updates summed
  // over the processes (every process holds the same centers).
  torch::Tensor extra_loss(const BagOutput& out, const torch::Tensor& y,
                           const torch::Tensor& y_mask, const LossShare& share = {}) override;
  const MmgatOptions& options() const { return options_; }
  // Input stage, graph attention layers, class pooling and center distances as fused ops
  // (default, gat_fused.h) or as LibTorch ops (the reference path).
  void set_fused_layers(bool on);
  void set_fused(bool on) override { set_fused_layers(on); }
  // The autoencoder over a class vector v [B,C] in [-1, 1] -> logits [B,C].
  torch::Tensor autoencoder(const torch::Tensor& v);

 private:
  torch::Tensor queries();  // [C,H]

  MmgatOptions options_;
  bool fused_ = true;
  torch::nn::Linear input_{nullptr};
  torch::nn::LayerNorm input_norm_{nullptr};
  std::vector<MultiScaleGatLayer> layers_;
  torch::nn::Linear key_{nullptr};          // pooling keys H -> H
  torch::nn::Linear label_proj_{nullptr};   // label embedding d -> query H
  torch::Tensor label_emb_;                 // [C,d] buffer (given) or parameter (learned)
  torch::Tensor class_queries_;             // [C,H] (mmgat-graph)
  torch::Tensor cls_w_, cls_b_;             // per-class classifiers [C,H], [C]
  torch::nn::Linear enc1_{nullptr}, enc2_{nullptr}, dec1_{nullptr}, dec2_{nullptr};
  torch::nn::Linear aux_{nullptr};
  torch::Tensor group_members_;             // [C,G] float 0/1 buffer
  torch::Tensor center_class_, center_group_;  // [C,H], [G,H] buffers
  // Stashed by a training-mode forward for extra_loss.
  torch::Tensor last_alpha_, last_h_, last_g_;
};
TORCH_MODULE(Mmgat);

}  // namespace tutti::models
