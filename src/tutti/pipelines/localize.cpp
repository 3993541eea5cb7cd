#include "tutti/pipelines/localize.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "tutti/core/error.h"
#include "tutti/core/random.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/model_spec.h"

namespace tutti::pipelines {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

LocalizationMethod deterministic(const std::string& name, eval::InstanceReport r) {
  LocalizationMethod m;
  m.name = name;
  m.map_mean = r.mAP;
  m.auc_mean = r.auc;
  m.map_std = m.auc_std = kNaN;
  m.n = 1;
  m.report = std::move(r);
  return m;
}

}  // namespace

void LocalizeOptions::validate() const {
  check<UsageError>(random_draws >= 1, "localize: --draws {} must be >= 1", random_draws);
  check<UsageError>(examples >= 0, "localize: examples {} must be >= 0", examples);
  check<UsageError>(std::isfinite(hop_s) && hop_s > 0, "localize: hop_s {} must be > 0", hop_s);
}

const LocalizationMethod& LocalizationReport::method(const std::string& name) const {
  for (const auto& m : methods)
    if (m.name == name) return m;
  fail("localize: no method '{}' in the report of model '{}'", name, model);
}

bool LocalizationReport::has(const std::string& name) const {
  return std::any_of(methods.begin(), methods.end(),
                     [&](const LocalizationMethod& m) { return m.name == name; });
}

report::RunLocalization LocalizationReport::to_results() const {
  report::RunLocalization r;
  r.model = model;
  r.clips = clips;
  r.positive_pairs = positive_pairs;
  r.positive_rate = positive_rate;
  r.random_draws = random_draws;
  for (const auto& m : methods) {
    report::LocalizationMethodResult out;
    if (m.name == "random") {
      out.mAP = report::Stat{m.map_mean, m.map_std, m.n};
      out.auc = report::Stat{m.auc_mean, m.auc_std, m.n};
    } else {
      out.mAP = report::Stat::number(m.report.mAP);
      out.auc = report::Stat::number(m.report.auc);
      out.skipped = m.report.skipped;
      out.per_class.emplace();
      for (const auto& c : m.report.per_class)
        (*out.per_class)[c.name] = {c.ap, c.auc, c.n_instances, c.n_pos};
    }
    r.methods[m.name] = std::move(out);
  }
  r.examples = examples;
  return r;
}

