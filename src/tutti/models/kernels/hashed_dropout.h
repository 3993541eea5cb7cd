// Counter-based dropout for the autograd models (MMGAT), and the hash it shares with the fused
// ATT engine.
//
// torch::dropout draws one Bernoulli variate per element from the global CPU generator: serial,
// one locked random64() call each. In MMGAT training that was 13 % of a one-thread epoch and more
// of a two-thread one (docs/benchmarks.md). Here one 64-bit base is drawn from torch's generator
// per call (so torch::manual_seed still makes runs reproducible) and element q is kept when a
// 16-bit lane of splitmix64(base + (q & ~3)) is below the keep threshold: four elements per hash,
// filled in parallel, independent of the thread count. The mask is a constant factor, so autograd
// differentiates x * mask as dropout's backward.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "tutti/core/random.h"

namespace tutti::models {

using core::splitmix64;  // the hash of the keep rule (core/random.h)

// The keep rule below, shared with the fused ATT engine's ReLU + dropout (train/att_fused.cpp).
// Element q is kept when 16-bit lane q & 3 of splitmix64(base + (q & ~3)) is below keep_below.
inline bool hash_kept(std::uint64_t base, std::int64_t q, std::uint32_t keep_below) {
  const std::int64_t grp = q & ~std::int64_t{3};
  const std::uint64_t bits = splitmix64(base + static_cast<std::uint64_t>(grp)) >> (16 * (q - grp));
  return static_cast<std::uint32_t>(bits & 0xFFFF) < keep_below;
}
// The four lanes for elements q .. q + 3 (q a multiple of 4), as a GCC vector.
using HashLanes = std::uint32_t __attribute__((vector_size(16)));
inline HashLanes hash_lanes(std::uint64_t base, std::int64_t q) {
  const std::uint64_t b = splitmix64(base + static_cast<std::uint64_t>(q));
  return HashLanes{static_cast<std::uint32_t>(b & 0xFFFF),
                   static_cast<std::uint32_t>((b >> 16) & 0xFFFF),
                   static_cast<std::uint32_t>((b >> 32) & 0xFFFF),
                   static_cast<std::uint32_t>(b >> 48)};
}

// mask[q - q0] = keep_scale when the 16 bits [16 (q & 3), 16 (q & 3) + 16) of splitmix64(base +
// (q & ~3)) are below keep_below, else 0, for q in [q0, q1) (keep probability keep_below / 65536).
void dropout_mask(float* mask, std::uint64_t base, std::int64_t q0, std::int64_t q1,
                  std::uint32_t keep_below, float keep_scale);

// What hashed_dropout uses: a base drawn from torch's default generator, and the threshold and
// scale for dropout probability p (keep 1 - p rounded to a multiple of 1/65536).
std::uint64_t draw_dropout_base();
struct DropoutKeep {
  std::uint32_t below = 65536;
  float scale = 1.0f;
};
DropoutKeep dropout_keep(double p);

// Data-parallel training (train/data_parallel.h) keys the masks by the global batch: this
// process's share of it starts at clip `clip_offset` and real instance `instance_offset`. The
// trainer sets it around each forward (thread-local; inactive = one process). A dropout over
// clip-major rows ([B, ...]) or over the gathered real instances ([M, ...]) then shifts its base
// by the elements before the share, so that every element gets the mask it has when one process
// trains on the whole global batch.
struct DropoutShare {
  bool active = false;
  std::int64_t clip_offset = 0, instance_offset = 0;
};
DropoutShare& dropout_share();
enum class DropoutRows { kClips, kInstances };
// The base shift for a tensor of `rows` rows of `row_elements` elements each (0 when inactive).
// Throws tutti::Error when a shift would break the four-lane groups (row_elements % 4 != 0).
std::uint64_t dropout_share_shift(DropoutRows kind, std::int64_t row_elements);

// Inverted dropout of a float32 CPU tensor with that mask (keep probability 1 - p rounded to a
// multiple of 1/65536, kept values scaled by 1 / (1 - p)); x itself when !training or p == 0.
// Other tensors (CUDA, double) go to torch::dropout. `rows` says what x's first dimension is (for
// a DropoutShare).
torch::Tensor hashed_dropout(const torch::Tensor& x, double p, bool training,
                             DropoutRows rows = DropoutRows::kClips);

}  // namespace tutti::models
