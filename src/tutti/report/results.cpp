#include "tutti/report/results.h"

#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::report {

using core::Json;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The location of `key` inside `what`: "results: FILE: " + "runs", "...runs[3]" + ".seed".
std::string join(const std::string& what, const std::string& key) {
  return what.ends_with(": ") ? what + key : what + "." + key;
}
std::string index(const std::string& what, std::size_t i) {
  return what + "[" + std::to_string(i) + "]";
}

[[noreturn]] void wrong_type(const std::string& where, const char* expected, const Json& j) {
  fail("{}: expected {}, got {}", where, expected, j.type_name());
}

void expect_object(const Json& j, const std::string& where) {
  if (!j.is_object()) wrong_type(where, "an object", j);
}

const Json* find(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

const Json& required(const Json& obj, const char* key, const std::string& what) {
  const Json* v = find(obj, key);
  check(v != nullptr, "{}: missing", join(what, key));
  return *v;
}

// Value readers: `where` names the value in errors.
double number(const Json& j, const std::string& where) {
  if (j.is_null()) return kNaN;
  if (!j.is_number()) wrong_type(where, "a number", j);
  return j.get<double>();
}

std::int64_t integer(const Json& j, const std::string& where) {
  if (!j.is_number_integer()) wrong_type(where, "an integer", j);
  return j.get<std::int64_t>();
}

int int32(const Json& j, const std::string& where) {
  const std::int64_t v = integer(j, where);
  check(v >= std::numeric_limits<int>::min() && v <= std::numeric_limits<int>::max(),
        "{}: {} is out of range", where, v);
  return static_cast<int>(v);
}

std::string string(const Json& j, const std::string& where) {
  if (!j.is_string()) wrong_type(where, "a string", j);
  return j.get<std::string>();
}

template <typename T, typename F>
std::vector<T> array_of(const Json& j, const std::string& where, F read) {
  if (!j.is_array()) wrong_type(where, "an array", j);
  std::vector<T> out;
  out.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) out.push_back(read(j[i], index(where, i)));
  return out;
}

template <typename T, typename F>
std::map<std::string, T> map_of(const Json& j, const std::string& where, F read) {
  expect_object(j, where);
  std::map<std::string, T> out;
  for (const auto& [k, v] : j.items()) out.emplace(k, read(v, join(where, k)));
  return out;
}

std::vector<std::string> strings(const Json& j, const std::string& where) {
  return array_of<std::string>(j, where, string);
}
std::vector<double> numbers(const Json& j, const std::string& where) {
  return array_of<double>(j, where, number);
}
std::vector<std::vector<double>> matrix(const Json& j, const std::string& where) {
  return array_of<std::vector<double>>(j, where, numbers);
}

// obj[key] read by `read`; throws when absent.
template <typename F>
auto field(const Json& obj, const char* key, const std::string& what, F read) {
  return read(required(obj, key, what), join(what, key));
}

// obj[key] read by `read`, or nullopt when absent.
template <typename F>
auto optional_field(const Json& obj, const char* key, const std::string& what, F read)
    -> std::optional<decltype(read(obj, what))> {
  const Json* v = find(obj, key);
  if (!v) return std::nullopt;
  return read(*v, join(what, key));
}

// Writes `key` when the optional holds a value.
template <typename T>
void put(Json& j, const char* key, const std::optional<T>& v) {
  if (!v) return;
  if constexpr (requires { v->to_json(); })
    j[key] = v->to_json();
  else if constexpr (std::is_floating_point_v<T>)
    j[key] = core::number_or_null(*v);
  else
    j[key] = *v;
}

template <typename T>
Json map_json(const std::map<std::string, T>& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v.to_json();
  return j;
}

template <typename T>
Json array_json(const std::vector<T>& v) {
  Json j = Json::array();
  for (const auto& x : v) j.push_back(x.to_json());
  return j;
}

Json numbers_json(const std::vector<double>& v) {
  Json j = Json::array();
  for (double x : v) j.push_back(core::number_or_null(x));
  return j;
}

Json matrix_json(const std::vector<std::vector<double>>& m) {
  Json j = Json::array();
  for (const auto& row : m) j.push_back(numbers_json(row));
  return j;
}

