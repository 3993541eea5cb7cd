#include "tutti/models/fc.h"

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

FcOptions FcOptions::from_spec(const ModelSpec& spec) {
  OptionReader r(model_decl("fc"), spec.options);
  FcOptions o;
  o.hidden = r.integer_list("hidden");
  o.dropout = r.number("dropout");
  o.negative_slope = r.number("negative_slope");
  return o;
}

FcImpl::FcImpl(ModelSpec spec)
    : BagModelImpl(std::move(spec)), options_(FcOptions::from_spec(spec_)) {
  // Parameter names match tools/fixtures/make_model_fixtures.py (the PyTorch reference).
  std::int64_t in = spec_.max_instances * spec_.input_dim;
  for (std::size_t i = 0; i < options_.hidden.size(); ++i) {
    hidden_.push_back(register_module("hidden" + std::to_string(i + 1),
                                      torch::nn::Linear(in, options_.hidden[i])));
    in = options_.hidden[i];
  }
  classifier_ = register_module("classifier", torch::nn::Linear(in, spec_.num_classes));
  reset_parameters();
}

void FcImpl::reset_parameters() {
  torch::NoGradGuard no_grad;
  auto all = hidden_;
  all.push_back(classifier_);
  for (auto& l : all) {
    torch::nn::init::xavier_normal_(l->weight);
    l->bias.zero_();
  }
}

BagOutput FcImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  // [B,K,D], [B,K] (all true, K = max_instances) -> clip [B,C]; embedding [B,H_last]
  check_batch(spec_, x, mask);
  check(x.size(1) == spec_.max_instances,
        "fc: needs fixed-length bags of exactly {} instances (max_instances), got K = {}; use a "
        "model that accepts variable-length bags (att, fc_t, rnn)",
        spec_.max_instances, x.size(1));
  const auto short_bags = (~mask.all(1)).nonzero();
  check(short_bags.size(0) == 0,
        "fc: needs fixed-length bags of exactly {} instances, but bag {} of the batch has {} real "
        "instances; use a model that accepts variable-length bags (att, fc_t, rnn)",
        spec_.max_instances, short_bags.size(0) ? short_bags[0][0].item<std::int64_t>() : -1,
        short_bags.size(0) ? mask[short_bags[0][0]].sum().item<std::int64_t>() : -1);
  torch::Tensor h = x.reshape({x.size(0), x.size(1) * x.size(2)});  // [B,K*D], instance-major
  for (auto& l : hidden_) {
    h = torch::dropout(l(h), options_.dropout, is_training());
    h = torch::leaky_relu(h, options_.negative_slope);
  }
  BagOutput out;
  out.clip = torch::sigmoid(classifier_(h));  // [B,C]
  out.embedding = h;                          // [B,H_last]
  return out;
}

}  // namespace tutti::models
