#include "tutti/models/rnn.h"

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

namespace rnn_utils = torch::nn::utils::rnn;

RnnOptions RnnOptions::from_spec(const ModelSpec& spec) {
  OptionReader r(model_decl("rnn"), spec.options);
  RnnOptions o;
  o.hidden_size = r.integer("hidden_size");
  o.num_layers = r.integer("num_layers");
  o.dropout = r.number("dropout");
  return o;
}

RnnImpl::RnnImpl(ModelSpec spec)
    : BagModelImpl(std::move(spec)), options_(RnnOptions::from_spec(spec_)) {
  // Parameter names match tools/fixtures/make_model_fixtures.py (the PyTorch reference). Both
  // modules keep PyTorch's default initialization (uniform +-1/sqrt(H) for the GRU).
  gru_ = register_module("gru",
                         torch::nn::GRU(torch::nn::GRUOptions(spec_.input_dim, options_.hidden_size)
                                            .num_layers(options_.num_layers)
                                            .dropout(options_.dropout)
                                            .bidirectional(true)
                                            .batch_first(true)));
  classifier_ =
      register_module("classifier", torch::nn::Linear(2 * options_.hidden_size, spec_.num_classes));
}

BagOutput RnnImpl::forward(const torch::Tensor& x, const torch::Tensor& mask) {
  // [B,K,D], [B,K] -> clip [B,C]; instance [B,K,C]; embedding [B,2H]
  check_batch(spec_, x, mask);
  const std::int64_t k = x.size(1);
  const torch::Tensor lengths = mask.sum(1);  // [B] int64
  const torch::Tensor prefix =
      torch::arange(k, mask.options().dtype(torch::kLong)).unsqueeze(0) < lengths.unsqueeze(1);
  check(torch::equal(prefix, mask),
        "rnn: the mask must list each bag's real instances first (no padding between real "
        "instances), since the GRU reads them in time order");

  // Packing makes each direction read exactly the bag's real instances.
  const auto packed = rnn_utils::pack_padded_sequence(x, lengths.to(torch::kCPU),
                                                      /*batch_first=*/true,
                                                      /*enforce_sorted=*/false);
  auto [packed_out, h_n] = gru_->forward_with_packed_input(packed);
  // h_n [L*2, B, H] in the original batch order: the last layer's forward state after the last
  // real instance and its backward state after reading back to the first one.
  const torch::Tensor feature =
      torch::cat({h_n[2 * options_.num_layers - 2], h_n[2 * options_.num_layers - 1]}, 1);
  torch::Tensor seq = std::get<0>(rnn_utils::pad_packed_sequence(
      packed_out, /*batch_first=*/true, /*padding_value=*/0.0, /*total_length=*/k));  // [B,K,2H]

  BagOutput out;
  out.clip = torch::sigmoid(classifier_(feature));  // [B,C]
  out.instance = torch::sigmoid(classifier_(seq)) * mask.unsqueeze(-1).to(seq.scalar_type());
  out.embedding = feature;  // [B,2H]
  return out;
}

}  // namespace tutti::models
