#include "tutti/eval/evaluate.h"

#include <cmath>
#include <limits>

#include "tutti/core/error.h"
#include "tutti/eval/metrics.h"

namespace tutti::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double get_num(const core::Json& j, const char* key, const std::string& where) {
  check(j.is_object() && j.contains(key), "EvalReport::from_json: {} has no key '{}'", where, key);
  const auto& v = j.at(key);
  if (v.is_null()) return kNaN;
  check(v.is_number(), "EvalReport::from_json: {}.{} is not a number", where, key);
  return v.get<double>();
}

void check_scores(const char* what, const data::BagDataset& truth, std::span<const float> scores) {
  truth.validate(what);
  const auto n = truth.size(), c = truth.num_classes();
  check(scores.size() == static_cast<std::size_t>(n * c),
        "{}: {} scores for {} clips x {} classes (expected {})", what, scores.size(), n, c, n * c);
  for (std::size_t j = 0; j < scores.size(); ++j) {
    if (!std::isfinite(scores[j])) {
      const auto i = static_cast<std::int64_t>(j) / c, k = static_cast<std::int64_t>(j) % c;
      fail("{}: score of clip {} ('{}') for class '{}' is {}", what, i, truth.keys[i],
           truth.classes[k], scores[j]);
    }
  }
}

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

}  // namespace

void known_entries(const data::BagDataset& truth, std::span<const float> scores, std::int64_t c,
                   std::vector<std::uint8_t>& labels, std::vector<float>& class_scores) {
  const auto n = truth.size(), nc = truth.num_classes();
  check(c >= 0 && c < nc, "eval::known_entries: class index {} outside [0, {})", c, nc);
  check(scores.size() == static_cast<std::size_t>(n * nc),
        "eval::known_entries: {} scores for {} clips x {} classes", scores.size(), n, nc);
  labels.clear();
  class_scores.clear();
  for (std::int64_t i = 0; i < n; ++i) {
    if (!truth.known(i, c)) continue;
    labels.push_back(truth.positive(i, c) ? 1 : 0);
    class_scores.push_back(scores[i * nc + c]);
  }
}

EvalReport evaluate(const data::BagDataset& truth, std::span<const float> scores,
                    std::span<const float> thresholds) {
  check_scores("eval::evaluate", truth, scores);
  const auto nc = truth.num_classes();
  check(thresholds.empty() || thresholds.size() == static_cast<std::size_t>(nc),
        "eval::evaluate: {} thresholds for {} classes (pass none for 0.5)", thresholds.size(), nc);
  for (std::size_t k = 0; k < thresholds.size(); ++k)
    check(std::isfinite(thresholds[k]), "eval::evaluate: threshold of class '{}' is {}",
          truth.classes[k], thresholds[k]);

  EvalReport r;
  std::vector<double> ap, auc, prec, rec, f1s, f1s05, att;
  std::vector<std::uint8_t> y, pool_y;
  std::vector<float> s, pool_s;
  Confusion pool_cm;
  for (std::int64_t c = 0; c < nc; ++c) {
    known_entries(truth, scores, c, y, s);
    ClassMetrics m;
    m.name = truth.classes[c];
    m.threshold = thresholds.empty() ? 0.5 : thresholds[c];
    m.n_known = static_cast<std::int64_t>(y.size());
    for (auto v : y) m.n_pos += v;
    const auto cm = confusion_at(y, s, static_cast<float>(m.threshold));
    const auto cm05 = confusion_at(y, s, 0.5f);
    m.precision = precision(cm), m.recall = recall(cm), m.f1 = f1(cm);
    m.precision_05 = precision(cm05), m.recall_05 = recall(cm05), m.f1_05 = f1(cm05);
    m.f1_attmic = f1_macro(cm05);
    if (m.n_known == 0) {
      m.skip_reason = "no known labels";
    } else if (m.n_pos == 0) {
      m.skip_reason = fmt::format("no positive label among {} known", m.n_known);
    } else if (m.n_pos == m.n_known) {
      m.skip_reason = fmt::format("no negative label among {} known", m.n_known);
    }
    m.skipped = !m.skip_reason.empty();
    if (m.skipped) {
      m.ap = m.auc = kNaN;
      if (m.n_known == 0) m.f1_attmic = kNaN;
      r.skipped.push_back(m.name);
    } else {
      const auto rm = ranking_metrics(y, s);
      m.ap = rm.ap, m.auc = rm.auc;
      ap.push_back(m.ap), auc.push_back(m.auc), prec.push_back(m.precision);
      rec.push_back(m.recall), f1s.push_back(m.f1), f1s05.push_back(m.f1_05);
      att.push_back(m.f1_attmic);
    }
    pool_y.insert(pool_y.end(), y.begin(), y.end());
    pool_s.insert(pool_s.end(), s.begin(), s.end());
    pool_cm += cm;
    r.per_class.push_back(std::move(m));
  }
  r.mAP = mean_of(ap), r.auc = mean_of(auc);
  r.precision_pos = mean_of(prec), r.recall_pos = mean_of(rec), r.f1_pos = mean_of(f1s);
  r.f1_pos_05 = mean_of(f1s05), r.f1_attmic = mean_of(att);
  const auto pooled = ranking_metrics(pool_y, pool_s);
  r.micro.ap = pooled.ap, r.micro.auc = pooled.auc;
  r.micro.f1 = pool_cm.tp + pool_cm.fn == 0 ? kNaN : f1(pool_cm);
  return r;
}

