// MMGAT's multi-scale graph attention layer (linear scale fusion), input stage, class-specific
// attention pooling and class center distances as differentiable ops with hand-written backwards
// (float32, CPU).
//
// Same mathematics as MultiScaleGatLayerImpl::forward with fusion "linear" (mmgat.h), including
// its dropout (hashed_dropout: the same base drawn from torch's generator, the same masks), so
// the two paths agree to float rounding (tests/models/test_gat_fused.cpp). Under autograd the
// layer was ~20 small ops per layer and direction, most below ATen's parallel grain: one thread
// worked while the other waited. Here the per-clip work (attention scores, the masked softmaxes,
// the scale fusion, ELU, dropout, residual, LayerNorm, and all of their gradients) runs in one
// loop over the clips in parallel, and the three [B*K,H]x[H,H] products are split by rows (by
// output rows for the weight gradient). Parameter gradients are summed per clip and then over
// the clips in a fixed order, so results do not depend on the thread count.
#pragma once

#include <torch/types.h>

namespace tutti::models {

struct GatLayerParams {
  torch::Tensor w_proj;              // [H,H]: z = h w_proj^T
  torch::Tensor att_src, att_dst;    // [S,H]
  torch::Tensor fuse_u;              // [H]
  torch::Tensor fuse_b;              // [S]
  torch::Tensor ln_weight, ln_bias;  // [H]
  double ln_eps = 1e-5;
};

// Whether fused_gat_layer takes these inputs (float32 CPU tensors).
bool can_fuse_gat(const torch::Tensor& h);

// h [B,K,H], adjacency [B,S,K,K] bool (every row allows at least its diagonal), log_w [B,K,K]
// (no gradient) -> LayerNorm(h + dropout(ELU(fused))) [B,K,H], differentiable in h and in every
// tensor of p.
torch::Tensor fused_gat_layer(const torch::Tensor& h, const torch::Tensor& adjacency,
                              const torch::Tensor& log_w, const GatLayerParams& p, double dropout,
                              bool training);

// MMGAT's input stage dropout(LayerNorm(x w^T + b)) as one op over row blocks (the same masks
// as hashed_dropout): x [..., D] -> [..., H], differentiable in x and every tensor of p.
struct InputLayerParams {
  torch::Tensor weight, bias;        // [H,D], [H]
  torch::Tensor ln_weight, ln_bias;  // [H]
  double ln_eps = 1e-5;
};
torch::Tensor fused_input_layer(const torch::Tensor& x, const InputLayerParams& p, double dropout,
                                bool training);

// MMGAT's class-specific attention pooling. h [B,K,H], mask [B,K] bool, queries [C,H] (already
// scaled), cls_w [C,H], cls_b [C] -> alpha [B,K,C] (per class, a softmax over the clip's nodes;
// 0 on padding), node logits [B,K,C] (h cls_w^T + cls_b) and clip logits [B,C] (sum over the
// nodes of alpha times node logits: the per-class classifier on the pooled per-class feature).
// Differentiable in h, queries, cls_w and cls_b. A bag without nodes gets alpha 0 and logit 0.
struct ClassPooling {
  torch::Tensor logits, alpha, node_logits;
};
ClassPooling fused_class_pooling(const torch::Tensor& h, const torch::Tensor& mask,
                                 const torch::Tensor& queries, const torch::Tensor& cls_w,
                                 const torch::Tensor& cls_b);

// MMGAT's first center loss term, over the positive pairs only (the per-class features of the
// other pairs are never formed). alpha [B,K,C], h [B,K,H], pos [B,C] (1 = present), centers [C,H]
// -> d2 [B,C] = |F_bc - center_c|^2 / 2 with F_bc = sum_i alpha_bic h_bi where pos, else 0
// (differentiable in alpha and h), and sums [C,H] = sum over the positive b of F_bc - center_c
// (for the moving-average center update; no gradient).
struct CenterDistances {
  torch::Tensor d2, sums;
};
CenterDistances fused_center_distances(const torch::Tensor& alpha, const torch::Tensor& h,
                                       const torch::Tensor& pos, const torch::Tensor& centers);

}  // namespace tutti::models
