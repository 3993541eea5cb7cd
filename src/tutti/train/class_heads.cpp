#include "tutti/train/class_heads.h"

#include "tutti/core/error.h"

namespace tutti::train {

models::BagModel keep_first_classes(models::BagModelImpl& model, std::int64_t classes) {
  const models::ModelSpec& from = model.spec();
  check(classes > 0 && classes <= from.num_classes,
        "keep classes: {}: cannot keep {} of its {} classes", from.name, classes, from.num_classes);
  models::ModelSpec spec = from;
  spec.num_classes = classes;
  models::BagModel out = models::make_model(spec);
  torch::NoGradGuard ng;
  const auto copy = [&](const std::string& name, const torch::Tensor& src, torch::Tensor& dst) {
    if (src.sizes() == dst.sizes()) {
      dst.copy_(src);
      return;
    }
    const bool rows = src.dim() >= 1 && src.size(0) == from.num_classes && dst.size(0) == classes &&
                      src.sizes().slice(1) == dst.sizes().slice(1);
    check(rows,
          "keep classes: {}: tensor '{}' depends on the classes other than by its rows ({} vs {}); "
          "this model cannot drop auxiliary classes",
          from.name, name, c10::str(src.sizes()), c10::str(dst.sizes()));
    dst.copy_(src.slice(0, 0, classes));
  };
  auto src_p = model.named_parameters(true), src_b = model.named_buffers(true);
  auto dst_p = out->named_parameters(true), dst_b = out->named_buffers(true);
  check(src_p.size() == dst_p.size() && src_b.size() == dst_b.size(),
        "keep classes: {}: the model's tensors depend on the number of classes", from.name);
  for (auto& item : dst_p) copy(item.key(), src_p[item.key()], item.value());
  for (auto& item : dst_b) copy(item.key(), src_b[item.key()], item.value());
  out->eval();
  return out;
}

}  // namespace tutti::train