std::vector<float> choose_thresholds(const data::BagDataset& val,
                                     std::span<const float> val_scores) {
  check_scores("eval::choose_thresholds", val, val_scores);
  std::vector<float> out;
  std::vector<std::uint8_t> y;
  std::vector<float> s;
  for (std::int64_t c = 0; c < val.num_classes(); ++c) {
    known_entries(val, val_scores, c, y, s);
    out.push_back(best_f1_threshold(y, s, 0.5f).threshold);
  }
  return out;
}

core::Json EvalReport::to_json() const {
  core::Json j;
  j["mAP"] = core::number_or_null(mAP);
  j["auc"] = core::number_or_null(auc);
  j["precision_pos"] = core::number_or_null(precision_pos);
  j["recall_pos"] = core::number_or_null(recall_pos);
  j["f1_pos"] = core::number_or_null(f1_pos);
  j["f1_pos_05"] = core::number_or_null(f1_pos_05);
  j["f1_attmic"] = core::number_or_null(f1_attmic);
  j["micro"] = {{"ap", core::number_or_null(micro.ap)},
                {"auc", core::number_or_null(micro.auc)},
                {"f1", core::number_or_null(micro.f1)}};
  j["skipped"] = skipped;
  j["skip_reasons"] = core::Json::object();
  j["per_class"] = core::Json::object();
  for (const auto& m : per_class) {
    if (m.skipped) j["skip_reasons"][m.name] = m.skip_reason;
    j["per_class"][m.name] = {
        {"ap", core::number_or_null(m.ap)},
        {"auc", core::number_or_null(m.auc)},
        {"precision", core::number_or_null(m.precision)},
        {"recall", core::number_or_null(m.recall)},
        {"f1", core::number_or_null(m.f1)},
        {"precision_05", core::number_or_null(m.precision_05)},
        {"recall_05", core::number_or_null(m.recall_05)},
        {"f1_05", core::number_or_null(m.f1_05)},
        {"f1_attmic", core::number_or_null(m.f1_attmic)},
        {"threshold", core::number_or_null(m.threshold)},
        {"n_known", m.n_known},
        {"n_pos", m.n_pos},
    };
  }
  return j;
}