// Parallel {mean, std, n} trees (eval::RunsSummary) -> one tree with {"mean", "std", "n"} leaves.
Json merge_stats(const Json& mean, const Json& sd, const Json& n) {
  if (mean.is_object()) {
    Json out = Json::object();
    for (const auto& [k, v] : mean.items()) {
      const Json empty;
      out[k] = merge_stats(v, sd.is_object() && sd.contains(k) ? sd.at(k) : empty,
                           n.is_object() && n.contains(k) ? n.at(k) : empty);
    }
    return out;
  }
  return {{"mean", mean}, {"std", sd}, {"n", n.is_null() ? Json(0) : n}};
}

std::optional<Stat> stat_field(const Json& obj, const char* key, const std::string& what) {
  return optional_field(obj, key, what, Stat::from_json);
}

}  // namespace

// ---- Stat ---------------------------------------------------------------------------------------

Stat Stat::number(double v) {
  Stat s;
  s.mean = v;
  s.n = std::isfinite(v) ? 1 : 0;
  s.bare = true;
  return s;
}

Json Stat::to_json() const {
  if (bare) return core::number_or_null(mean);
  return {{"mean", core::number_or_null(mean)}, {"std", core::number_or_null(std)}, {"n", n}};
}

Stat Stat::from_json(const Json& j, const std::string& what) {
  if (j.is_null() || j.is_number()) return number(report::number(j, what));
  if (!j.is_object()) wrong_type(what, "a number or {\"mean\", \"std\", \"n\"}", j);
  Stat s;
  s.mean = field(j, "mean", what, report::number);
  if (const Json* sd = find(j, "std")) s.std = report::number(*sd, join(what, "std"));
  if (const Json* n = find(j, "n"); n && !n->is_null())
    s.n = integer(*n, join(what, "n"));
  else
    s.n = std::isfinite(s.mean) ? 1 : 0;
  return s;
}

Stat mean_std(const std::vector<double>& values) {
  Stat m;
  double sum = 0;
  for (double v : values)
    if (std::isfinite(v)) sum += v, ++m.n;
  if (m.n == 0) return m;
  m.mean = sum / static_cast<double>(m.n);
  if (m.n >= 2) {
    double ss = 0;
    for (double v : values)
      if (std::isfinite(v)) ss += (v - m.mean) * (v - m.mean);
    m.std = std::sqrt(ss / static_cast<double>(m.n - 1));
  }
  return m;
}

// ---- summary ------------------------------------------------------------------------------------

Json ClassSummary::to_json() const {
  Json j = Json::object();
  put(j, "ap", ap), put(j, "auc", auc), put(j, "precision", precision), put(j, "recall", recall);
  put(j, "f1", f1), put(j, "precision_05", precision_05), put(j, "recall_05", recall_05);
  put(j, "f1_05", f1_05), put(j, "f1_attmic", f1_attmic), put(j, "threshold", threshold);
  put(j, "n_known", n_known), put(j, "n_pos", n_pos);
  return j;
}

ClassSummary ClassSummary::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  ClassSummary c;
  c.ap = stat_field(j, "ap", what), c.auc = stat_field(j, "auc", what);
  c.precision = stat_field(j, "precision", what), c.recall = stat_field(j, "recall", what);
  c.f1 = stat_field(j, "f1", what), c.precision_05 = stat_field(j, "precision_05", what);
  c.recall_05 = stat_field(j, "recall_05", what), c.f1_05 = stat_field(j, "f1_05", what);
  c.f1_attmic = stat_field(j, "f1_attmic", what), c.threshold = stat_field(j, "threshold", what);
  c.n_known = stat_field(j, "n_known", what), c.n_pos = stat_field(j, "n_pos", what);
  return c;
}

Json MicroSummary::to_json() const {
  Json j = Json::object();
  put(j, "ap", ap), put(j, "auc", auc), put(j, "f1", f1);
  return j;
}

MicroSummary MicroSummary::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  return {stat_field(j, "ap", what), stat_field(j, "auc", what), stat_field(j, "f1", what)};
}

ModelSummary ModelSummary::from_runs_summary(const eval::RunsSummary& s) {
  ModelSummary m = from_json(merge_stats(s.mean, s.sd, s.n), "summary");
  m.n_runs = s.n_runs;
  return m;
}

