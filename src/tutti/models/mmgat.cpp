#include "tutti/models/mmgat.h"

#include <cmath>
#include <limits>

#include "tutti/core/error.h"
#include "tutti/models/kernels/clip_bmm.h"
#include "tutti/models/kernels/gat_fused.h"
#include "tutti/models/kernels/hashed_dropout.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

namespace {

constexpr double kMinWeight = 1e-6;  // floor of an edge weight before its log (score prior)

// Softmax over `dim` of `scores` where `allowed` is true; other entries get exactly 0. Every
// slice along `dim` must allow at least one entry.
torch::Tensor masked_softmax(const torch::Tensor& scores, const torch::Tensor& allowed,
                             std::int64_t dim) {
  return torch::softmax(scores.masked_fill(~allowed, -std::numeric_limits<float>::infinity()),
                        dim);
}

// Replaces each tensor (float32, CPU) by its element-wise sum over the processes of `share`, in
// one collective call.
void sum_over_share(const LossShare& share, std::initializer_list<torch::Tensor*> parts) {
  std::vector<torch::Tensor> flat;
  for (auto* p : parts) flat.push_back(p->detach().to(torch::kFloat32).reshape({-1}));
  auto all = torch::cat(flat).contiguous();
  share.sum(std::span<float>(all.data_ptr<float>(), static_cast<std::size_t>(all.numel())));
  std::int64_t at = 0;
  for (auto* p : parts) {
    *p = all.slice(0, at, at + p->numel()).view(p->sizes());
    at += p->numel();
  }
}

}  // namespace

std::int64_t MmgatOptions::num_groups() const {
  std::int64_t g = 0;
  for (auto v : onset_groups) g = std::max(g, v + 1);
  return g;
}

MmgatOptions MmgatOptions::from_spec(const ModelSpec& given) {
  const ModelSpec spec = resolve_model_spec(given);
  OptionReader r(model_decl("mmgat"), spec.options);
  MmgatOptions o;
  auto& g = o.graph;
  g.similarity = r.string("similarity");
  g.sparsify = r.string("sparsify");
  g.top_k = r.integer("top_k");
  g.threshold = r.number("threshold");
  g.center = r.number("graph_center");
  g.emd_sigma = r.number("emd_sigma");
  g.scales = r.integer("scales");
  o.hidden = r.integer("hidden");
  o.num_layers = r.integer("num_layers");
  o.dropout = r.number("dropout");
  o.scale_fusion = r.string("scale_fusion");
  o.use_labels = r.boolean("use_labels");
  o.label_embeddings = r.string("label_embeddings");
  o.label_dim = r.integer("label_dim");
  o.label_embedding_matrix = r.number_matrix("label_embedding_matrix");
  o.ae_hidden = r.integer("ae_hidden");
  o.ae_latent = r.integer("ae_latent");
  o.ae_mask = r.number("ae_mask");
  o.aux_task = r.boolean("use_aux");
  o.onset_table = r.string("onset_table");
  o.onset_groups = r.integer_list("onset_groups");
  o.lambda_aux = r.number("lambda_aux");
  o.lambda_ae = r.number("lambda_ae");
  o.lambda_c1 = r.number("lambda_c1");
  o.lambda_c2 = r.number("lambda_c2");
  o.center_alpha = r.number("center_alpha");
  const std::int64_t c = spec.num_classes;
  if (!o.onset_groups.empty())
    check<UsageError>(static_cast<std::int64_t>(o.onset_groups.size()) == c,
                      "model '{}': option 'onset_groups' has {} entries, expected one per class "
                      "({})",
                      spec.name, o.onset_groups.size(), c);
  if (!o.label_embedding_matrix.empty())
    check<UsageError>(static_cast<std::int64_t>(o.label_embedding_matrix.size()) == c,
                      "model '{}': option 'label_embedding_matrix' has {} rows, expected one per "
                      "class ({})",
                      spec.name, o.label_embedding_matrix.size(), c);
  o.use_aux = o.aux_task && o.num_groups() > 0;  // no onset group: nothing to predict
  return o;
}

