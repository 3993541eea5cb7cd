#include "tutti/models/bag_tensors.h"

namespace tutti::models {

BagTensors to_tensors(const data::BagDataset& ds, bool features) {
  const std::int64_t n = ds.size(), k = ds.max_instances, d = ds.dim, c = ds.num_classes();
  BagTensors t;
  if (!features) {
    // x stays undefined.
  } else if (ds.feature_type == data::FeatureType::kUint8) {
    auto u8 = torch::from_blob(const_cast<std::uint8_t*>(ds.x_u8.data()), {n, k, d}, torch::kUInt8);
    t.x = u8.to(torch::kFloat32).div_(255.0f);
  } else {
    t.x = torch::from_blob(const_cast<float*>(ds.x_f32.data()), {n, k, d}, torch::kFloat32)
              .clone();
  }
  auto counts = torch::from_blob(const_cast<std::int32_t*>(ds.n_instances.data()), {n},
                                 torch::kInt32)
                    .to(torch::kInt64);
  t.mask = torch::arange(k, torch::kInt64).unsqueeze(0).lt(counts.unsqueeze(1));
  auto y = torch::from_blob(const_cast<float*>(ds.y_true.data()), {n, c}, torch::kFloat32);
  t.y = y.ge(0.5f).to(torch::kFloat32);
  t.y_mask = torch::from_blob(const_cast<std::uint8_t*>(ds.y_mask.data()), {n, c}, torch::kUInt8)
                 .ne(0)
                 .to(torch::kFloat32);
  return t;
}

BagSource BagSource::of(const data::BagDataset& ds) {
  BagSource s;
  s.n = ds.size();
  s.k = ds.max_instances;
  s.d = ds.dim;
  s.c = ds.num_classes();
  if (ds.feature_type == data::FeatureType::kUint8)
    s.x_u8 = ds.x_u8.data();
  else
    s.x_f32 = ds.x_f32.data();
  s.n_instances = ds.n_instances.data();
  s.y_true = ds.y_true.data();
  s.y_mask = ds.y_mask.data();
  return s;
}

BagTensors select_rows(const BagTensors& t, const torch::Tensor& idx) {
  return {t.x.defined() ? t.x.index_select(0, idx) : torch::Tensor(), t.mask.index_select(0, idx), t.y.index_select(0, idx),
          t.y_mask.index_select(0, idx)};
}

torch::Tensor masked_bce_sum(const torch::Tensor& p, const torch::Tensor& y,
                             const torch::Tensor& y_mask) {
  // torch's BCE clamps log(p) at -100 like PyTorch, so p = 0 or 1 stays finite.
  auto bce = torch::binary_cross_entropy(p, y, {}, at::Reduction::None);
  return (bce * y_mask).sum();
}

}  // namespace tutti::models
