#include "tutti/models/fc_t.h"

#include "tutti/models/kernels/hashed_dropout.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

FcTOptions FcTOptions::from_spec(const ModelSpec& spec) {
  OptionReader r(model_decl("fc_t"), spec.options);
  FcTOptions o;
  o.dropout = r.number("dropout");
  o.negative_slope = r.number("negative_slope");
  o.num_layers = r.integer("num_layers");
  return o;
}

FcTImpl::FcTImpl(ModelSpec spec)
    : BagModelImpl(std::move(spec)), options_(FcTOptions::from_spec(spec_)) {
  const std::int64_t d = spec_.input_dim;
  // Parameter names match tools/fixtures/make_model_fixtures.py (the PyTorch reference).
  for (std::int64_t i = 0; i < options_.num_layers; ++i)
    linears_.push_back(register_module("linear" + std::to_string(i + 1), torch::nn::Linear(d, d)));
  classifier_ = register_module("classifier", torch::nn::Linear(d, spec_.num_classes));
  reset_parameters();
}

void FcTImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  auto all = linears_;
  all.push_back(classifier_);
  for (auto& l : all) {
    torch::nn::init::xavier_normal_(l->weight);
    l->bias.zero_();
  }
}

BagOutput FcTImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  // [B,K,D], [B,K] -> clip [B,C]; instance [B,K,C]; embedding [B,D]
  check_batch(spec_, x, mask);
  const torch::Tensor raw = x.index({mask});  // the M real instances [M,D]
  torch::Tensor h = raw;
  for (auto& l : linears_) {
    // Data-parallel training keys the masks by the global instance (hashed_dropout.h).
    h = dropout_share().active
            ? hashed_dropout(l(h), options_.dropout, is_training(), DropoutRows::kInstances)
            : torch::dropout(l(h), options_.dropout, is_training());
    h = torch::leaky_relu(h, options_.negative_slope);
  }
  h = h + raw;                                                                // residual   [M,D]
  const torch::Tensor n = mask.sum(1, /*keepdim=*/true).to(h.scalar_type());  // [B,1]
  const torch::Tensor pooled = scatter_instances(h, mask).sum(1) / n;         // [B,D] mean

  BagOutput out;
  out.clip = torch::sigmoid(classifier_(pooled));                          // [B,C]
  out.instance = scatter_instances(torch::sigmoid(classifier_(h)), mask);  // [B,K,C]
  out.embedding = pooled;
  return out;
}

}  // namespace tutti::models
