#include "tutti/eval/localization.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "tutti/core/error.h"
#include "tutti/eval/metrics.h"

namespace tutti::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// numpy.spacing(1), sed_eval's guard in every ratio.
constexpr double kSedEvalEps = std::numeric_limits<double>::epsilon();
// A dense segment roll larger than this (segments x classes of one file) is refused: at 1 s it is
// ~30 years of audio, so it can only come from a corrupt offset.
constexpr double kMaxRollCells = 1e9;

double mean_of(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double ratio(std::int64_t a, std::int64_t b) {
  return b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b);
}

double f1_counts(const SegmentCounts& c) {
  return c.tp == 0 ? 0.0
                   : 2.0 * static_cast<double>(c.tp) / static_cast<double>(2 * c.tp + c.fp + c.fn);
}

}  // namespace

// ---- Instance-level ranking --------------------------------------------------------------------

InstanceReport evaluate_instances(std::span<const float> scores,
                                  std::span<const std::uint8_t> y_instance,
                                  std::span<const std::int32_t> n_instances,
                                  std::span<const std::uint8_t> clip_positive, std::int64_t K,
                                  std::span<const std::string> classes) {
  const auto n = static_cast<std::int64_t>(n_instances.size());
  const auto nc = static_cast<std::int64_t>(classes.size());
  check(K >= 0, "eval::evaluate_instances: K = {} is negative", K);
  const auto cells = static_cast<std::size_t>(n * K * nc);
  check(scores.size() == cells, "eval::evaluate_instances: {} scores, expected N*K*C = {}*{}*{}",
        scores.size(), n, K, nc);
  check(y_instance.size() == cells,
        "eval::evaluate_instances: {} instance labels, expected N*K*C = {}*{}*{}",
        y_instance.size(), n, K, nc);
  check(clip_positive.size() == static_cast<std::size_t>(n * nc),
        "eval::evaluate_instances: {} clip flags, expected N*C = {}*{}", clip_positive.size(), n,
        nc);
  for (std::int64_t i = 0; i < n; ++i) {
    check(n_instances[i] >= 0 && n_instances[i] <= K,
          "eval::evaluate_instances: clip {} has n_instances = {} outside [0, {}]", i,
          n_instances[i], K);
    for (std::int64_t c = 0; c < nc; ++c)
      check(clip_positive[i * nc + c] <= 1,
            "eval::evaluate_instances: clip {} class '{}' has positive flag {} (not 0/1)", i,
            classes[c], int{clip_positive[i * nc + c]});
  }

  InstanceReport r;
  std::vector<double> aps, aucs;
  std::vector<std::uint8_t> y;
  std::vector<float> s;
  for (std::int64_t c = 0; c < nc; ++c) {
    y.clear(), s.clear();
    for (std::int64_t i = 0; i < n; ++i) {
      if (!clip_positive[i * nc + c]) continue;
      for (std::int64_t t = 0; t < n_instances[i]; ++t) {
        const auto j = static_cast<std::size_t>((i * K + t) * nc + c);
        check(std::isfinite(scores[j]),
              "eval::evaluate_instances: score of clip {} instance {} class '{}' is {}", i, t,
              classes[c], scores[j]);
        check(y_instance[j] <= 1,
              "eval::evaluate_instances: clip {} instance {} class '{}' has label {} (not 0/1)", i,
              t, classes[c], int{y_instance[j]});
        y.push_back(y_instance[j]);
        s.push_back(scores[j]);
      }
    }
    InstanceClassMetrics m;
    m.name = classes[c];
    m.n_instances = static_cast<std::int64_t>(y.size());
    for (auto v : y) m.n_pos += v;
    if (m.n_instances == 0)
      m.skip_reason = "no instance in a positive clip";
    else if (m.n_pos == 0)
      m.skip_reason = fmt::format("no active instance among {}", m.n_instances);
    else if (m.n_pos == m.n_instances)
      m.skip_reason = fmt::format("no inactive instance among {}", m.n_instances);
    m.skipped = !m.skip_reason.empty();
    if (m.skipped) {
      m.ap = m.auc = kNaN;
      r.skipped.push_back(m.name);
    } else {
      const auto rm = ranking_metrics(y, s);
      m.ap = rm.ap, m.auc = rm.auc;
      aps.push_back(m.ap);
      aucs.push_back(m.auc);
    }
    r.per_class.push_back(std::move(m));
  }
  r.mAP = mean_of(aps);
  r.auc = mean_of(aucs);
  return r;
}

