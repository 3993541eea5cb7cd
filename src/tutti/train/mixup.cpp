#include "tutti/train/mixup.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::train {

namespace {
// The stream of core::derive_seed that mixup draws from (other streams: other uses of a seed).
constexpr std::uint64_t kMixupStream = 0x6d69787570;  // "mixup"
}  // namespace

MixupDraw draw_mixup(double alpha, std::uint64_t seed, int epoch, std::size_t step,
                     std::int64_t batch_size) {
  check(alpha > 0 && batch_size >= 0, "mixup: alpha {} must be > 0 and batch size {} >= 0", alpha,
        batch_size);
  const std::uint64_t index = (static_cast<std::uint64_t>(epoch) << 32) ^ step;
  std::mt19937_64 g(core::derive_seed(seed, index, kMixupStream));
  MixupDraw d;
  d.lambda = core::beta_variate(g, alpha, alpha);
  d.partner.resize(static_cast<std::size_t>(batch_size));
  std::iota(d.partner.begin(), d.partner.end(), std::int64_t{0});
  core::shuffle(d.partner.begin(), d.partner.end(), g);
  return d;
}

data::BagDataset mix_bags(const data::BagDataset& ds, std::span<const std::int64_t> rows,
                          const MixupDraw& draw, bool soft_targets) {
  const auto b = static_cast<std::int64_t>(rows.size());
  check(draw.partner.size() == rows.size(), "mixup: {} partners for a batch of {} clips",
        draw.partner.size(), rows.size());
  const std::int64_t k = ds.max_instances, d = ds.dim, c = ds.num_classes();
  auto out = data::BagDataset::zeros(b, k, d, ds.classes, data::FeatureType::kFloat32);
  out.embedder = ds.embedder;
  const auto lam = static_cast<float>(draw.lambda);
  std::vector<float> xa(static_cast<std::size_t>(d)), xb(static_cast<std::size_t>(d));
  auto target = [&](std::int64_t i, std::int64_t j) {
    const float y = ds.label(i, j);
    return soft_targets ? y : y >= 0.5f ? 1.0f : 0.0f;
  };
  for (std::int64_t m = 0; m < b; ++m) {
    const std::int64_t p = draw.partner[static_cast<std::size_t>(m)];
    check(p >= 0 && p < b, "mixup: partner {} of clip {} outside the batch of {}", p, m, b);
    const std::int64_t i = rows[static_cast<std::size_t>(m)];
    const std::int64_t j = rows[static_cast<std::size_t>(p)];
    check(i >= 0 && i < ds.size() && j >= 0 && j < ds.size(),
          "mixup: row {} or {} outside the dataset of {} clips", i, j, ds.size());
    const std::int32_t n = std::min(ds.n_instances[i], ds.n_instances[j]);
    out.n_instances[m] = n;
    for (std::int64_t t = 0; t < n; ++t) {
      ds.instance_features(i, t, xa);
      ds.instance_features(j, t, xb);
      float* o = out.x_f32.data() + (m * k + t) * d;
      for (std::int64_t e = 0; e < d; ++e) o[e] = lam * xa[e] + (1 - lam) * xb[e];
    }
    for (std::int64_t e = 0; e < c; ++e) {
      const bool known = ds.known(i, e) && ds.known(j, e);
      out.y_mask[m * c + e] = known ? 1 : 0;
      out.y_true[m * c + e] = known ? lam * target(i, e) + (1 - lam) * target(j, e) : 0.5f;
    }
  }
  return out;
}

}  // namespace tutti::train
