#include "tutti/data/noise.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "tutti/core/error.h"
#include "tutti/core/random.h"
#include "tutti/data/concat.h"

namespace tutti::data {

void InstanceNoise::validate() const {
  check<UsageError>(std::isfinite(probability) && probability >= 0.0 && probability <= 1.0,
                    "noise: instance replacement probability {} is outside [0, 1]", probability);
}

core::Json NoiseStats::to_json() const {
  return {{"instances", instances},
          {"replaced", replaced},
          {"pool_clips", pool_clips},
          {"pool_instances", pool_instances}};
}

BagDataset add_instance_noise(const BagDataset& data, const BagDataset& pool,
                              const InstanceNoise& noise, const std::string& data_name,
                              const std::string& pool_name, NoiseStats* stats) {
  noise.validate();
  check_same_features(data, pool, data_name, pool_name);
  // Pool instance q lives in clip upper_bound(ends, q) - 1 of the cumulative counts.
  std::vector<std::int64_t> ends(static_cast<std::size_t>(pool.size()));
  std::int64_t total = 0;
  for (std::int64_t j = 0; j < pool.size(); ++j) ends[j] = total += pool.n_instances[j];
  check(total > 0, "noise: {}: the noise pool has no instances ({} clips)", pool_name,
        pool.size());

  BagDataset out = data;
  NoiseStats st;
  st.pool_clips = pool.size();
  st.pool_instances = total;
  std::mt19937_64 rng(noise.seed);
  const std::int64_t d = data.dim, c = data.num_classes();
  for (std::int64_t i = 0; i < data.size(); ++i) {
    for (std::int64_t t = 0; t < data.n_instances[i]; ++t) {
      ++st.instances;
      const double u = core::uniform01(rng);
      const auto q = static_cast<std::int64_t>(core::uniform_index(rng, static_cast<std::uint64_t>(total)));
      if (!(u < noise.probability)) continue;
      const auto j = std::upper_bound(ends.begin(), ends.end(), q) - ends.begin();
      const std::int64_t s = q - (j > 0 ? ends[j - 1] : 0);
      const auto from = static_cast<std::size_t>((j * pool.max_instances + s) * d);
      const auto to = static_cast<std::size_t>((i * data.max_instances + t) * d);
      if (data.feature_type == FeatureType::kUint8)
        std::copy_n(pool.x_u8.begin() + from, d, out.x_u8.begin() + to);
      else
        std::copy_n(pool.x_f32.begin() + from, d, out.x_f32.begin() + to);
      if (out.has_instance_labels())
        std::fill_n(out.y_instance.begin() + static_cast<std::size_t>((i * data.max_instances + t) * c), c, 0);
      ++st.replaced;
    }
  }
  if (stats) *stats = st;
  return out;
}

}  // namespace tutti::data
