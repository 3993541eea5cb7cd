#include "tutti/infer/run_model.h"

#include <numeric>
#include <optional>

#include "tutti/core/error.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/models/kernels/att_fused.h"

namespace tutti::infer {

NeuralOutputs run_model(models::BagModelImpl& model, const data::BagDataset& ds,
                        bool with_instances, std::int64_t chunk) {
  torch::InferenceMode guard;
  model.eval();
  const std::int64_t n = ds.size(), k = ds.max_instances;
  if (models::AttFused::supports(model) && model.parameters().front().device().is_cpu()) {
    // The fused eval forward, straight from the dataset into the outputs (clips without
    // instances score 0).
    models::AttFused fused(model, 0);
    const std::int64_t c = model.spec().num_classes;
    NeuralOutputs out;
    out.clip = torch::zeros({n, c});
    models::AttFused::EvalOut eo;
    eo.clip = out.clip.data_ptr<float>();
    if (with_instances) {
      out.instance = torch::zeros({n, k, c});
      out.attention = torch::zeros({n, k, c});
      out.embedding = torch::zeros({n, ds.dim});
      eo.instance = out.instance.data_ptr<float>();
      eo.attention = out.attention.data_ptr<float>();
      eo.embedding = out.embedding.data_ptr<float>();
    }
    fused.eval_rows(models::BagSource::of(ds), 0, n, eo);
    return out;
  }
  const auto rows = data::nonempty_rows(ds);
  const bool all = rows.size() == static_cast<std::size_t>(n);
  std::optional<data::BagDataset> sub;
  if (!all) sub = ds.subset(rows);
  const data::BagDataset& src = sub ? *sub : ds;
  const std::int64_t m = src.size();
  const std::int64_t cm = model.spec().num_classes;
  NeuralOutputs out;
  out.clip = torch::zeros({n, cm});
  if (with_instances) {
    out.instance = torch::zeros({n, k, cm});
    out.attention = torch::zeros({n, k, cm});
  }
  bool has_att = false, has_inst = false;
  torch::Tensor row_idx =
      torch::from_blob(const_cast<std::int64_t*>(rows.data()), {m}, torch::kInt64);
  for (std::int64_t s = 0; s < m; s += chunk) {
    const std::int64_t e = std::min(m, s + chunk);
    // Convert one chunk at a time to bound memory.
    const std::vector<std::int64_t> local = [&] {
      std::vector<std::int64_t> v(static_cast<std::size_t>(e - s));
      std::iota(v.begin(), v.end(), s);
      return v;
    }();
    models::BagTensors t = models::to_tensors(src.subset(local));
    auto o = model.forward(t.x, t.mask);
    auto idx = row_idx.slice(0, s, e);
    out.clip.index_copy_(0, idx, o.clip);
    if (with_instances) {
      if (o.instance.defined()) {
        has_inst = true;
        out.instance.index_copy_(0, idx, o.instance);
      }
      if (o.attention.defined()) {
        has_att = true;
        out.attention.index_copy_(0, idx, o.attention);
      }
      if (o.embedding.defined()) {
        if (!out.embedding.defined()) out.embedding = torch::zeros({n, o.embedding.size(1)});
        out.embedding.index_copy_(0, idx, o.embedding);
      }
    }
  }
  if (!has_inst) out.instance = torch::Tensor();
  if (!has_att) out.attention = torch::Tensor();
  return out;
}

void load_weights(models::BagModelImpl& model, const std::vector<std::uint8_t>& bytes,
                  const std::string& what) {
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    model.load(ar);
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    fail("model: {}: weights.pt cannot be loaded into a '{}' model: {}", what, model.spec().name,
         msg.substr(0, msg.find('\n')));
  }
}

}  // namespace tutti::infer
