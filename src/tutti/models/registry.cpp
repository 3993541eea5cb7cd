// make_model and the list of registered models: the one place that maps names to classes.
#include <algorithm>

#include "tutti/core/error.h"
#include "tutti/models/att.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/fc.h"
#include "tutti/models/fc_t.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/model_spec.h"
#include "tutti/models/rnn.h"

namespace tutti::models {

namespace {

struct Entry {
  const char* name;
  bool fixed_length;
  bool instance_outputs;  // per-instance class scores (BagOutput::instance) for localization
  BagModel (*make)(const ModelSpec&);
};

template <typename Impl>
BagModel make(const ModelSpec& spec) {
  return std::make_shared<Impl>(spec);
}

const std::vector<Entry>& registry() {
  static const std::vector<Entry> entries = {
      {"att", false, true, &make<AttImpl>},
      {"fc_t", false, true, &make<FcTImpl>},
      {"fc", true, false, &make<FcImpl>},
      {"rnn", false, true, &make<RnnImpl>},
      {"mmgat", false, true, &make<MmgatImpl>},
      {"mmgat-single", false, true, &make<MmgatImpl>},
      {"mmgat-principal", false, true, &make<MmgatImpl>},
      {"mmgat-graph", false, true, &make<MmgatImpl>},
  };
  return entries;
}

const Entry* find_entry(const std::string& name) {
  for (const auto& e : registry())
    if (name == e.name) return &e;
  return nullptr;
}

std::string joined_names() {
  std::string s;
  for (const auto& e : registry()) s += (s.empty() ? "" : ", ") + std::string(e.name);
  return s;
}

}  // namespace

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& e : registry()) names.emplace_back(e.name);
  return names;
}

bool requires_fixed_length(const std::string& name) {
  const Entry* e = find_entry(name);
  return e && e->fixed_length;
}

bool has_instance_outputs(const std::string& name) {
  const Entry* e = find_entry(name);
  return e && e->instance_outputs;
}

BagModel make_model(const ModelSpec& spec) {
  const Entry* e = find_entry(spec.name);
  check<UsageError>(e != nullptr, "models: unknown model '{}' (known: {})", spec.name,
                    joined_names());
  spec.validate();
  return e->make(spec);
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
