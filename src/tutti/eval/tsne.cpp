#include "tutti/eval/tsne.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <limits>
#include <numeric>

#include "tutti/core/error.h"
#include "tutti/core/random.h"

namespace tutti::eval {

namespace {

constexpr double kMachineEpsilon = DBL_EPSILON;  // sklearn's MACHINE_EPSILON
constexpr double kPerplexityTolerance = 1e-5;    // _utils.pyx PERPLEXITY_TOLERANCE
constexpr double kEpsilonDbl = 1e-8;             // _utils.pyx EPSILON_DBL
constexpr int kBinarySearchSteps = 100;
constexpr int kExplorationIterations = 250;  // TSNE._EXPLORATION_N_ITER
constexpr int kIterationCheck = 50;          // TSNE._N_ITER_CHECK
constexpr int kIterationsWithoutProgress = 300;
constexpr double kMinGradNorm = 1e-7;
constexpr double kMinGain = 0.01;

// The first two principal components of x (centered), scaled so that the first has standard
// deviation 1e-4 (sklearn 1.2, issue #18018). Subspace iteration on the D x D covariance.
// Returns false when the data has no spread (caller falls back to random).
bool pca_init(std::span<const float> x, std::int64_t n, std::int64_t d, std::vector<double>& y) {
  if (d < 2) return false;
  std::vector<double> mean(d, 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t k = 0; k < d; ++k) mean[k] += x[i * d + k];
  for (auto& m : mean) m /= static_cast<double>(n);
  std::vector<double> cov(d * d, 0.0), row(d);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t k = 0; k < d; ++k) row[k] = x[i * d + k] - mean[k];
    for (std::int64_t a = 0; a < d; ++a)
      for (std::int64_t b = a; b < d; ++b) cov[a * d + b] += row[a] * row[b];
  }
  for (std::int64_t a = 0; a < d; ++a)
    for (std::int64_t b = 0; b < a; ++b) cov[a * d + b] = cov[b * d + a];
  // Two vectors, orthonormalised after each multiplication (deterministic start).
  std::vector<double> v(2 * d), w(2 * d);
  for (std::int64_t k = 0; k < d; ++k) {
    v[k] = 1.0 + 0.01 * static_cast<double>(k);
    v[d + k] = (k % 2 ? -1.0 : 1.0) * (1.0 + 0.003 * static_cast<double>(k));
  }
  auto orthonormalise = [&](std::vector<double>& u) {
    for (int c = 0; c < 2; ++c) {
      double* a = u.data() + c * d;
      if (c == 1) {
        double dot = 0;
        for (std::int64_t k = 0; k < d; ++k) dot += a[k] * u[k];
        for (std::int64_t k = 0; k < d; ++k) a[k] -= dot * u[k];
      }
      double norm = 0;
      for (std::int64_t k = 0; k < d; ++k) norm += a[k] * a[k];
      norm = std::sqrt(norm);
      if (norm <= 0) return false;
      for (std::int64_t k = 0; k < d; ++k) a[k] /= norm;
    }
    return true;
  };
  if (!orthonormalise(v)) return false;
  for (int it = 0; it < 500; ++it) {
    for (int c = 0; c < 2; ++c)
      for (std::int64_t a = 0; a < d; ++a) {
        double s = 0;
        for (std::int64_t b = 0; b < d; ++b) s += cov[a * d + b] * v[c * d + b];
        w[c * d + a] = s;
      }
    if (!orthonormalise(w)) return false;
    double change = 0;
    for (std::int64_t k = 0; k < 2 * d; ++k) change = std::max(change, std::abs(w[k] - v[k]));
    v.swap(w);
    if (change < 1e-12) break;
  }
  y.assign(static_cast<std::size_t>(n * 2), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (int c = 0; c < 2; ++c) {
      double s = 0;
      for (std::int64_t k = 0; k < d; ++k) s += (x[i * d + k] - mean[k]) * v[c * d + k];
      y[i * 2 + c] = s;
    }
  double m0 = 0, var0 = 0;
  for (std::int64_t i = 0; i < n; ++i) m0 += y[i * 2];
  m0 /= static_cast<double>(n);
  for (std::int64_t i = 0; i < n; ++i) var0 += (y[i * 2] - m0) * (y[i * 2] - m0);
  const double sd0 = std::sqrt(var0 / static_cast<double>(n));  // np.std, ddof = 0
  if (!(sd0 > 0) || !std::isfinite(sd0)) return false;
  for (auto& t : y) t = t / sd0 * 1e-4;
  return true;
}

double objective(std::span<const double> p, std::span<const double> y, std::int64_t n,
                 std::vector<double>* grad, bool compute_error);

// sklearn's _gradient_descent from iteration `it` to `n_iter` (exclusive); returns the last
// iteration index and sets `error` to the last computed KL.
int gradient_descent(std::vector<double>& params, std::span<const double> p, std::int64_t n,
                     int it, int n_iter, int n_iter_without_progress, double momentum,
                     double learning_rate, double& error) {
  std::vector<double> update(params.size(), 0.0), gains(params.size(), 1.0), grad;
  double best_error = std::numeric_limits<double>::max();
  int best_iter = it, i = it;
  error = std::numeric_limits<double>::max();
  for (i = it; i < n_iter; ++i) {
    const bool check_convergence = (i + 1) % kIterationCheck == 0;
    const bool compute_error = check_convergence || i == n_iter - 1;
    const double e = objective(p, params, n, &grad, compute_error);
    if (compute_error) error = e;
    for (std::size_t k = 0; k < params.size(); ++k) {
      if (update[k] * grad[k] < 0.0)
        gains[k] += 0.2;
      else
        gains[k] *= 0.8;
      gains[k] = std::max(gains[k], kMinGain);
      grad[k] *= gains[k];
      update[k] = momentum * update[k] - learning_rate * grad[k];
      params[k] += update[k];
    }
    if (check_convergence) {
      double norm = 0;
      for (const double g : grad) norm += g * g;
      norm = std::sqrt(norm);
      if (error < best_error) {
        best_error = error;
        best_iter = i;
      } else if (i - best_iter > n_iter_without_progress) {
        break;
      }
      if (norm <= kMinGradNorm) break;
    }
  }
  return it >= n_iter ? it : std::min(i, n_iter - 1);  // as the Python loop variable
}

}  // namespace