EvalReport EvalReport::from_json(const core::Json& j) {
  check(j.is_object(), "EvalReport::from_json: expected an object");
  EvalReport r;
  r.mAP = get_num(j, "mAP", "report");
  r.auc = get_num(j, "auc", "report");
  r.precision_pos = get_num(j, "precision_pos", "report");
  r.recall_pos = get_num(j, "recall_pos", "report");
  r.f1_pos = get_num(j, "f1_pos", "report");
  r.f1_pos_05 = get_num(j, "f1_pos_05", "report");
  r.f1_attmic = get_num(j, "f1_attmic", "report");
  check(j.contains("micro"), "EvalReport::from_json: report has no key 'micro'");
  r.micro.ap = get_num(j["micro"], "ap", "micro");
  r.micro.auc = get_num(j["micro"], "auc", "micro");
  r.micro.f1 = get_num(j["micro"], "f1", "micro");
  check(j.contains("skipped") && j["skipped"].is_array(),
        "EvalReport::from_json: report has no array 'skipped'");
  r.skipped = j["skipped"].get<std::vector<std::string>>();
  check(j.contains("per_class") && j["per_class"].is_object(),
        "EvalReport::from_json: report has no object 'per_class'");
  for (const auto& [name, pc] : j["per_class"].items()) {
    ClassMetrics m;
    m.name = name;
    const std::string where = "per_class." + name;
    m.ap = get_num(pc, "ap", where), m.auc = get_num(pc, "auc", where);
    m.precision = get_num(pc, "precision", where), m.recall = get_num(pc, "recall", where);
    m.f1 = get_num(pc, "f1", where);
    m.precision_05 = get_num(pc, "precision_05", where);
    m.recall_05 = get_num(pc, "recall_05", where), m.f1_05 = get_num(pc, "f1_05", where);
    m.f1_attmic = get_num(pc, "f1_attmic", where), m.threshold = get_num(pc, "threshold", where);
    m.n_known = static_cast<std::int64_t>(get_num(pc, "n_known", where));
    m.n_pos = static_cast<std::int64_t>(get_num(pc, "n_pos", where));
    for (const auto& s : r.skipped) m.skipped = m.skipped || s == name;
    if (j.contains("skip_reasons") && j["skip_reasons"].contains(name))
      m.skip_reason = j["skip_reasons"][name].get<std::string>();
    r.per_class.push_back(std::move(m));
  }
  return r;
}

namespace {

// Walks the same key path in every run's JSON; numbers (and nulls = NaN) become mean/std/count.
void summarize_node(const std::vector<const core::Json*>& nodes, const std::string& path,
                    core::Json& mean, core::Json& sd, core::Json& n) {
  const core::Json& first = *nodes.front();
  if (first.is_object()) {
    for (const auto& [key, _] : first.items()) {
      std::vector<const core::Json*> kids;
      for (const auto* node : nodes) {
        check(node->is_object() && node->contains(key),
              "eval::summarize_runs: '{}{}' is missing in some runs", path, key);
        kids.push_back(&node->at(key));
      }
      summarize_node(kids, path + key + ".", mean[key], sd[key], n[key]);
    }
    return;
  }
  std::vector<double> v;
  for (const auto* node : nodes) {
    if (node->is_number()) {
      const double x = node->get<double>();
      if (!std::isnan(x)) v.push_back(x);
    }
  }
  const double m = mean_of(v);
  double ss = 0;
  for (double x : v) ss += (x - m) * (x - m);
  mean = core::number_or_null(m);
  sd =
      core::number_or_null(v.size() < 2 ? kNaN : std::sqrt(ss / static_cast<double>(v.size() - 1)));
  n = v.size();
}

}  // namespace

RunsSummary summarize_runs(std::span<const EvalReport> runs) {
  check(!runs.empty(), "eval::summarize_runs: no runs");
  std::vector<core::Json> docs;
  for (std::size_t r = 0; r < runs.size(); ++r) {
    check(runs[r].per_class.size() == runs[0].per_class.size(),
          "eval::summarize_runs: run {} has {} classes, run 0 has {}", r, runs[r].per_class.size(),
          runs[0].per_class.size());
    for (std::size_t c = 0; c < runs[r].per_class.size(); ++c)
      check(runs[r].per_class[c].name == runs[0].per_class[c].name,
            "eval::summarize_runs: run {} has class '{}' where run 0 has '{}'", r,
            runs[r].per_class[c].name, runs[0].per_class[c].name);
    auto j = runs[r].to_json();
    j.erase("skipped");
    j.erase("skip_reasons");
    docs.push_back(std::move(j));
  }
  std::vector<const core::Json*> nodes;
  for (const auto& d : docs) nodes.push_back(&d);
  RunsSummary s;
  s.n_runs = static_cast<std::int64_t>(runs.size());
  summarize_node(nodes, "", s.mean, s.sd, s.n);
  for (const auto& m : runs[0].per_class) {
    for (const auto& run : runs) {
      bool skipped = false;
      for (const auto& name : run.skipped) skipped = skipped || name == m.name;
      if (skipped) {
        s.skipped.push_back(m.name);
        break;
      }
    }
  }
  return s;
}

core::Json RunsSummary::to_json() const {
  return {{"n_runs", n_runs}, {"ddof", 1}, {"mean", mean},
          {"std", sd},        {"n", n},    {"skipped", skipped}};
}

}  // namespace tutti::eval