Json ModelSummary::to_json() const {
  Json j = Json::object();
  put(j, "n_runs", n_runs);
  put(j, "mAP", mAP), put(j, "auc", auc), put(j, "precision_pos", precision_pos);
  put(j, "recall_pos", recall_pos), put(j, "f1_pos", f1_pos), put(j, "f1_pos_05", f1_pos_05);
  put(j, "f1_attmic", f1_attmic), put(j, "micro", micro);
  if (!per_class.empty()) j["per_class"] = map_json(per_class);
  put(j, "train_seconds", train_seconds), put(j, "seconds_per_epoch", seconds_per_epoch);
  put(j, "infer_clips_per_s", infer_clips_per_s), put(j, "params", params);
  put(j, "epochs_run", epochs_run), put(j, "best_epoch", best_epoch);
  return j;
}

ModelSummary ModelSummary::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  if (const Json* mean = find(j, "mean"); mean && mean->is_object() && j.contains("std")) {
    Json merged = merge_stats(*mean, j.at("std"), j.value("n", Json()));
    if (const Json* n = find(j, "n_runs")) merged["n_runs"] = *n;
    return from_json(merged, what);
  }
  ModelSummary m;
  m.n_runs = optional_field(j, "n_runs", what, integer);
  m.mAP = stat_field(j, "mAP", what), m.auc = stat_field(j, "auc", what);
  m.precision_pos = stat_field(j, "precision_pos", what);
  m.recall_pos = stat_field(j, "recall_pos", what), m.f1_pos = stat_field(j, "f1_pos", what);
  m.f1_pos_05 = stat_field(j, "f1_pos_05", what);
  m.f1_attmic = stat_field(j, "f1_attmic", what);
  m.micro = optional_field(j, "micro", what, MicroSummary::from_json);
  if (const Json* pc = find(j, "per_class"))
    m.per_class = map_of<ClassSummary>(*pc, join(what, "per_class"), ClassSummary::from_json);
  m.train_seconds = stat_field(j, "train_seconds", what);
  m.seconds_per_epoch = stat_field(j, "seconds_per_epoch", what);
  m.infer_clips_per_s = stat_field(j, "infer_clips_per_s", what);
  m.params = stat_field(j, "params", what);
  m.epochs_run = stat_field(j, "epochs_run", what);
  m.best_epoch = stat_field(j, "best_epoch", what);
  return m;
}

// ---- localization -------------------------------------------------------------------------------

Json TimelineExample::to_json() const {
  Json j = {{"clip", clip}, {"hop_s", hop_s}, {"prob", matrix_json(prob)}};
  put(j, "classes", classes);
  if (attention) j["attention"] = matrix_json(*attention);
  if (truth) {
    Json t = Json::object();
    for (const auto& [name, segs] : *truth) {
      Json a = Json::array();
      for (const auto& s : segs) a.push_back({s[0], s[1]});
      t[name] = std::move(a);
    }
    j["truth"] = std::move(t);
  }
  if (clip_scores) j["clip_scores"] = numbers_json(*clip_scores);
  return j;
}

TimelineExample TimelineExample::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  TimelineExample e;
  e.clip = field(j, "clip", what, string);
  if (const Json* h = find(j, "hop_s"); h && !h->is_null())
    e.hop_s = number(*h, join(what, "hop_s"));
  e.classes = optional_field(j, "classes", what, strings);
  // null stands for "not given" for the matrices, as for the optional keys.
  auto matrix_field = [&](const char* key) -> std::optional<std::vector<std::vector<double>>> {
    const Json* m = find(j, key);
    if (!m || m->is_null()) return std::nullopt;
    return matrix(*m, join(what, key));
  };
  e.prob = matrix_field("prob").value_or(std::vector<std::vector<double>>{});
  e.attention = matrix_field("attention");
  e.truth = optional_field(j, "truth", what, [](const Json& t, const std::string& where) {
    return map_of<std::vector<std::array<double, 2>>>(
        t, where, [](const Json& segs, const std::string& w) {
          return array_of<std::array<double, 2>>(segs, w, [](const Json& s, const std::string& ws) {
            if (!s.is_array() || s.size() != 2) wrong_type(ws, "[start_s, end_s]", s);
            return std::array<double, 2>{number(s[0], ws + "[0]"), number(s[1], ws + "[1]")};
          });
        });
  });
  e.clip_scores = optional_field(j, "clip_scores", what, numbers);
  return e;
}

Json InstanceClassResult::to_json() const {
  return {{"ap", core::number_or_null(ap)},
          {"auc", core::number_or_null(auc)},
          {"n_instances", n_instances},
          {"n_pos", n_pos}};
}

