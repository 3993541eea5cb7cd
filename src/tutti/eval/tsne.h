// Exact t-SNE (van der Maaten & Hinton, "Visualizing Data using t-SNE", JMLR 2008), following
// scikit-learn 1.2's TSNE(method="exact") step by step, torch-free. O(N^2) memory and time per
// iteration, so callers cap N (tutti tsne: --max-points, default 2000).
//
//   tutti::eval::TsneConfig cfg;             // perplexity 30, 1000 iterations, PCA init, seed 0
//   auto r = tutti::eval::tsne(features, n, d, cfg);   // features [N, D] row-major
//   // r.embedding [N, 2], r.kl_divergence, r.iterations_run, r.learning_rate
//
// The steps, each as scikit-learn (sklearn/manifold/_t_sne.py, _utils.pyx):
// - squared Euclidean distances, rounded to float32 as sklearn does before the search;
// - per point, a binary search of the Gaussian precision beta (100 steps at most, tolerance 1e-5
//   on the entropy in nats) so that the conditional distribution's perplexity is `perplexity`;
// - P = (P_cond + P_cond^T) / sum, floored at DBL_EPSILON;
// - Student-t (1 degree of freedom) similarities Q, objective KL(P || Q), gradient
//   4 sum_j (p_ij - q_ij)(1 + |y_i - y_j|^2)^-1 (y_i - y_j);
// - gradient descent with momentum and per-parameter gains (+0.2 / *0.8, at least 0.01): 250
//   iterations with P exaggerated by 12 and momentum 0.5, then momentum 0.8 up to `iterations`;
//   every 50 iterations the KL is checked, and a phase stops after 250 (phase 1) / 300 (phase 2)
//   iterations without progress or when the gradient norm is below 1e-7; the gains and the
//   momentum buffer restart with phase 2 (sklearn calls _gradient_descent twice);
// - learning rate "auto": max(N / early_exaggeration / 4, 50).
// Initialisation: "pca" (sklearn 1.2's default: the first two principal components, scaled so
// the first has standard deviation 1e-4) or "random" (N(0, 1e-4^2), seeded). Our random numbers
// are not numpy's, so embeddings match sklearn in quality, not coordinate by coordinate; the
// deterministic parts (P, KL, gradient, trustworthiness) are tested against sklearn to 1e-6.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/data/bag_dataset.h"

namespace tutti::eval {

struct TsneConfig {
  double perplexity = 30.0;          // > 0 and < N
  int iterations = 1000;             // total, >= 250 (the early exaggeration phase), as sklearn
  double early_exaggeration = 12.0;  // >= 1
  double learning_rate = 0.0;        // 0 = "auto": max(N / early_exaggeration / 4, 50)
  std::string init = "pca";          // "pca" or "random"
  std::uint64_t seed = 0;            // random init (and nothing else)

  void validate() const;  // tutti::UsageError for values out of range
  core::Json to_json() const;
};

struct TsneResult {
  std::int64_t n = 0;
  std::vector<double> embedding;  // [N, 2]
  double kl_divergence = 0.0;     // KL(P || Q) at the end (P not exaggerated)
  int iterations_run = 0;         // the last iteration's number + 1
  double learning_rate = 0.0;     // the one used
};

// [N, D] row-major -> [N, N] squared Euclidean distances (computed in double).
std::vector<double> squared_distances(std::span<const float> x, std::int64_t n, std::int64_t d);

// sklearn's _joint_probabilities as a full symmetric [N, N] matrix (off-diagonal entries floored
// at DBL_EPSILON, zero diagonal). sqdist: [N, N] squared distances. Throws tutti::UsageError
// unless 0 < perplexity.
std::vector<double> joint_probabilities(std::span<const double> sqdist, std::int64_t n,
                                        double perplexity);

// sklearn's _kl_divergence (degrees of freedom 1, 2 components): KL(P || Q) over the pairs i < j
// with Q floored at DBL_EPSILON, and its gradient [N, 2] into `grad` when not null.
// p: [N, N] as joint_probabilities; y: [N, 2].
double kl_divergence(std::span<const double> p, std::span<const double> y, std::int64_t n,
                     std::vector<double>* grad);

// The whole optimisation. features: [N, D] row-major. Throws tutti::UsageError when N < 2 or
// perplexity >= N (sklearn's rule), tutti::Error for non-finite features.
TsneResult tsne(std::span<const float> features, std::int64_t n, std::int64_t d,
                const TsneConfig& config);

// sklearn.manifold.trustworthiness with the Euclidean metric: how far the k nearest neighbours
// in the embedding are, in rank, from the k nearest in the input (1 = all preserved).
// x [N, D], y [N, E]; throws tutti::UsageError unless 1 <= k < N / 2.
double trustworthiness(std::span<const float> x, std::int64_t d, std::span<const double> y,
                       std::int64_t e, std::int64_t n, std::int64_t k);

// The clips a t-SNE plot shows: those with exactly one known positive class (their colour), at
// most max_points of them (a seeded uniform subsample, ascending row order, when there are more).
struct TsnePoints {
  std::vector<std::int64_t> rows;    // into the dataset
  std::vector<std::string> labels;   // the class of each row
  std::int64_t single_label = 0;     // clips with exactly one positive class
  std::int64_t omitted_multi = 0;    // clips with two or more
  std::int64_t omitted_none = 0;     // clips with none
  std::int64_t subsampled_out = 0;   // single-label clips left out by the cap
};
// Throws tutti::Error "<what>: no clip with exactly one positive class ..." when there is none.
TsnePoints single_label_points(const data::BagDataset& ds, std::int64_t max_points,
                               std::uint64_t seed, const std::string& what = "dataset");

}  // namespace tutti::eval