// --- Graph ---------------------------------------------------------------------------------------

torch::Tensor pairwise_weights(const torch::Tensor& x, const GraphOptions& o) {
  if (o.similarity == "cosine") {
    const auto xc = x - o.center;
    const auto xn = xc / xc.norm(2, -1, /*keepdim=*/true).clamp_min(1e-8);
    const auto cos = clip_bmm(xn, xn.transpose(1, 2)).clamp(-1.0, 1.0);
    return (cos + 1.0) * 0.5;
  }
  // EMD between the vectors read as 1-D histograms over their dimensions: shift to >= 0,
  // normalize to sum 1, L1 distance of the cumulative sums.
  const auto shifted = x - std::get<0>(x.min(-1, /*keepdim=*/true));
  const auto sum = shifted.sum(-1, /*keepdim=*/true);
  const auto uniform = torch::full_like(shifted, 1.0 / static_cast<double>(x.size(-1)));
  const auto p = torch::where(sum > 0, shifted / sum.clamp_min(1e-30), uniform);
  const auto cdf = p.cumsum(-1);
  const auto emd = torch::cdist(cdf, cdf, 1.0);
  return torch::exp(-emd / o.emd_sigma);
}

InstanceGraph build_instance_graph(const torch::Tensor& x, const torch::Tensor& mask,
                                   const GraphOptions& o) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32)
    return build_instance_graph_cpu(x, mask, o);
  const std::int64_t b = x.size(0), k = x.size(1);
  const auto xz = x.masked_fill(~mask.unsqueeze(-1), 0.0);
  auto w = pairwise_weights(xz, o);                                       // [B,K,K]
  const auto eye = torch::eye(k, torch::TensorOptions().dtype(torch::kBool).device(x.device()))
                       .unsqueeze(0);                                     // [1,K,K]
  const auto real_pair = mask.unsqueeze(2) & mask.unsqueeze(1);           // [B,K,K]
  w = torch::where(eye, torch::ones_like(w), w);
  w = torch::where(real_pair | eye, w, torch::zeros_like(w));
  torch::Tensor adj;
  const auto off_diag = real_pair & ~eye;
  if (o.sparsify == "topk") {
    const std::int64_t kk = std::min<std::int64_t>(o.top_k, k - 1);
    adj = torch::zeros({b, k, k}, torch::TensorOptions().dtype(torch::kBool).device(x.device()));
    if (kk > 0) {
      // Candidates: real off-diagonal pairs; others rank below every real one.
      const auto cand = w.masked_fill(~off_diag, -1.0);
      const auto idx = std::get<1>(cand.topk(kk, -1, /*largest=*/true, /*sorted=*/true));
      adj = adj.scatter(-1, idx, true) & off_diag;  // picks of non-real entries dropped
    }
    adj = adj | adj.transpose(1, 2);  // symmetric: i ~ j when either picked the other
  } else {
    adj = (w >= o.threshold) & off_diag;
  }
  adj = adj | eye;
  // Hop s: reachable within s steps (boolean matrix powers over the symmetric graph).
  std::vector<torch::Tensor> scales{adj};
  const auto a_f = adj.to(torch::kFloat32);
  auto reach = a_f;
  for (std::int64_t s = 1; s < o.scales; ++s) {
    reach = (clip_bmm(reach, a_f) > 0).to(torch::kFloat32);
    scales.push_back(reach > 0);
  }
  InstanceGraph g;
  g.weight = w;
  g.adjacency = torch::stack(scales, 1);  // [B,S,K,K]
  return g;
}

// --- Multi-scale graph attention layer -----------------------------------------------------------