void TsneConfig::validate() const {
  check<UsageError>(std::isfinite(perplexity) && perplexity > 0,
                    "tsne: perplexity {} must be positive", perplexity);
  check<UsageError>(iterations >= kExplorationIterations,
                    "tsne: iterations {} must be at least {} (the early exaggeration phase)",
                    iterations, kExplorationIterations);
  check<UsageError>(std::isfinite(early_exaggeration) && early_exaggeration >= 1.0,
                    "tsne: early exaggeration {} must be at least 1", early_exaggeration);
  check<UsageError>(std::isfinite(learning_rate) && learning_rate >= 0.0,
                    "tsne: learning rate {} must be positive (0 = auto)", learning_rate);
  check<UsageError>(init == "pca" || init == "random", "tsne: init '{}' is not pca or random",
                    init);
}

core::Json TsneConfig::to_json() const {
  return {{"perplexity", perplexity},
          {"iterations", iterations},
          {"early_exaggeration", early_exaggeration},
          {"learning_rate", learning_rate == 0.0 ? core::Json("auto") : core::Json(learning_rate)},
          {"init", init},
          {"seed", seed},
          {"method", "exact"}};
}

std::vector<double> squared_distances(std::span<const float> x, std::int64_t n, std::int64_t d) {
  check(static_cast<std::int64_t>(x.size()) == n * d, "tsne: {} feature values for N={} x D={}",
        x.size(), n, d);
  std::vector<double> out(static_cast<std::size_t>(n * n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j) {
      double s = 0;
      for (std::int64_t k = 0; k < d; ++k) {
        const double t = static_cast<double>(x[i * d + k]) - x[j * d + k];
        s += t * t;
      }
      out[i * n + j] = out[j * n + i] = s;
    }
  return out;
}

std::vector<double> joint_probabilities(std::span<const double> sqdist, std::int64_t n,
                                        double perplexity) {
  check<UsageError>(std::isfinite(perplexity) && perplexity > 0,
                    "tsne: perplexity {} must be positive", perplexity);
  check(static_cast<std::int64_t>(sqdist.size()) == n * n, "tsne: {} distances for N={}",
        sqdist.size(), n);
  // _binary_search_perplexity on float32 distances, probabilities in double.
  std::vector<double> cond(static_cast<std::size_t>(n * n), 0.0), dist(static_cast<std::size_t>(n));
  const double desired_entropy = std::log(perplexity);
  for (std::int64_t i = 0; i < n; ++i) {
    for (std::int64_t j = 0; j < n; ++j)
      dist[j] = static_cast<double>(static_cast<float>(sqdist[i * n + j]));
    double beta_min = -std::numeric_limits<double>::infinity();
    double beta_max = std::numeric_limits<double>::infinity();
    double beta = 1.0;
    double* row = cond.data() + i * n;
    for (int step = 0; step < kBinarySearchSteps; ++step) {
      double sum_p = 0.0;
      for (std::int64_t j = 0; j < n; ++j)
        if (j != i) {
          row[j] = std::exp(-dist[j] * beta);
          sum_p += row[j];
        }
      if (sum_p == 0.0) sum_p = kEpsilonDbl;
      double sum_disti_p = 0.0;
      for (std::int64_t j = 0; j < n; ++j) {
        row[j] /= sum_p;
        sum_disti_p += dist[j] * row[j];
      }
      const double entropy = std::log(sum_p) + beta * sum_disti_p;
      const double diff = entropy - desired_entropy;
      if (std::abs(diff) <= kPerplexityTolerance) break;
      if (diff > 0.0) {
        beta_min = beta;
        beta = beta_max == std::numeric_limits<double>::infinity() ? beta * 2.0
                                                                   : (beta + beta_max) / 2.0;
      } else {
        beta_max = beta;
        beta = beta_min == -std::numeric_limits<double>::infinity() ? beta / 2.0
                                                                    : (beta + beta_min) / 2.0;
      }
    }
  }
  std::vector<double> p(static_cast<std::size_t>(n * n), 0.0);
  double sum = 0.0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j) {
      p[i * n + j] = cond[i * n + j] + cond[j * n + i];
      sum += p[i * n + j];
    }
  sum = std::max(sum, kMachineEpsilon);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < n; ++j)
      p[i * n + j] = i == j ? 0.0 : std::max(p[i * n + j] / sum, kMachineEpsilon);
  return p;
}

