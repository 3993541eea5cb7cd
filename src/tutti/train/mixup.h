// Mixup of bags (Zhang, Cisse, Dauphin & Lopez-Paz, "mixup: Beyond Empirical Risk Minimization",
// ICLR 2018), for weakly labeled bags of instances. Torch-free.
//
//   const auto draw = tutti::train::draw_mixup(0.2, seed, epoch, step, batch_size);
//   data::BagDataset mixed = tutti::train::mix_bags(train, rows, draw, soft_targets);
//
// Clip b of a batch is mixed with clip partner[b] of the same batch (a permutation, as the
// paper's code mixes a batch with a shuffled copy of itself) by one weight lambda ~ Beta(A, A)
// per batch:
// - instances: the first min(n_b, n_p) instances (the instances both bags have), each
//   lambda x_b,t + (1 - lambda) x_p,t, as float32 (uint8 features scaled by 1/255 first, as the
//   models read them); the instances only one of the two bags has are dropped;
// - targets: lambda t_b + (1 - lambda) t_p, where t is the target the clip trains on unmixed (its
//   relevance thresholded at 0.5, or the relevance itself with soft targets, e.g. a teacher's);
// - known labels: a mixed label is known only where both clips' labels are known (an unknown
//   label has no target to mix).
// The draws depend only on (seed, epoch, step), so a resumed run mixes as an uninterrupted one.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tutti/data/bag_dataset.h"

namespace tutti::train {

struct MixupDraw {
  double lambda = 1;                  // the weight of clip b (1 - lambda: its partner's)
  std::vector<std::int64_t> partner;  // a permutation of 0..B-1
};

// The draw of step `step` (1-based) of epoch `epoch` of a run seeded `seed`: lambda ~ Beta(alpha,
// alpha) (core::beta_variate), partner a uniform permutation (core::shuffle). alpha > 0.
MixupDraw draw_mixup(double alpha, std::uint64_t seed, int epoch, std::size_t step,
                     std::int64_t batch_size);

// The batch of clips `rows` of `ds` mixed by `draw` (draw.partner.size() == rows.size()), as a
// new dataset of rows.size() clips (float32 features, no keys or instance labels). Throws
// tutti::Error when the sizes disagree or a partner index is out of range.
data::BagDataset mix_bags(const data::BagDataset& ds, std::span<const std::int64_t> rows,
                          const MixupDraw& draw, bool soft_targets);

}  // namespace tutti::train
