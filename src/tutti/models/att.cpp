#include "tutti/models/att.h"

#include <cmath>

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

AttOptions AttOptions::from_spec(const ModelSpec& spec) {
  OptionReader r(model_decl("att"), spec.options);
  AttOptions o;
  o.dropout = r.number("dropout");
  o.num_layers = r.integer("num_layers");
  return o;
}

AttImpl::AttImpl(ModelSpec spec)
    : BagModelImpl(std::move(spec)), options_(AttOptions::from_spec(spec_)) {
  const std::int64_t d = spec_.input_dim;
  const std::int64_t c = spec_.num_classes;
  // Parameter names match tools/fixtures/make_model_fixtures.py (the PyTorch reference).
  input_bn_ = register_module("input_bn", torch::nn::BatchNorm1d(d));
  for (std::int64_t i = 0; i < options_.num_layers; ++i) {
    linears_.push_back(
        register_module("linear" + std::to_string(i + 1),
                        torch::nn::Linear(torch::nn::LinearOptions(d, d).bias(false))));
    bns_.push_back(register_module("bn" + std::to_string(i + 1), torch::nn::BatchNorm1d(d)));
  }
  attention_ = register_module("attention", torch::nn::Linear(d, c));
  classifier_ = register_module("classifier", torch::nn::Linear(d, c));
  reset_parameters();
}

void AttImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  // He-uniform bound sqrt(6 / fan_in) (docs/models.md, ATT init).
  const auto he_uniform = [](torch::Tensor& w) {
    const double bound = std::sqrt(6.0 / static_cast<double>(w.size(1)));
    w.uniform_(-bound, bound);
  };
  for (auto& l : linears_) he_uniform(l->weight);
  for (auto* l : {&attention_, &classifier_}) {
    he_uniform((*l)->weight);
    (*l)->bias.zero_();
  }
  for (auto* bn : {&input_bn_}) (*bn)->reset_parameters();
  for (auto& bn : bns_) bn->reset_parameters();  // scale 1, shift 0, running stats 0 / 1
}

BagOutput AttImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  // [B,K,D], [B,K] -> clip [B,C]; instance, attention [B,K,C]; embedding [B,D]
  check_batch(spec_, x, mask);
  // Only the M real instances enter the network, so padding never reaches a sum or a batch-norm
  // statistic: [B,K,D] -> [M,D].
  const torch::Tensor raw = x.index({mask});
  check(!is_training() || raw.size(0) > 1,
        "att: batch-norm in training needs at least 2 real instances in the batch, got {}",
        raw.size(0));
  torch::Tensor h = input_bn_(raw);
  for (std::size_t i = 0; i < linears_.size(); ++i) {
    h = torch::relu(bns_[i](linears_[i](h)));
    h = torch::dropout(h, options_.dropout, is_training());
  }
  h = h + raw;  // residual: the un-normalized input   [M,D]

  // Kong et al. eq. 6-8: attention a and frame prediction c per class; the clip probability is the
  // attention-weighted average of c over the bag's real instances.
  const torch::Tensor a = torch::sigmoid(attention_(h)).clamp(1e-7, 1.0 - 1e-7);  // [M,C]
  const torch::Tensor c = torch::sigmoid(classifier_(h));                         // [M,C]
  const torch::Tensor a_full = scatter_instances(a, mask);                        // [B,K,C]
  const torch::Tensor c_full = scatter_instances(c, mask);                        // [B,K,C]
  const torch::Tensor weights = a_full / a_full.sum(1, /*keepdim=*/true);         // [B,K,C]

  BagOutput out;
  // The weights are rounded: when every c is 1, their sum can be one float step above 1, which
  // is not a probability (BCE refuses it).
  out.clip = (weights * c_full).sum(1).clamp_max(1.0);  // [B,C]
  out.instance = c_full;
  out.attention = weights;
  const torch::Tensor n = mask.sum(1, /*keepdim=*/true).to(h.scalar_type());  // [B,1]
  out.embedding = scatter_instances(h, mask).sum(1) / n;                      // [B,D] mean h_t
  return out;
}

}  // namespace tutti::models
