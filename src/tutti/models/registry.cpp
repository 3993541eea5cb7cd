// make_model: the one place that maps declared model names (model_decl.h) to classes.
#include <map>

#include "tutti/core/error.h"
#include "tutti/models/att.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/fc.h"
#include "tutti/models/fc_t.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/model_spec.h"
#include "tutti/models/rnn.h"

namespace tutti::models {

namespace {

template <typename Impl>
BagModel make(const ModelSpec& spec) {
  return std::make_shared<Impl>(spec);
}

// The classes of the declared neural models (model_decl.cpp declares everything else).
const std::map<std::string, BagModel (*)(const ModelSpec&)>& factories() {
  static const std::map<std::string, BagModel (*)(const ModelSpec&)> f = {
      {"att", &make<AttImpl>}, {"fc_t", &make<FcTImpl>},    {"fc", &make<FcImpl>},
      {"rnn", &make<RnnImpl>}, {"mmgat", &make<MmgatImpl>},
  };
  return f;
}

}  // namespace

bool has_model_class(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  return d && factories().count(d->name) != 0;
}

BagModel make_model(const ModelSpec& given) {
  const ModelDecl& decl = model_decl(given.name);
  check<UsageError>(decl.neural(),
                    "models: '{}' is a random forest (train/random_forest.h), not a neural model",
                    given.name);
  const ModelSpec spec = resolve_model_spec(given);
  spec.validate();
  const ModelAlias* alias = find_model_alias(given.name);
  if (!alias) return factories().at(decl.name)(spec);
  try {
    return factories().at(decl.name)(spec);
  } catch (const UsageError& e) {  // name what the user asked for
    fail<UsageError>("{} (= {} with {}): {}", alias->name, alias->model, alias->options.dump(),
                     e.what());
  }
}

std::int64_t count_parameters(const torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters(/*recurse=*/true))
    if (p.requires_grad()) n += p.numel();
  return n;
}

void check_batch(const ModelSpec& spec, const torch::Tensor& x, const torch::Tensor& mask) {
  const auto& name = spec.name;
  check(x.defined() && mask.defined(), "{}: forward needs x and mask", name);
  check(x.dim() == 3, "{}: x must be [B, K, D], got {} dims", name, x.dim());
  check(x.scalar_type() == torch::kFloat32, "{}: x must be float32, got {}", name,
        std::string(c10::toString(x.scalar_type())));
  check(x.size(2) == spec.input_dim, "{}: x has D = {}, the model was built for D = {}", name,
        x.size(2), spec.input_dim);
  check(x.size(0) > 0 && x.size(1) > 0, "{}: empty batch [{}, {}, {}]", name, x.size(0), x.size(1),
        x.size(2));
  check(mask.dim() == 2 && mask.size(0) == x.size(0) && mask.size(1) == x.size(1),
        "{}: mask must be [B, K] = [{}, {}], got {}", name, x.size(0), x.size(1),
        fmt::format("{}", fmt::join(mask.sizes().vec(), "x")));
  check(mask.scalar_type() == torch::kBool, "{}: mask must be bool, got {}", name,
        std::string(c10::toString(mask.scalar_type())));
  check(mask.device() == x.device(), "{}: mask and x are on different devices", name);
  const auto empty = (~mask.any(1)).nonzero();
  check(empty.size(0) == 0, "{}: bag {} of the batch has no real instance (mask all false)", name,
        empty.size(0) ? empty[0][0].item<std::int64_t>() : -1);
}

torch::Tensor masked_sum(const torch::Tensor& v, const torch::Tensor& mask) {
  return (v * mask.unsqueeze(-1).to(v.scalar_type())).sum(1);
}

torch::Tensor scatter_instances(const torch::Tensor& v, const torch::Tensor& mask) {
  auto out = torch::zeros({mask.size(0), mask.size(1), v.size(1)}, v.options());
  return out.index_put({mask}, v);
}

}  // namespace tutti::models