LocalizationReport localize_predictions(const infer::Predictions& p, const data::BagDataset& truth,
                                        const std::vector<std::string>& model_classes,
                                        const std::string& model_name,
                                        const LocalizeOptions& opts, const std::string& what) {
  opts.validate();
  check(truth.has_instance_labels(),
        "localize: {} has no instance labels (Y_instance); localization needs strongly labeled "
        "data, e.g. the dataset.npz of `tutti synth --embed`",
        what);
  check(model_classes == truth.classes,
        "localize: {}: its classes differ from the model's (same names in the same order needed)",
        what);
  check(p.n == truth.size() && p.k == truth.max_instances && p.c == truth.num_classes(),
        "localize: predictions of shape ({}, {}, {}) do not fit {} ({}, {}, {})", p.n, p.k, p.c,
        what, truth.size(), truth.max_instances, truth.num_classes());
  const auto cells = static_cast<std::size_t>(p.n * p.k * p.c);
  check(!p.instance.empty(),
        "localize: model '{}' has no per-instance outputs (fc and rf cannot localize)",
        model_name);
  check(p.instance.size() == cells, "localize: {} instance outputs, expected {}",
        p.instance.size(), cells);
  check(p.attention.empty() || p.attention.size() == cells,
        "localize: {} attention weights, expected {}", p.attention.size(), cells);

  const std::int64_t n = truth.size(), k = truth.max_instances, c = truth.num_classes();
  std::vector<std::uint8_t> clip_pos(static_cast<std::size_t>(n * c));
  LocalizationReport r;
  r.model = model_name;
  r.clips = n;
  r.random_draws = opts.random_draws;
  std::int64_t inst = 0, active = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t j = 0; j < c; ++j) {
      const bool pos = truth.positive(i, j);
      clip_pos[i * c + j] = pos ? 1 : 0;
      if (!pos) continue;
      ++r.positive_pairs;
      for (std::int64_t t = 0; t < truth.n_instances[i]; ++t) {
        ++inst;
        active += truth.y_instance[(i * k + t) * c + j];
      }
    }
  r.positive_rate = inst > 0 ? static_cast<double>(active) / static_cast<double>(inst) : kNaN;

  auto eval = [&](std::span<const float> s) {
    return eval::evaluate_instances(s, truth.y_instance, truth.n_instances, clip_pos, k,
                                    truth.classes);
  };
  if (!p.attention.empty()) r.methods.push_back(deterministic("attention", eval(p.attention)));
  r.methods.push_back(deterministic("frame", eval(p.instance)));
  if (!p.attention.empty()) {
    std::vector<float> prod(cells);
    for (std::size_t x = 0; x < cells; ++x) prod[x] = p.attention[x] * p.instance[x];
    r.methods.push_back(deterministic("product", eval(prod)));
  }
  r.methods.push_back(deterministic("uniform", eval(std::vector<float>(cells, 0.5f))));

  std::mt19937_64 rng(opts.seed);
  std::vector<float> s(cells);
  std::vector<double> maps, aucs;
  LocalizationMethod rnd;
  rnd.name = "random";
  for (int d = 0; d < opts.random_draws; ++d) {
    for (auto& x : s) x = core::uniform_float01(rng);
    auto rep = eval(s);
    maps.push_back(rep.mAP);
    aucs.push_back(rep.auc);
    if (d == 0) rnd.report = std::move(rep);
  }
  const report::Stat sm = report::mean_std(maps), sa = report::mean_std(aucs);
  rnd.map_mean = sm.mean, rnd.map_std = sm.std, rnd.auc_mean = sa.mean, rnd.auc_std = sa.std;
  rnd.n = opts.random_draws;
  r.methods.push_back(std::move(rnd));
  if (opts.examples > 0) r.examples = localization_examples(p, truth, opts.examples, opts.hop_s);
  return r;
}

LocalizationReport localize(const infer::Predictor& predictor, const data::BagDataset& truth,
                            const LocalizeOptions& opts, const std::string& what) {
  opts.validate();
  const auto& info = predictor.info();
  check(models::has_instance_outputs(info.spec.name),
        "localize: {}: model '{}' has no per-instance outputs (fc and rf cannot localize)",
        predictor.path().string(), info.spec.name);
  check(truth.has_instance_labels(),
        "localize: {} has no instance labels (Y_instance); localization needs strongly labeled "
        "data, e.g. the dataset.npz of `tutti synth --embed`",
        what);
  const infer::Predictions p = predictor.predict(truth, /*with_instances=*/true, opts.threads, what);
  return localize_predictions(p, truth, info.classes, info.spec.name, opts, what);
}

