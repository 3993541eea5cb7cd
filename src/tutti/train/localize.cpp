#include "tutti/train/localize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>

#include "tutti/core/error.h"
#include "tutti/models/model_decl.h"

namespace tutti::train {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Stat {
  double mean = kNaN, std = kNaN;
  int n = 0;
};

Stat stat_of(const std::vector<double>& v) {
  Stat s;
  std::vector<double> f;
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  s.n = static_cast<int>(f.size());
  if (f.empty()) return s;
  double m = 0;
  for (double x : f) m += x;
  m /= static_cast<double>(f.size());
  s.mean = m;
  if (f.size() > 1) {
    double var = 0;
    for (double x : f) var += (x - m) * (x - m);
    s.std = std::sqrt(var / static_cast<double>(f.size() - 1));
  }
  return s;
}

core::Json stat_json(const Stat& s) {
  return {{"mean", core::number_or_null(s.mean)},
          {"std", core::number_or_null(s.std)},
          {"n", s.n}};
}

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

core::Json LocalizationReport::to_json() const {
  core::Json ms = core::Json::object();
  for (const auto& m : methods) {
    if (m.name == "random") {
      ms[m.name] = {{"mAP", stat_json({m.map_mean, m.map_std, m.n})},
                    {"auc", stat_json({m.auc_mean, m.auc_std, m.n})}};
    } else {
      core::Json j = m.report.to_json();
      ms[m.name] = {{"mAP", j["mAP"]},
                    {"auc", j["auc"]},
                    {"skipped", j["skipped"]},
                    {"per_class", j["per_class"]}};
    }
  }
  return {{"model", model},
          {"clips", clips},
          {"positive_pairs", positive_pairs},
          {"positive_rate", core::number_or_null(positive_rate)},
          {"random_draws", random_draws},
          {"methods", ms},
          {"examples", examples}};
}

LocalizationReport localize_predictions(const Predictions& p, const data::BagDataset& truth,
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
  std::uniform_real_distribution<float> unif(0.0f, 1.0f);
  std::vector<float> s(cells);
  std::vector<double> maps, aucs;
  LocalizationMethod rnd;
  rnd.name = "random";
  for (int d = 0; d < opts.random_draws; ++d) {
    for (auto& x : s) x = unif(rng);
    auto rep = eval(s);
    maps.push_back(rep.mAP);
    aucs.push_back(rep.auc);
    if (d == 0) rnd.report = std::move(rep);
  }
  const Stat sm = stat_of(maps), sa = stat_of(aucs);
  rnd.map_mean = sm.mean, rnd.map_std = sm.std, rnd.auc_mean = sa.mean, rnd.auc_std = sa.std;
  rnd.n = opts.random_draws;
  r.methods.push_back(std::move(rnd));
  if (opts.examples > 0) r.examples = localization_examples(p, truth, opts.examples, opts.hop_s);
  return r;
}

LocalizationReport localize(const Predictor& predictor, const data::BagDataset& truth,
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
  const Predictions p = predictor.predict(truth, /*with_instances=*/true, opts.threads, what);
  return localize_predictions(p, truth, info.classes, info.spec.name, opts, what);
}

core::Json localization_examples(const Predictions& p, const data::BagDataset& truth, int n,
                                 double hop_s) {
  core::Json out = core::Json::array();
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
    core::Json ex = {{"clip", truth.keys[i]}, {"hop_s", hop_s}};
    core::Json classes = core::Json::array(), prob = core::Json::array(),
               att = core::Json::array(), clip_scores = core::Json::array();
    core::Json segs = core::Json::object();
    for (std::int64_t j = 0; j < c; ++j) {
      const float clip_score = p.scores.empty() ? 0.0f : p.score(i, j);
      if (!truth.positive(i, j) && clip_score < 0.5f) continue;
      classes.push_back(truth.classes[j]);
      clip_scores.push_back(clip_score);
      core::Json row = core::Json::array(), arow = core::Json::array();
      core::Json runs = core::Json::array();
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
      prob.push_back(row);
      if (!p.attention.empty()) att.push_back(arow);
      segs[truth.classes[j]] = runs;
    }
    ex["classes"] = classes;
    ex["prob"] = prob;
    if (!p.attention.empty()) ex["attention"] = att;
    ex["truth"] = segs;
    ex["clip_scores"] = clip_scores;
    out.push_back(ex);
  }
  return out;
}

core::Json summarize_localization(const std::vector<core::Json>& reports) {
  std::vector<std::string> order;
  std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> values;
  auto number = [](const core::Json& j) {
    if (j.is_number()) return j.get<double>();
    if (j.is_object() && j.contains("mean") && j["mean"].is_number())
      return j["mean"].get<double>();
    return kNaN;
  };
  for (const auto& r : reports) {
    if (!r.is_object() || !r.contains("methods")) continue;
    for (const auto& [name, m] : r["methods"].items()) {
      if (!values.count(name)) order.push_back(name);
      auto& v = values[name];
      v.first.push_back(m.contains("mAP") ? number(m["mAP"]) : kNaN);
      v.second.push_back(m.contains("auc") ? number(m["auc"]) : kNaN);
    }
  }
  core::Json out = core::Json::object();
  for (const auto& name : order) {
    const auto& v = values[name];
    out[name] = {{"mAP", stat_json(stat_of(v.first))}, {"auc", stat_json(stat_of(v.second))}};
  }
  return out;
}

core::Json experiment_localization_section(const core::Json& runs, const core::Json& skipped) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<core::Json>> per_model;
  std::map<std::string, core::Json> examples;
  for (const auto& r : runs) {
    if (!r.is_object() || !r.contains("localization") || !r["localization"].is_object()) continue;
    const auto m = r.value("model", std::string());
    if (!per_model.count(m)) order.push_back(m);
    const auto& loc = r["localization"];
    per_model[m].push_back(loc);
    if (!examples.count(m) && loc.contains("examples") && !loc["examples"].empty())
      examples[m] = loc["examples"];
  }
  if (order.empty()) return nullptr;
  core::Json models = core::Json::object();
  int draws = 0;
  for (const auto& m : order) {
    core::Json e = {{"methods", summarize_localization(per_model[m])},
                    {"runs", per_model[m].size()}};
    if (examples.count(m)) e["examples"] = examples[m];
    models[m] = e;
    draws = per_model[m].front().value("random_draws", 0);
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
  if (skipped.is_object() && !skipped.empty()) {
    text += " Not localized (no per-instance outputs):";
    bool first = true;
    for (const auto& [m, why] : skipped.items()) {
      text += (first ? " " : ", ") + m;
      first = false;
    }
    text += ".";
  }
  return {{"description", text}, {"models", models}};
}

}  // namespace tutti::train