InstanceReport evaluate_instances(const data::BagDataset& truth, std::span<const float> scores) {
  truth.validate("eval::evaluate_instances");
  check(truth.has_instance_labels(),
        "eval::evaluate_instances: the dataset has no instance labels (Y_instance)");
  const auto n = truth.size(), nc = truth.num_classes();
  std::vector<std::uint8_t> clip_positive(static_cast<std::size_t>(n * nc));
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t c = 0; c < nc; ++c) clip_positive[i * nc + c] = truth.positive(i, c);
  return evaluate_instances(scores, truth.y_instance, truth.n_instances, clip_positive,
                            truth.max_instances, truth.classes);
}

core::Json InstanceReport::to_json() const {
  core::Json j;
  j["mAP"] = core::number_or_null(mAP);
  j["auc"] = core::number_or_null(auc);
  j["skipped"] = skipped;
  j["skip_reasons"] = core::Json::object();
  j["per_class"] = core::Json::object();
  for (const auto& m : per_class) {
    if (m.skipped) j["skip_reasons"][m.name] = m.skip_reason;
    j["per_class"][m.name] = {{"ap", core::number_or_null(m.ap)},
                              {"auc", core::number_or_null(m.auc)},
                              {"n_instances", m.n_instances},
                              {"n_pos", m.n_pos}};
  }
  return j;
}

// ---- Segment-based event detection metrics -----------------------------------------------------

SegmentReport segment_based_metrics(std::span<const Event> reference,
                                    std::span<const Event> estimated,
                                    std::span<const std::string> classes, double resolution_s) {
  check(std::isfinite(resolution_s) && resolution_s > 0,
        "eval::segment_based_metrics: resolution_s = {} must be > 0", resolution_s);
  std::vector<std::string> labels(classes.begin(), classes.end());
  if (labels.empty()) {
    std::set<std::string> u;
    for (const auto& e : reference) u.insert(e.label);
    for (const auto& e : estimated) u.insert(e.label);
    labels.assign(u.begin(), u.end());
  }
  std::map<std::string, std::size_t> index;
  for (std::size_t k = 0; k < labels.size(); ++k)
    check(index.emplace(labels[k], k).second,
          "eval::segment_based_metrics: class '{}' is listed twice", labels[k]);
  const std::size_t nl = labels.size();

  // Per file, the event indices of each side (0 = reference, 1 = estimate), files sorted.
  std::map<std::string, std::array<std::vector<const Event*>, 2>> files;
  for (int side = 0; side < 2; ++side) {
    const auto events = side == 0 ? reference : estimated;
    const char* what = side == 0 ? "reference" : "estimated";
    for (std::size_t e = 0; e < events.size(); ++e) {
      const auto& ev = events[e];
      check(index.count(ev.label) != 0,
            "eval::segment_based_metrics: {} event {} ('{}') has class '{}' not in the class list",
            what, e, ev.file, ev.label);
      check(std::isfinite(ev.onset_s) && std::isfinite(ev.offset_s) && ev.onset_s >= 0 &&
                ev.offset_s >= ev.onset_s,
            "eval::segment_based_metrics: {} event {} ('{}', '{}') has onset {} s, offset {} s "
            "(need 0 <= onset <= offset)",
            what, e, ev.file, ev.label, ev.onset_s, ev.offset_s);
      files[ev.file][side].push_back(&ev);
    }
  }

  SegmentReport r;
  r.resolution_s = resolution_s;
  std::vector<SegmentCounts> per(nl);
  std::vector<std::uint8_t> roll[2];
  for (const auto& [file, sides] : files) {
    // sed_eval: row floor(onset / res) up to ceil(offset / res), exclusive.
    double length_d = 0;
    for (const auto& side : sides)
      for (const auto* ev : side)
        length_d = std::max(length_d, std::ceil(ev->offset_s / resolution_s));
    check(length_d * static_cast<double>(nl) <= kMaxRollCells,
          "eval::segment_based_metrics: file '{}' spans {} segments of {} s: offset too large",
          file, length_d, resolution_s);
    const auto length = static_cast<std::size_t>(length_d);
    for (int side = 0; side < 2; ++side) {
      roll[side].assign(length * nl, 0);
      for (const auto* ev : sides[side]) {
        const auto on = static_cast<std::size_t>(std::floor(ev->onset_s / resolution_s));
        const auto off = static_cast<std::size_t>(std::ceil(ev->offset_s / resolution_s));
        const std::size_t k = index.at(ev->label);
        for (std::size_t t = on; t < off; ++t) roll[side][t * nl + k] = 1;
      }
    }
    for (std::size_t t = 0; t < length; ++t) {
      std::int64_t seg_tp = 0, seg_ref = 0, seg_sys = 0;
      for (std::size_t k = 0; k < nl; ++k) {
        const bool a = roll[0][t * nl + k], b = roll[1][t * nl + k];
        seg_tp += a && b, seg_ref += a, seg_sys += b;
        per[k].tp += a && b, per[k].fn += a && !b, per[k].fp += !a && b;
      }
      r.substitutions += std::min(seg_ref, seg_sys) - seg_tp;
      r.deletions += std::max<std::int64_t>(0, seg_ref - seg_sys);
      r.insertions += std::max<std::int64_t>(0, seg_sys - seg_ref);
    }
  }

  std::vector<double> f1s;
  for (std::size_t k = 0; k < nl; ++k) {
    SegmentClassMetrics m;
    m.label = labels[k];
    m.counts = per[k];
    m.precision = ratio(per[k].tp, per[k].tp + per[k].fp);
    m.recall = ratio(per[k].tp, per[k].tp + per[k].fn);
    m.f1 = f1_counts(per[k]);
    // sed_eval.metric.deletion_rate / insertion_rate with the class-wise counts.
    const double ref_eps = static_cast<double>(per[k].tp + per[k].fn) + kSedEvalEps;
    m.deletion_rate = static_cast<double>(per[k].fn) / ref_eps;
    m.insertion_rate = static_cast<double>(per[k].fp) / ref_eps;
    m.error_rate = m.deletion_rate + m.insertion_rate;
    auto& cw = r.class_wise;
    cw.f1 += m.f1, cw.precision += m.precision, cw.recall += m.recall;
    cw.error_rate += m.error_rate, cw.deletion_rate += m.deletion_rate;
    cw.insertion_rate += m.insertion_rate;
    if (per[k].tp + per[k].fp + per[k].fn > 0)
      f1s.push_back(m.f1);
    else
      r.skipped.push_back(m.label);
    r.counts.tp += per[k].tp, r.counts.fp += per[k].fp, r.counts.fn += per[k].fn;
    r.per_class.push_back(std::move(m));
  }
  r.precision = ratio(r.counts.tp, r.counts.tp + r.counts.fp);
  r.recall = ratio(r.counts.tp, r.counts.tp + r.counts.fn);
  r.f1 = f1_counts(r.counts);
  const std::int64_t n_ref = r.counts.tp + r.counts.fn;
  r.error_rate = n_ref == 0 ? kNaN
                            : static_cast<double>(r.substitutions + r.deletions + r.insertions) /
                                  static_cast<double>(n_ref);
  r.f1_macro = mean_of(f1s);
  auto per_ref = [&](std::int64_t x) {
    return n_ref == 0 ? kNaN : static_cast<double>(x) / static_cast<double>(n_ref);
  };
  r.substitution_rate = per_ref(r.substitutions);
  r.deletion_rate = per_ref(r.deletions);
  r.insertion_rate = per_ref(r.insertions);
  auto& cw = r.class_wise;
  const double n_cls = nl == 0 ? kNaN : static_cast<double>(nl);
  for (double* v :
       {&cw.f1, &cw.precision, &cw.recall, &cw.error_rate, &cw.deletion_rate, &cw.insertion_rate})
    *v /= n_cls;
  return r;
}