InstanceClassResult InstanceClassResult::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  InstanceClassResult r;
  r.ap = field(j, "ap", what, number);
  r.auc = field(j, "auc", what, number);
  r.n_instances = field(j, "n_instances", what, integer);
  r.n_pos = field(j, "n_pos", what, integer);
  return r;
}

Json LocalizationMethodResult::to_json() const {
  Json j = Json::object();
  for (const auto& [k, v] : other) j[k] = v.to_json();
  put(j, "mAP", mAP), put(j, "auc", auc), put(j, "skipped", skipped);
  if (per_class) j["per_class"] = map_json(*per_class);
  return j;
}

LocalizationMethodResult LocalizationMethodResult::from_json(const Json& j,
                                                             const std::string& what) {
  expect_object(j, what);
  LocalizationMethodResult m;
  m.mAP = stat_field(j, "mAP", what);
  if (!m.mAP) m.mAP = stat_field(j, "ap", what);
  m.auc = stat_field(j, "auc", what);
  m.skipped = optional_field(j, "skipped", what, strings);
  if (const Json* pc = find(j, "per_class"))
    m.per_class =
        map_of<InstanceClassResult>(*pc, join(what, "per_class"), InstanceClassResult::from_json);
  for (const auto& [k, v] : j.items()) {
    if (k == "mAP" || k == "ap" || k == "auc" || k == "skipped" || k == "per_class") continue;
    if (v.is_number() || (v.is_object() && v.contains("mean")))
      m.other.emplace(k, Stat::from_json(v, join(what, k)));
  }
  return m;
}

Json RunLocalization::to_json() const {
  return {{"model", model},
          {"clips", clips},
          {"positive_pairs", positive_pairs},
          {"positive_rate", core::number_or_null(positive_rate)},
          {"random_draws", random_draws},
          {"methods", map_json(methods)},
          {"examples", array_json(examples)}};
}

RunLocalization RunLocalization::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  RunLocalization r;
  r.model = field(j, "model", what, string);
  r.clips = field(j, "clips", what, integer);
  r.positive_pairs = field(j, "positive_pairs", what, integer);
  r.positive_rate = field(j, "positive_rate", what, number);
  r.random_draws = field(j, "random_draws", what, int32);
  r.methods = map_of<LocalizationMethodResult>(required(j, "methods", what), join(what, "methods"),
                                               LocalizationMethodResult::from_json);
  r.examples = array_of<TimelineExample>(required(j, "examples", what), join(what, "examples"),
                                         TimelineExample::from_json);
  return r;
}

Json LocalizationModel::to_json() const {
  Json j = {{"methods", map_json(methods)}};
  put(j, "runs", runs);
  if (examples) j["examples"] = array_json(*examples);
  return j;
}

LocalizationModel LocalizationModel::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  LocalizationModel m;
  if (const Json* ms = find(j, "methods"))
    m.methods = map_of<LocalizationMethodResult>(*ms, join(what, "methods"),
                                                 LocalizationMethodResult::from_json);
  m.runs = optional_field(j, "runs", what, integer);
  m.examples = optional_field(j, "examples", what, [](const Json& a, const std::string& w) {
    return array_of<TimelineExample>(a, w, TimelineExample::from_json);
  });
  return m;
}

template <typename Entry>
Json ModelSection<Entry>::to_json() const {
  Json j = {{"models", map_json(models)}};
  put(j, "description", description);
  return j;
}

template <typename Entry>
ModelSection<Entry> ModelSection<Entry>::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  ModelSection s;
  s.description = optional_field(j, "description", what, string);
  if (const Json* ms = find(j, "models"))
    s.models = map_of<Entry>(*ms, join(what, "models"), Entry::from_json);
  return s;
}

template struct ModelSection<LocalizationModel>;

// ---- t-SNE --------------------------------------------------------------------------------------

Json TsneMap::to_json() const {
  Json j = details.is_object() ? details : Json::object();
  j["x"] = numbers_json(x);
  j["y"] = numbers_json(y);
  j["labels"] = labels;
  put(j, "title", title);
  return j;
}

TsneMap TsneMap::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  TsneMap m;
  m.x = field(j, "x", what, numbers);
  m.y = field(j, "y", what, numbers);
  m.labels = field(j, "labels", what, strings);
  m.title = optional_field(j, "title", what, string);
  m.details = j;
  for (const char* k : {"x", "y", "labels", "title"}) m.details.erase(k);
  return m;
}

