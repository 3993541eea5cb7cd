// Test-time instance noise: replace real instances by instances of a noise pool.
//
//   auto pool = tutti::data::load_bags("noise-pool.npz");
//   tutti::data::InstanceNoise noise{.probability = 0.1, .seed = 0};
//   tutti::data::NoiseStats stats;
//   auto noisy = tutti::data::add_instance_noise(test, pool, noise, "test.npz", "noise-pool.npz",
//                                                &stats);
//
// Each real instance (t < n_instances[i]) of each clip is replaced, independently with
// probability p, by an instance drawn uniformly from all real instances of the pool (with
// replacement). Padding, n_instances and the clip labels are unchanged; strong labels (Y_instance)
// of a replaced instance are cleared (the noise holds no instrument).
//
// The draws are coupled across p: for every instance, in row order, one uniform u and one pool
// index are drawn whatever p is, and the instance is replaced when u < p. So with one seed, the
// instances replaced at p = 0.1 are a subset of those at p = 0.2, replaced by the same pool
// instances, and the drop between noise levels is not blurred by a different random draw.
// std::mt19937_64 with portable draws (core/random.h): the same on every machine.
//
// Throws tutti::UsageError for p outside [0, 1] (or NaN); tutti::Error naming both files when the
// pool's feature dimension or type differ from the data's, or the pool has no real instance.
#pragma once

#include <cstdint>
#include <string>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::data {

struct InstanceNoise {
  double probability = 0.0;  // per real instance, in [0, 1]
  std::uint64_t seed = 0;
  void validate() const;
};

struct NoiseStats {
  std::int64_t instances = 0;       // real instances of the data
  std::int64_t replaced = 0;        // of them replaced
  std::int64_t pool_clips = 0;      // clips of the pool
  std::int64_t pool_instances = 0;  // real instances of the pool
  core::Json to_json() const;       // {"instances", "replaced", "pool_clips", "pool_instances"}
};

BagDataset add_instance_noise(const BagDataset& data, const BagDataset& pool,
                              const InstanceNoise& noise, const std::string& data_name = "data",
                              const std::string& pool_name = "noise pool",
                              NoiseStats* stats = nullptr);

}  // namespace tutti::data