std::vector<report::TimelineExample> localization_examples(const infer::Predictions& p,
                                                           const data::BagDataset& truth, int n,
                                                           double hop_s) {
  std::vector<report::TimelineExample> out;
  if (n <= 0 || !truth.has_instance_labels() || p.instance.empty()) return out;
  const std::int64_t k = truth.max_instances, c = truth.num_classes();
  // Score clips: 2 = >= 2 present classes with one active in part of the clip; 1 = >= 2 present.
  std::vector<std::pair<int, std::int64_t>> order;
  for (std::int64_t i = 0; i < truth.size(); ++i) {
    int present = 0;
    bool partial = false;
    for (std::int64_t j = 0; j < c; ++j) {
      if (!truth.positive(i, j)) continue;
      ++present;
      int act = 0;
      for (std::int64_t t = 0; t < truth.n_instances[i]; ++t)
        act += truth.y_instance[(i * k + t) * c + j];
      if (act > 0 && act < truth.n_instances[i]) partial = true;
    }
    if (present >= 2) order.push_back({partial ? 2 : 1, i});
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t e = 0; e < order.size() && static_cast<int>(e) < n; ++e) {
    const std::int64_t i = order[e].second;
    const std::int64_t ni = truth.n_instances[i];
    report::TimelineExample ex;
    ex.clip = truth.keys[i];
    ex.hop_s = hop_s;
    std::vector<std::string> classes;
    std::vector<std::vector<double>> att;
    std::vector<double> clip_scores;
    std::map<std::string, std::vector<std::array<double, 2>>> segs;
    for (std::int64_t j = 0; j < c; ++j) {
      const float clip_score = p.scores.empty() ? 0.0f : p.score(i, j);
      if (!truth.positive(i, j) && clip_score < 0.5f) continue;
      classes.push_back(truth.classes[j]);
      clip_scores.push_back(clip_score);
      std::vector<double> row, arow;
      std::vector<std::array<double, 2>> runs;
      double start = -1;
      for (std::int64_t t = 0; t < ni; ++t) {
        const auto x = static_cast<std::size_t>((i * k + t) * c + j);
        row.push_back(p.instance[x]);
        if (!p.attention.empty()) arow.push_back(p.attention[x]);
        const bool on = truth.y_instance[x] != 0;
        if (on && start < 0) start = static_cast<double>(t) * hop_s;
        if (!on && start >= 0) {
          runs.push_back({start, static_cast<double>(t) * hop_s});
          start = -1;
        }
      }
      if (start >= 0) runs.push_back({start, static_cast<double>(ni) * hop_s});
      ex.prob.push_back(std::move(row));
      if (!p.attention.empty()) att.push_back(std::move(arow));
      segs[truth.classes[j]] = std::move(runs);
    }
    ex.classes = std::move(classes);
    if (!p.attention.empty()) ex.attention = std::move(att);
    ex.truth = std::move(segs);
    ex.clip_scores = std::move(clip_scores);
    out.push_back(std::move(ex));
  }
  return out;
}

std::map<std::string, report::LocalizationMethodResult> summarize_localization(
    const std::vector<report::RunLocalization>& reports) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> values;
  auto mean = [](const std::optional<report::Stat>& s) { return s ? s->mean : kNaN; };
  for (const auto& r : reports)
    for (const auto& [name, m] : r.methods) {
      auto& v = values[name];
      v.first.push_back(mean(m.mAP));
      v.second.push_back(mean(m.auc));
    }
  std::map<std::string, report::LocalizationMethodResult> out;
  for (const auto& [name, v] : values) {
    out[name].mAP = report::mean_std(v.first);
    out[name].auc = report::mean_std(v.second);
  }
  return out;
}

std::optional<report::LocalizationSection> experiment_localization_section(
    const std::vector<report::Run>& runs, const std::map<std::string, std::string>& skipped) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<report::RunLocalization>> per_model;
  std::map<std::string, std::vector<report::TimelineExample>> examples;
  for (const auto& r : runs) {
    if (!r.localization) continue;
    const auto& m = r.model;
    if (!per_model.count(m)) order.push_back(m);
    const auto& loc = *r.localization;
    per_model[m].push_back(loc);
    if (!examples.count(m) && !loc.examples.empty()) examples[m] = loc.examples;
  }
  if (order.empty()) return std::nullopt;
  report::LocalizationSection section;
  int draws = 0;
  for (const auto& m : order) {
    report::LocalizationModel& e = section.models[m];
    e.methods = summarize_localization(per_model[m]);
    e.runs = static_cast<std::int64_t>(per_model[m].size());
    if (examples.count(m)) e.examples = examples[m];
    draws = per_model[m].front().random_draws;
  }
  std::string text =
      "Instance-level localization on the test set (it has Y_instance): for every class, the "
      "0.96 s instances of the clips where it is present are ranked by each method's score and "
      "compared with the truth (AP and ROC-AUC per class, macro mean; mean ± std over seeds). "
      "attention: ATT's normalized attention weight; frame: the model's per-instance probability "
      "(ATT's c_{k,t}, FC_T's classifier per instance, RNN's per-step output); product: "
      "attention × frame; uniform: a constant score (AP = positive rate, AUC = 0.5); random: "
      "uniform random scores, " +
      std::to_string(draws) + " seeded draws per run.";
  if (!skipped.empty()) {
    text += " Not localized (no per-instance outputs):";
    bool first = true;
    for (const auto& [m, why] : skipped) {
      text += (first ? " " : ", ") + m;
      first = false;
    }
    text += ".";
  }
  section.description = std::move(text);
  return section;
}

}  // namespace tutti::pipelines