template struct ModelSection<TsneMap>;

// ---- runs and the whole file --------------------------------------------------------------------

Json DataInfo::to_json() const {
  return {{"train", train},
          {"train_md5", train_md5},
          {"test", test},
          {"test_md5", test_md5},
          {"classes", classes}};
}

DataInfo DataInfo::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  DataInfo d;
  d.train = field(j, "train", what, string);
  d.train_md5 = field(j, "train_md5", what, string);
  d.test = field(j, "test", what, string);
  d.test_md5 = field(j, "test_md5", what, string);
  d.classes = field(j, "classes", what, strings);
  return d;
}

Json Run::to_json() const {
  Json j = {{"model", model}, {"seed", seed}, {"metrics", metrics.to_json()}};
  put(j, "train_seconds", train_seconds), put(j, "seconds_per_epoch", seconds_per_epoch);
  put(j, "epochs_run", epochs_run), put(j, "best_epoch", best_epoch);
  put(j, "val_loss", val_loss), put(j, "val_map", val_map), put(j, "params", params);
  put(j, "infer_clips_per_s", infer_clips_per_s), put(j, "model_file", model_file);
  if (!train_config.is_null()) j["train_config"] = train_config;
  put(j, "localization", localization);
  return j;
}

Run Run::from_json(const Json& j, const std::string& what) {
  expect_object(j, what);
  Run r;
  r.model = field(j, "model", what, string);
  r.seed = field(j, "seed", what, int32);
  const Json& metrics = required(j, "metrics", what);
  const std::string where = join(what, "metrics");
  expect_object(metrics, where);
  try {
    r.metrics = eval::EvalReport::from_json(metrics);
  } catch (const Error& e) {
    fail("{}: {}", where, e.what());
  } catch (const Json::exception& e) {
    fail("{}: {}", where, e.what());
  }
  r.train_seconds = optional_field(j, "train_seconds", what, number);
  r.seconds_per_epoch = optional_field(j, "seconds_per_epoch", what, number);
  r.epochs_run = optional_field(j, "epochs_run", what, int32);
  r.best_epoch = optional_field(j, "best_epoch", what, int32);
  r.val_loss = optional_field(j, "val_loss", what, number);
  r.val_map = optional_field(j, "val_map", what, number);
  r.params = optional_field(j, "params", what, integer);
  r.infer_clips_per_s = optional_field(j, "infer_clips_per_s", what, number);
  r.model_file = optional_field(j, "model_file", what, string);
  if (const Json* c = find(j, "train_config")) {
    expect_object(*c, join(what, "train_config"));
    r.train_config = *c;
  }
  r.localization = optional_field(j, "localization", what, RunLocalization::from_json);
  return r;
}

Json Results::to_json() const {
  Json j = {{"runs", array_json(runs)}, {"summary", map_json(summary)}};
  put(j, "tutti_version", tutti_version);
  if (!config.is_null()) j["config"] = config;
  put(j, "data", data);
  if (!skipped_models.empty()) j["skipped_models"] = skipped_models;
  put(j, "localization", localization);
  put(j, "tsne", tsne);
  return j;
}

Results Results::from_json(const Json& j, const std::string& file) {
  const std::string what = "results: " + file + ": ";
  check(j.is_object(), "results: {}: expected a JSON object, got {}", file, j.type_name());
  Results r;
  r.tutti_version = optional_field(j, "tutti_version", what, string);
  if (const Json* c = find(j, "config")) r.config = *c;
  r.data = optional_field(j, "data", what, DataInfo::from_json);
  if (const Json* runs = find(j, "runs"))
    r.runs = array_of<Run>(*runs, join(what, "runs"), Run::from_json);
  if (const Json* s = find(j, "summary"))
    r.summary = map_of<ModelSummary>(*s, join(what, "summary"), ModelSummary::from_json);
  if (const Json* s = find(j, "skipped_models"))
    r.skipped_models = map_of<std::string>(*s, join(what, "skipped_models"), string);
  r.localization = optional_field(j, "localization", what, LocalizationSection::from_json);
  r.tsne = optional_field(j, "tsne", what, TsneSection::from_json);
  return r;
}

Results Results::load(const std::string& path) {
  return from_json(core::read_json_file(path), path);
}

}  // namespace tutti::report