namespace {

double objective(std::span<const double> p, std::span<const double> y, std::int64_t n,
                 std::vector<double>* grad, bool compute_error) {
  check(static_cast<std::int64_t>(p.size()) == n * n && static_cast<std::int64_t>(y.size()) == 2 * n,
        "tsne: kl_divergence: {} probabilities and {} coordinates for N={}", p.size(), y.size(), n);
  // w_ij = (1 + |y_i - y_j|^2)^-1 over the pairs i < j (condensed order), sum over pairs.
  std::vector<double> w(static_cast<std::size_t>(n * (n - 1) / 2));
  double sum_w = 0.0;
  std::size_t idx = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j, ++idx) {
      const double dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1];
      w[idx] = 1.0 / (1.0 + dx * dx + dy * dy);
      sum_w += w[idx];
    }
  double kl = 0.0;
  if (grad) grad->assign(static_cast<std::size_t>(2 * n), 0.0);
  idx = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = i + 1; j < n; ++j, ++idx) {
      const double q = std::max(w[idx] / (2.0 * sum_w), kMachineEpsilon);
      const double pij = p[i * n + j];
      if (compute_error) kl += pij * std::log(std::max(pij, kMachineEpsilon) / q);
      if (grad) {
        const double f = 4.0 * (pij - q) * w[idx];  // c = 2 (dof + 1) / dof = 4
        const double gx = f * (y[2 * i] - y[2 * j]), gy = f * (y[2 * i + 1] - y[2 * j + 1]);
        (*grad)[2 * i] += gx;
        (*grad)[2 * i + 1] += gy;
        (*grad)[2 * j] -= gx;
        (*grad)[2 * j + 1] -= gy;
      }
    }
  return compute_error ? 2.0 * kl : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

double kl_divergence(std::span<const double> p, std::span<const double> y, std::int64_t n,
                     std::vector<double>* grad) {
  return objective(p, y, n, grad, true);
}

TsneResult tsne(std::span<const float> features, std::int64_t n, std::int64_t d,
                const TsneConfig& config) {
  config.validate();
  check<UsageError>(n >= 2, "tsne: {} points; t-SNE needs at least 2", n);
  check<UsageError>(config.perplexity < static_cast<double>(n),
                    "tsne: perplexity {} must be less than the number of points ({})",
                    config.perplexity, n);
  for (const float v : features) check(std::isfinite(v), "tsne: features contain NaN or infinity");
  TsneResult r;
  r.n = n;
  r.learning_rate = config.learning_rate > 0
                        ? config.learning_rate
                        : std::max(static_cast<double>(n) / config.early_exaggeration / 4.0, 50.0);
  std::vector<double> p = joint_probabilities(squared_distances(features, n, d), n, config.perplexity);

  std::vector<double> y;
  if (config.init != "pca" || !pca_init(features, n, d, y)) {
    std::mt19937_64 rng(config.seed);
    y.resize(static_cast<std::size_t>(2 * n));
    for (auto& v : y) v = 1e-4 * core::standard_normal(rng);
  }
  for (auto& v : p) v *= config.early_exaggeration;
  double error = 0;
  int it = gradient_descent(y, p, n, 0, kExplorationIterations, kExplorationIterations, 0.5,
                            r.learning_rate, error);
  for (auto& v : p) v /= config.early_exaggeration;
  if (it < kExplorationIterations || config.iterations > kExplorationIterations)
    it = gradient_descent(y, p, n, it + 1, config.iterations, kIterationsWithoutProgress, 0.8,
                          r.learning_rate, error);
  r.iterations_run = std::min(it + 1, config.iterations);
  (void)error;  // sklearn reports the KL before the last update; we report the final one
  r.kl_divergence = kl_divergence(p, y, n, nullptr);
  r.embedding = std::move(y);
  return r;
}

