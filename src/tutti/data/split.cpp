#include "tutti/data/split.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::data {

namespace {
constexpr int kTrain = 0;
constexpr int kTest = 1;
}  // namespace

SplitIndices stratified_split(const BagDataset& ds, double test_fraction, std::uint64_t seed) {
  check<UsageError>(test_fraction > 0.0 && test_fraction < 1.0,
                    "split: --test-fraction must be in (0, 1), got {}", test_fraction);
  const std::int64_t n = ds.size();
  const std::int64_t c = ds.num_classes();
  check<UsageError>(n >= 2, "split: need at least 2 clips, the dataset has {}", n);

  std::mt19937_64 rng(seed);
  // Positive labels per clip, and clips per label.
  std::vector<std::vector<std::int32_t>> labels_of(static_cast<std::size_t>(n));
  std::vector<std::vector<std::int64_t>> clips_of(static_cast<std::size_t>(c));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < c; ++k)
      if (ds.positive(i, k)) {
        labels_of[i].push_back(static_cast<std::int32_t>(k));
        clips_of[k].push_back(i);
      }

  const double frac[2] = {1.0 - test_fraction, test_fraction};
  double want_total[2] = {n * frac[0], n * frac[1]};
  std::vector<double> want[2];
  for (int s : {kTrain, kTest}) {
    want[s].resize(static_cast<std::size_t>(c));
    for (std::int64_t k = 0; k < c; ++k) want[s][k] = clips_of[k].size() * frac[s];
  }
  std::vector<int> side(static_cast<std::size_t>(n), -1);
  auto assign = [&](std::int64_t i, int s) {
    side[i] = s;
    want_total[s] -= 1.0;
    for (auto k : labels_of[i]) want[s][k] -= 1.0;
  };
  auto pick = [&](double a, double b) {  // side with the larger remaining want; ties at random
    if (a > b) return kTrain;
    if (b > a) return kTest;
    return static_cast<int>(rng() & 1u);
  };

  // Rarest label first (by remaining unassigned positives), as Sechidis et al.
  std::vector<std::int64_t> remaining(static_cast<std::size_t>(c));
  for (std::int64_t k = 0; k < c; ++k) remaining[k] = static_cast<std::int64_t>(clips_of[k].size());
  std::vector<char> done(static_cast<std::size_t>(c), 0);
  for (;;) {
    std::int64_t best = -1;
    for (std::int64_t k = 0; k < c; ++k)
      if (!done[k] && remaining[k] > 0 && (best < 0 || remaining[k] < remaining[best])) best = k;
    if (best < 0) break;
    done[best] = 1;
    std::vector<std::int64_t> order = clips_of[best];
    core::shuffle(order.begin(), order.end(), rng);
    for (auto i : order) {
      if (side[i] >= 0) continue;
      int s = pick(want[kTrain][best], want[kTest][best]);
      if (want[kTrain][best] == want[kTest][best]) s = pick(want_total[kTrain], want_total[kTest]);
      assign(i, s);
      for (auto k : labels_of[i]) --remaining[k];
    }
  }
  // Clips without known positives: by the overall fraction.
  std::vector<std::int64_t> rest;
  for (std::int64_t i = 0; i < n; ++i)
    if (side[i] < 0) rest.push_back(i);
  core::shuffle(rest.begin(), rest.end(), rng);
  for (auto i : rest) assign(i, pick(want_total[kTrain], want_total[kTest]));

  // Repair: every class with >= 2 positives keeps at least one on each side. Move the clip with the
  // fewest other labels (smallest index among equals) from the side that has them all.
  for (std::int64_t k = 0; k < c; ++k) {
    if (clips_of[k].size() < 2) continue;
    for (int s : {kTrain, kTest}) {
      const bool present = std::any_of(clips_of[k].begin(), clips_of[k].end(),
                                       [&](std::int64_t i) { return side[i] == s; });
      if (present) continue;
      std::int64_t move = -1;
      for (auto i : clips_of[k])
        if (move < 0 || labels_of[i].size() < labels_of[move].size()) move = i;
      side[move] = s;
    }
  }

  SplitIndices out;
  for (std::int64_t i = 0; i < n; ++i) (side[i] == kTest ? out.test : out.train).push_back(i);
  check(!out.train.empty() && !out.test.empty(),
        "split: fraction {} leaves one side empty for {} clips", test_fraction, n);
  return out;
}

}  // namespace tutti::data
