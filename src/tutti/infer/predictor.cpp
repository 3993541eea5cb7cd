#include "tutti/infer/predictor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <optional>

#include "tutti/core/error.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"
#include "tutti/models/random_forest.h"
#include "tutti/models/torch_runtime.h"

namespace tutti::infer {

struct Predictor::Impl {
  std::filesystem::path path;
  ModelInfo info;
  models::BagModel model;                    // neural models
  std::optional<models::RandomForestBR> rf;  // rf
  std::vector<Predictor> members;            // an ensemble
};

namespace {

std::map<std::string, std::vector<std::int64_t>> tensor_shapes(const torch::nn::Module& m) {
  std::map<std::string, std::vector<std::int64_t>> out;
  for (const auto& p : m.named_parameters()) out[p.key()] = p.value().sizes().vec();
  for (const auto& b : m.named_buffers()) out[b.key()] = b.value().sizes().vec();
  return out;
}

// LibTorch's Module::load replaces each tensor with the stored one whatever its shape, so weights
// of a 20-class model load into the 18-class network meta.json declares and fail (or crash) only
// when the data meet them. Every tensor must keep the shape the declared network gave it.
void check_weight_shapes(const std::map<std::string, std::vector<std::int64_t>>& declared,
                         const torch::nn::Module& loaded, const models::ModelSpec& spec,
                         const std::string& what) {
  for (const auto& [name, shape] : tensor_shapes(loaded)) {
    const auto it = declared.find(name);
    check(it != declared.end(),
          "model: {}: weights.pt holds tensor '{}', which a '{}' model has not", what, name,
          spec.name);
    check(it->second == shape,
          "model: {}: weights.pt does not match meta.json: tensor '{}' has shape [{}], a '{}' "
          "model with input_dim {} and num_classes {} has [{}]",
          what, name, fmt::join(shape, ", "), spec.name, spec.input_dim, spec.num_classes,
          fmt::join(it->second, ", "));
  }
}

}  // namespace

Predictor::Predictor() : impl_(std::make_unique<Impl>()) {}
Predictor::~Predictor() = default;
Predictor::Predictor(Predictor&&) noexcept = default;
Predictor& Predictor::operator=(Predictor&&) noexcept = default;

const ModelInfo& Predictor::info() const { return impl_->info; }
const std::filesystem::path& Predictor::path() const { return impl_->path; }

Predictor Predictor::load(const std::filesystem::path& path) {
  return from_file(read_model_file(path), path, path.string());
}

Predictor Predictor::from_file(LoadedModelFile f, const std::filesystem::path& path) {
  return from_file(std::move(f), path, path.string());
}

Predictor Predictor::from_file(LoadedModelFile f, const std::filesystem::path& path,
                               const std::string& what) {
  Predictor p;
  p.impl_->path = path;
  p.impl_->info = std::move(f.info);
  const ModelInfo& info = p.impl_->info;
  for (std::size_t i = 0; i < f.members.size(); ++i)
    p.impl_->members.push_back(
        from_file(std::move(f.members[i]), path, fmt::format("{} (member {})", what, i)));
  if (info.is_ensemble()) return p;
  if (info.is_forest()) {
    // The clip statistic the forest was fit on: recorded with the training options.
    const std::string features = info.train_config.value("rf_features", std::string("mean"));
    p.impl_->rf =
        models::RandomForestBR::from_blobs(f.blobs, info.spec.num_classes, features, what);
  } else {
    try {
      p.impl_->model = models::make_model(info.spec);
    } catch (const Error& e) {
      fail("model: {}: cannot build the stored model: {}", what, e.what());
    }
    const auto declared = tensor_shapes(*p.impl_->model);
    load_weights(*p.impl_->model, f.blobs.at("weights.pt"), what);
    check_weight_shapes(declared, *p.impl_->model, info.spec, what);
    p.impl_->model->eval();
  }
  return p;
}

void check_compatible(const data::BagDataset& ds, const std::string& what, const std::string& model,
                      std::int64_t dim, std::int64_t max_instances,
                      const std::vector<std::string>& classes, bool require_classes) {
  ds.validate(what);
  check(ds.dim == dim, "{}: features have D = {}, the model expects D = {}", what, ds.dim, dim);
  if (models::requires_fixed_length(model)) {
    check(ds.max_instances == max_instances && ds.fixed_length(),
          "{}: model '{}' needs exactly {} instances in every clip", what, model, max_instances);
  }
  if (require_classes) {
    check(ds.classes == classes,
          "{}: the dataset's {} classes differ from the model's {} classes (names and order must "
          "match; first model class '{}')",
          what, ds.classes.size(), classes.size(), classes.empty() ? "" : classes.front());
  }
}

Predictions Predictor::predict(const data::BagDataset& ds, bool with_instances, int threads,
                               const std::string& what) const {
  const ModelInfo& info = impl_->info;
  check_compatible(ds, what, info.spec.name, info.features.dim, info.features.max_instances,
                   info.classes, /*require_classes=*/false);
  Predictions out;
  out.n = ds.size();
  out.k = ds.max_instances;
  out.c = info.spec.num_classes;
  if (!impl_->members.empty()) return predict_ensemble(ds, with_instances, threads, what);
  if (impl_->rf) {
    out.scores = impl_->rf->predict(ds, threads);
    return out;
  }
  models::setup_torch(threads);
  if (out.n == 0) return out;
  const NeuralOutputs o = run_model(*impl_->model, ds, with_instances);
  auto copy = [](const torch::Tensor& t, std::vector<float>& v) {
    if (!t.defined()) return;
    auto c = t.contiguous();
    v.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  };
  copy(o.clip, out.scores);
  if (with_instances) {
    copy(o.instance, out.instance);
    copy(o.attention, out.attention);
    copy(o.embedding, out.embedding);
    if (o.embedding.defined()) out.embedding_dim = o.embedding.size(1);
  }
  return out;
}

Predictions Predictor::predict_ensemble(const data::BagDataset& ds, bool with_instances,
                                        int threads, const std::string& what) const {
  // The mean of the members' probabilities (and of their per-instance outputs and attention
  // where every member has them), summed in double in member order.
  Predictions out;
  out.n = ds.size();
  out.k = ds.max_instances;
  out.c = impl_->info.spec.num_classes;
  std::vector<double> scores, instance, attention;
  bool all_instance = with_instances, all_attention = with_instances;
  auto add = [](std::vector<double>& sum, const std::vector<float>& v) {
    if (sum.empty()) sum.assign(v.size(), 0.0);
    for (std::size_t i = 0; i < v.size(); ++i) sum[i] += v[i];
  };
  for (const auto& m : impl_->members) {
    const Predictions p = m.predict(ds, with_instances, threads, what);
    add(scores, p.scores);
    all_instance = all_instance && !p.instance.empty();
    all_attention = all_attention && !p.attention.empty();
    if (all_instance) add(instance, p.instance);
    if (all_attention) add(attention, p.attention);
  }
  const double n = static_cast<double>(impl_->members.size());
  auto mean = [n](const std::vector<double>& sum, std::vector<float>& v) {
    v.resize(sum.size());
    for (std::size_t i = 0; i < sum.size(); ++i) v[i] = static_cast<float>(sum[i] / n);
  };
  mean(scores, out.scores);
  if (all_instance) mean(instance, out.instance);
  if (all_attention) mean(attention, out.attention);
  return out;
}

}  // namespace tutti::infer