core::Json SegmentReport::to_json() const {
  core::Json j = {{"resolution_s", resolution_s},
                  {"tp", counts.tp},
                  {"fp", counts.fp},
                  {"fn", counts.fn},
                  {"precision", core::number_or_null(precision)},
                  {"recall", core::number_or_null(recall)},
                  {"f1", core::number_or_null(f1)},
                  {"error_rate", core::number_or_null(error_rate)},
                  {"substitutions", substitutions},
                  {"deletions", deletions},
                  {"insertions", insertions},
                  {"substitution_rate", core::number_or_null(substitution_rate)},
                  {"deletion_rate", core::number_or_null(deletion_rate)},
                  {"insertion_rate", core::number_or_null(insertion_rate)},
                  {"f1_macro", core::number_or_null(f1_macro)},
                  {"skipped", skipped}};
  j["class_wise"] = {{"f1", core::number_or_null(class_wise.f1)},
                     {"precision", core::number_or_null(class_wise.precision)},
                     {"recall", core::number_or_null(class_wise.recall)},
                     {"error_rate", core::number_or_null(class_wise.error_rate)},
                     {"deletion_rate", core::number_or_null(class_wise.deletion_rate)},
                     {"insertion_rate", core::number_or_null(class_wise.insertion_rate)}};
  j["per_class"] = core::Json::object();
  for (const auto& m : per_class)
    j["per_class"][m.label] = {{"tp", m.counts.tp},
                               {"fp", m.counts.fp},
                               {"fn", m.counts.fn},
                               {"precision", core::number_or_null(m.precision)},
                               {"recall", core::number_or_null(m.recall)},
                               {"f1", core::number_or_null(m.f1)},
                               {"error_rate", core::number_or_null(m.error_rate)},
                               {"deletion_rate", core::number_or_null(m.deletion_rate)},
                               {"insertion_rate", core::number_or_null(m.insertion_rate)}};
  return j;
}

}  // namespace tutti::eval