double trustworthiness(std::span<const float> x, std::int64_t d, std::span<const double> y,
                       std::int64_t e, std::int64_t n, std::int64_t k) {
  check<UsageError>(k >= 1 && static_cast<double>(k) < static_cast<double>(n) / 2.0,
                    "trustworthiness: n_neighbors {} must be in [1, N/2) for N={}", k, n);
  check(static_cast<std::int64_t>(x.size()) == n * d && static_cast<std::int64_t>(y.size()) == n * e,
        "trustworthiness: sizes do not match N={}", n);
  const auto dx = squared_distances(x, n, d);
  std::vector<std::int64_t> order(static_cast<std::size_t>(n)), rank(static_cast<std::size_t>(n));
  std::vector<double> de(static_cast<std::size_t>(n));
  double t = 0.0;
  for (std::int64_t i = 0; i < n; ++i) {
    // Rank (1-based) of every j among i's neighbours in the input space (i itself last).
    std::iota(order.begin(), order.end(), 0);
    auto key = [&](std::int64_t j) {
      return j == i ? std::numeric_limits<double>::infinity() : dx[i * n + j];
    };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return key(a) < key(b); });
    for (std::int64_t r = 0; r < n; ++r) rank[order[r]] = r + 1;
    // k nearest neighbours of i in the embedding (excluding i).
    for (std::int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (std::int64_t c = 0; c < e; ++c) s += (y[i * e + c] - y[j * e + c]) * (y[i * e + c] - y[j * e + c]);
      de[j] = j == i ? std::numeric_limits<double>::infinity() : s;
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](std::int64_t a, std::int64_t b) {
                        return de[a] < de[b] || (de[a] == de[b] && a < b);
                      });
    for (std::int64_t r = 0; r < k; ++r) t += std::max<std::int64_t>(rank[order[r]] - k, 0);
  }
  const double nn = static_cast<double>(n), kk = static_cast<double>(k);
  return 1.0 - t * (2.0 / (nn * kk * (2.0 * nn - 3.0 * kk - 1.0)));
}

TsnePoints single_label_points(const data::BagDataset& ds, std::int64_t max_points,
                               std::uint64_t seed, const std::string& what) {
  check<UsageError>(max_points >= 2, "tsne: max points {} must be at least 2", max_points);
  TsnePoints pts;
  std::vector<std::int64_t> rows, cls;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    std::int64_t count = 0, which = -1;
    for (std::int64_t c = 0; c < ds.num_classes(); ++c)
      if (ds.positive(i, c)) {
        ++count;
        which = c;
      }
    if (count == 0) {
      ++pts.omitted_none;
    } else if (count > 1) {
      ++pts.omitted_multi;
    } else {
      rows.push_back(i);
      cls.push_back(which);
    }
  }
  pts.single_label = static_cast<std::int64_t>(rows.size());
  check(!rows.empty(),
        "{}: no clip with exactly one positive class among {} clips ({} with several, {} with "
        "none); t-SNE colours clips by their one class",
        what, ds.size(), pts.omitted_multi, pts.omitted_none);
  std::vector<std::int64_t> pick(rows.size());
  std::iota(pick.begin(), pick.end(), 0);
  if (static_cast<std::int64_t>(rows.size()) > max_points) {
    std::mt19937_64 rng(seed);
    for (std::int64_t s = 0; s < max_points; ++s) {
      const auto r = s + static_cast<std::int64_t>(core::uniform_index(
                             rng, static_cast<std::uint64_t>(pick.size() - s)));
      std::swap(pick[s], pick[r]);
    }
    pick.resize(static_cast<std::size_t>(max_points));
    std::sort(pick.begin(), pick.end());
    pts.subsampled_out = pts.single_label - max_points;
  }
  for (const auto j : pick) {
    pts.rows.push_back(rows[j]);
    pts.labels.push_back(ds.classes[cls[j]]);
  }
  return pts;
}

}  // namespace tutti::eval