MultiScaleGatLayerImpl::MultiScaleGatLayerImpl(std::int64_t hidden, std::int64_t scales,
                                               double dropout_p, std::string fusion_kind)
    : dropout(dropout_p), fusion(std::move(fusion_kind)) {
  check<UsageError>(fusion == "linear" || fusion == "tanh",
                    "scale_fusion '{}': expected linear or tanh", fusion);
  proj = register_module("proj",
                         torch::nn::Linear(torch::nn::LinearOptions(hidden, hidden).bias(false)));
  const double bound = std::sqrt(6.0 / static_cast<double>(hidden + 1));  // Xavier, GAT's init
  att_src = register_parameter("att_src", torch::empty({scales, hidden}).uniform_(-bound, bound));
  att_dst = register_parameter("att_dst", torch::empty({scales, hidden}).uniform_(-bound, bound));
  const double ub = 1.0 / std::sqrt(static_cast<double>(hidden));
  fuse_u = register_parameter("fuse_u", torch::empty({hidden}).uniform_(-ub, ub));
  fuse_b = register_parameter("fuse_b", torch::zeros({scales}));
  norm = register_module("norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({hidden})));
}

torch::Tensor MultiScaleGatLayerImpl::forward(const torch::Tensor& h,
                                              const torch::Tensor& adjacency,
                                              const torch::Tensor& log_w) {
  // h [B,K,H], adjacency [B,S,K,K], log_w [B,K,K] -> [B,K,H]
  if (fused && fusion == "linear" && can_fuse_gat(h)) {
    const auto& ln = norm->options;
    return fused_gat_layer(h, adjacency, log_w,
                           {proj->weight, att_src, att_dst, fuse_u, fuse_b, norm->weight,
                            norm->bias, ln.eps()},
                           dropout, is_training());
  }
  const auto z = proj(h);                                          // [B,K,H]
  const auto e_dst = torch::matmul(z, att_dst.t()).transpose(1, 2);  // [B,S,K]
  const auto e_src = torch::matmul(z, att_src.t()).transpose(1, 2);  // [B,S,K]
  auto e = torch::leaky_relu(e_dst.unsqueeze(-1) + e_src.unsqueeze(-2), 0.2);  // [B,S,K,K]
  e = e + log_w.unsqueeze(1);
  const auto alpha = masked_softmax(e, adjacency, -1);               // [B,S,K,K]
  const std::int64_t bsz = h.size(0), s = alpha.size(1), k = h.size(1), hd = h.size(2);
  torch::Tensor m;  // [B,K,H]
  if (fusion == "linear") {
    // u . out_s,i = sum_j alpha_s,ij (u . z_j), and sum_s beta_s,i out_s,i = (sum_s beta_s,i
    // alpha_s,i.) z: the scores and the fused output come from [B,S,K,K] attention alone.
    const auto zu = z.matmul(fuse_u);                                                // [B,K]
    const auto f = (alpha * zu.view({bsz, 1, 1, k})).sum(-1) + fuse_b.view({1, -1, 1});  // [B,S,K]
    const auto beta = torch::softmax(f, 1);                                          // [B,S,K]
    const auto mixed = (beta.unsqueeze(-1) * alpha).sum(1);                          // [B,K,K]
    m = clip_bmm(mixed, z);
  } else {
    // One product over [B, S*K, K] x [B, K, H] (a broadcasting matmul would copy z S times).
    const auto out = clip_bmm(alpha.reshape({bsz, s * k, k}), z).view({bsz, s, k, hd});
    const auto f = torch::tanh(out).reshape({-1, hd}).mv(fuse_u).view({bsz, s, k}) +
                   fuse_b.view({1, -1, 1});                                          // [B,S,K]
    const auto beta = torch::softmax(f, 1);
    m = (beta.unsqueeze(-1) * out).sum(1);
  }
  m = hashed_dropout(torch::elu(m), dropout, is_training());
  return norm(h + m);
}

// --- The model -----------------------------------------------------------------------------------

MmgatImpl::MmgatImpl(ModelSpec spec)
    : BagModelImpl(std::move(spec)), options_(MmgatOptions::from_spec(spec_)) {
  const auto& o = options_;
  const std::int64_t d = spec_.input_dim, c = spec_.num_classes, h = o.hidden;
  input_ = register_module("input", torch::nn::Linear(d, h));
  input_norm_ = register_module("input_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({h})));
  for (std::int64_t i = 0; i < o.num_layers; ++i)
    layers_.push_back(register_module("gat" + std::to_string(i + 1),
                                      MultiScaleGatLayer(h, o.graph.scales, o.dropout,
                                                         o.scale_fusion)));
  key_ = register_module("key", torch::nn::Linear(torch::nn::LinearOptions(h, h).bias(false)));
  if (o.use_labels) {
    if (!o.label_embedding_matrix.empty()) {
      const auto rows = static_cast<std::int64_t>(o.label_embedding_matrix.size());
      const auto cols = static_cast<std::int64_t>(o.label_embedding_matrix.front().size());
      auto e = torch::empty({rows, cols}, torch::kFloat64);
      for (std::int64_t i = 0; i < rows; ++i)
        for (std::int64_t j = 0; j < cols; ++j)
          e[i][j] = o.label_embedding_matrix[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)];
      label_emb_ = register_buffer("label_emb", e.to(torch::kFloat32));
    } else {
      // No matrix in the spec (built outside the trainer, or label_embeddings=learned).
      label_emb_ = register_parameter("label_emb", torch::randn({c, o.label_dim}));
    }
    label_proj_ = register_module("label_proj", torch::nn::Linear(label_emb_.size(1), h));
    enc1_ = register_module("enc1", torch::nn::Linear(c, o.ae_hidden));
    enc2_ = register_module("enc2", torch::nn::Linear(o.ae_hidden, o.ae_latent));
    dec1_ = register_module("dec1", torch::nn::Linear(o.ae_latent, o.ae_hidden));
    dec2_ = register_module("dec2", torch::nn::Linear(o.ae_hidden, c));
    torch::NoGradGuard ng;
    dec2_->weight.zero_();  // the refinement starts as the identity on the logits
    dec2_->bias.zero_();
  } else {
    class_queries_ = register_parameter(
        "class_queries", torch::randn({c, h}) / std::sqrt(static_cast<double>(h)));
  }
  const double cb = 1.0 / std::sqrt(static_cast<double>(h));
  cls_w_ = register_parameter("cls_w", torch::empty({c, h}).uniform_(-cb, cb));
  cls_b_ = register_parameter("cls_b", torch::zeros({c}));
  center_class_ = register_buffer("center_class", torch::zeros({c, h}));
  if (o.use_aux) {
    const std::int64_t g = o.num_groups();
    aux_ = register_module("aux", torch::nn::Linear(h, g));
    auto members = torch::zeros({c, g});
    for (std::int64_t i = 0; i < c; ++i)
      if (const auto gi = o.onset_groups[static_cast<std::size_t>(i)]; gi >= 0) members[i][gi] = 1;
    group_members_ = register_buffer("group_members", members);
    center_group_ = register_buffer("center_group", torch::zeros({g, h}));
  }
}

void MmgatImpl::set_fused_layers(bool on) {
  fused_ = on;
  for (auto& layer : layers_) layer->fused = on;
}

torch::Tensor MmgatImpl::queries() {
  if (!options_.use_labels) return class_queries_;
  return label_proj_(label_emb_);
}

torch::Tensor MmgatImpl::autoencoder(const torch::Tensor& v) {
  auto a = torch::relu(enc1_(v));
  a = torch::relu(enc2_(a));
  a = torch::relu(dec1_(a));
  return dec2_(a);
}

BagOutput MmgatImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  // [B,K,D], [B,K] -> clip [B,C], instance/attention [B,K,C], embedding [B,H]
  check_batch(spec_, x, mask);
  const auto m3 = mask.unsqueeze(-1);  // [B,K,1]
  const auto xz = x.masked_fill(~m3, 0.0);
  InstanceGraph graph;
  {
    torch::NoGradGuard ng;  // the graph is a function of the input only
    graph = build_instance_graph(xz, mask, options_.graph);
  }
  const auto log_w = graph.weight.clamp_min(kMinWeight).log();  // [B,K,K]

  const bool fused = fused_ && can_fuse_gat(xz);  // the fused ops (gat_fused.h)
  torch::Tensor h;  // [B,K,H]
  if (fused) {
    h = fused_input_layer(xz,
                          {input_->weight, input_->bias, input_norm_->weight, input_norm_->bias,
                           input_norm_->options.eps()},
                          options_.dropout, is_training());
  } else {
    h = hashed_dropout(input_norm_(input_(xz)), options_.dropout, is_training());
  }
  for (auto& layer : layers_) h = layer(h, graph.adjacency, log_w);

  // Class-specific attention pooling: node keys against per-class queries.
  const double scale = 1.0 / std::sqrt(static_cast<double>(options_.hidden));
  const auto qk = torch::matmul(queries(), key_->weight);                 // [C,H]: q_c^T W_k
  // Per-class classifier on the per-class feature F_c = sum_i alpha_ic h_i equals the
  // alpha-weighted sum of the per-node logits (the classifier is linear, alpha sums to 1).
  torch::Tensor alpha, inst_logits, logits;  // [B,K,C], [B,K,C], [B,C]
  if (fused) {
    auto pool = fused_class_pooling(h, mask, qk * scale, cls_w_, cls_b_);
    alpha = pool.alpha;
    inst_logits = pool.node_logits;
    logits = pool.logits;
  } else {
    alpha = masked_softmax(torch::matmul(h, qk.t()) * scale, m3, 1);
    inst_logits = torch::matmul(h, cls_w_.t()) + cls_b_;
    logits = (alpha * inst_logits).sum(1);
  }
  if (options_.use_labels) logits = logits + autoencoder(2.0 * torch::sigmoid(logits) - 1.0);

  const auto fmask = m3.to(h.scalar_type());
  const auto n = mask.sum(1, /*keepdim=*/true).to(h.scalar_type());      // [B,1]
  BagOutput out;
  out.clip = torch::sigmoid(logits);
  out.instance = torch::sigmoid(inst_logits) * fmask;
  out.attention = alpha;
  out.embedding = (h * fmask).sum(1) / n;
  if (is_training()) {
    last_alpha_ = alpha;
    last_h_ = h;
    last_g_ = out.embedding;
  } else {
    last_alpha_ = last_h_ = last_g_ = torch::Tensor();
  }
  return out;
}

torch::Tensor MmgatImpl::extra_loss(const BagOutput& /*out*/, const torch::Tensor& y,
                                    const torch::Tensor& y_mask, const LossShare& share) {
  check(last_h_.defined(), "{}: extra_loss needs a training-mode forward first", spec_.name);
  const auto& o = options_;
  const auto known = y_mask.to(torch::kBool);
  const auto pos = known & (y >= 0.5);                   // [B,C]
  const auto kf = known.to(torch::kFloat32);
  const auto pf = pos.to(torch::kFloat32);
  torch::Tensor loss = torch::zeros({}, last_h_.options());

  // Onset groups: present when a class of the group is a known positive; absent when every class
  // of it is a known negative; otherwise unknown.
  torch::Tensor tgt, gk;  // [B,G] 0/1
  if (o.use_aux) {
    const auto npos = torch::matmul(pf, group_members_);                               // [B,G]
    const auto nneg = torch::matmul((known & ~pos).to(torch::kFloat32), group_members_);  // [B,G]
    const auto size = group_members_.sum(0).unsqueeze(0);                              // [1,G]
    tgt = (npos > 0).to(torch::kFloat32);
    gk = ((npos > 0) | ((nneg == size) & (size > 0))).to(torch::kFloat32);
  }
  // Each term's normalizer: the count over this batch, or over the global batch of a share.
  const std::vector<torch::Tensor> local = {kf.sum(), pf.sum(), gk.defined() ? gk.sum() : kf.sum(),
                                            tgt.defined() ? tgt.sum() : kf.sum()};
  std::vector<torch::Tensor> count = local;
  if (share.active) {
    std::vector<float> c;
    for (const auto& t : local) c.push_back(t.item<float>());
    share.sum(std::span<float>(c));
    for (std::size_t i = 0; i < c.size(); ++i) count[i] = torch::full({}, c[i], kf.options());
  }
  const auto& n_known = count[0];
  const auto& n_pos = count[1];
  const auto& n_groups_known = count[2];
  const auto& n_groups_present = count[3];

  // Masked label autoencoder: reconstruct every known label from a copy with a random fraction
  // ae_mask of them hidden (+1 positive, -1 negative, 0 hidden or unknown).
  if (o.use_labels && o.lambda_ae > 0) {
    // A share draws the global batch's uniforms and keeps its rows: the masks one process draws.
    const auto u = share.active ? torch::rand({share.global_clips, y.size(1)})
                                      .slice(0, share.clip_offset, share.clip_offset + y.size(0))
                                : torch::rand(y.sizes());
    const auto keep = (u >= o.ae_mask).to(y.device()) & known;
    const auto v = (2.0 * pf - 1.0) * keep.to(torch::kFloat32);
    const auto r = autoencoder(v);
    const auto bce = torch::binary_cross_entropy_with_logits(r, pf, {}, {}, at::Reduction::None);
    loss = loss + o.lambda_ae * (bce * kf).sum() / n_known.clamp_min(1.0);
  }

  // Center loss 1: per-class clip features of the present classes (Wen et al. 2016).
  if (o.lambda_c1 > 0) {
    torch::Tensor d2, sums;  // [B,C] (0 where absent), [C,H]: sum over the positives of f - c
    if (fused_ && can_fuse_gat(last_h_)) {
      auto cd = fused_center_distances(last_alpha_, last_h_, pf, center_class_);
      d2 = cd.d2;
      sums = cd.sums;
    } else {
      const auto feat = clip_bmm(last_alpha_.transpose(1, 2), last_h_);  // [B,C,H]
      const auto diff = feat - center_class_.unsqueeze(0).clone();
      d2 = 0.5 * diff.pow(2).sum(-1) * pf;
      sums = (diff.detach() * pf.unsqueeze(-1)).sum(0);
    }
    loss = loss + o.lambda_c1 * d2.sum() / n_pos.clamp_min(1.0);
    torch::NoGradGuard ng;
    auto cnt = pf.sum(0);  // [C]
    if (share.active) sum_over_share(share, {&sums, &cnt});
    // c -= alpha * sum(c - f) / (1 + n), Wen eq. 4
    center_class_.add_(sums / (1.0 + cnt).unsqueeze(-1), o.center_alpha);
  }

  if (o.use_aux) {
    if (o.lambda_aux > 0) {
      const auto bce = torch::binary_cross_entropy_with_logits(aux_(last_g_), tgt, {}, {},
                                                               at::Reduction::None);
      loss = loss + o.lambda_aux * (bce * gk).sum() / n_groups_known.clamp_min(1.0);
    }
    // Center loss 2: the pooled graph feature, one center per onset group present.
    if (o.lambda_c2 > 0) {
      const auto diff = last_g_.unsqueeze(1) - center_group_.unsqueeze(0).clone();  // [B,G,H]
      const auto d2 = 0.5 * diff.pow(2).sum(-1);
      loss = loss + o.lambda_c2 * (d2 * tgt).sum() / n_groups_present.clamp_min(1.0);
      torch::NoGradGuard ng;
      auto cnt = tgt.sum(0);
      auto sums = (diff.detach() * tgt.unsqueeze(-1)).sum(0);  // [G,H]
      if (share.active) sum_over_share(share, {&sums, &cnt});
      center_group_.add_(sums / (1.0 + cnt).unsqueeze(-1), o.center_alpha);
    }
  }
  last_alpha_ = last_h_ = last_g_ = torch::Tensor();
  return loss;
}

}  // namespace tutti::models
