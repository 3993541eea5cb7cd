#include "tutti/report/experiment_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <set>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/report/html.h"
#include "tutti/report/svg.h"

namespace tutti::report {

using core::Json;

namespace {

std::string fmt_ms(const Stat& m, int decimals = 3) {
  if (!std::isfinite(m.mean)) return "n/a";
  return format_mean_std(m.mean, m.std, decimals);
}

// A bare number (e.g. a deterministic baseline) has no spread to show.
std::string fmt_value(const std::optional<Stat>& m) {
  if (!m) return "n/a";
  return m->bare ? format_value(m->mean) : fmt_ms(*m);
}

template <typename T>
std::string optional_text(const std::optional<T>& v, const std::string& fallback = "n/a") {
  if (!v) return fallback;
  if constexpr (std::is_same_v<T, std::string>)
    return *v;
  else
    return std::to_string(*v);
}

std::string figure(const std::string& svg, const std::string& caption) {
  return "<figure>\n" + svg + "<figcaption>" + escape(caption) + "</figcaption>\n</figure>\n";
}

std::string note(const std::string& text) { return "<p class=\"note\">" + escape(text) + "</p>\n"; }

std::optional<std::string> no_runs(const ExperimentResults& r) {
  if (r.models().empty()) return note("n/a: results.json has no runs.");
  return std::nullopt;
}

// Models of an optional section ("localization"/"tsne"): known models first, then the rest.
template <typename T>
std::vector<std::string> section_models(const ExperimentResults& r,
                                        const std::map<std::string, T>& models) {
  std::vector<std::string> out;
  for (const auto& m : r.models())
    if (models.contains(m)) out.push_back(m);
  for (const auto& [name, _] : models)
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

Metric macro(double eval::EvalReport::*value, std::optional<Stat> ModelSummary::*summary) {
  return Metric::macro(value, summary);
}

// ---- sections ---------------------------------------------------------------------------------

std::optional<std::string> render_overview(const ExperimentResults& r) {
  const Results& j = r.results();
  const auto& data = j.data;
  auto data_text = [&](std::string DataInfo::*field) {
    return data ? escape((*data).*field) : std::string("n/a");
  };
  std::string out;
  HtmlTable t({"item", "value"});
  t.set_numeric_columns({false, false});
  t.add_row({"tutti version", optional_text(j.tutti_version)});
  t.add_row_html({"train data", "<code>" + data_text(&DataInfo::train) + "</code><br>md5 <code>" +
                                    data_text(&DataInfo::train_md5) + "</code>"});
  t.add_row_html({"test data", "<code>" + data_text(&DataInfo::test) + "</code><br>md5 <code>" +
                                   data_text(&DataInfo::test_md5) + "</code>"});
  std::string classes;
  for (const auto& c : r.classes()) classes += (classes.empty() ? "" : ", ") + c;
  t.add_row({fmt::format("classes ({})", r.classes().size()), classes.empty() ? "n/a" : classes});
  std::string models;
  for (const auto& m : r.models()) models += (models.empty() ? "" : ", ") + m;
  t.add_row({fmt::format("models ({})", r.models().size()), models.empty() ? "n/a" : models});
  t.add_row({"runs", std::to_string(j.runs.size())});
  t.add_row({"seeds", std::to_string(r.seed_count())});
  out += t.str();
  if (!j.config.is_null()) {
    out += "<details open><summary>Configuration</summary>\n<pre class=\"config\">" +
           escape(j.config.dump(2, ' ', false, Json::error_handler_t::replace)) +
           "</pre>\n</details>\n";
  }
  return out;
}

struct SummaryColumn {
  Metric metric;
  std::string title;
};
const std::vector<SummaryColumn> kSummaryColumns = {
    {macro(&eval::EvalReport::mAP, &ModelSummary::mAP), "mAP"},
    {macro(&eval::EvalReport::auc, &ModelSummary::auc), "AUC"},
    {macro(&eval::EvalReport::f1_pos, &ModelSummary::f1_pos), "F1"},
    {macro(&eval::EvalReport::f1_attmic, &ModelSummary::f1_attmic), "F1 (AttMIC)"},
    {macro(&eval::EvalReport::precision_pos, &ModelSummary::precision_pos), "precision"},
    {macro(&eval::EvalReport::recall_pos, &ModelSummary::recall_pos), "recall"}};

std::optional<std::string> render_summary(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  std::vector<std::string> header = {"model", "runs"};
  for (const auto& c : kSummaryColumns) header.push_back(c.title);
  HtmlTable t(header);
  // The best mean of each column is bold (ties: all of them).
  std::vector<std::vector<Stat>> stats;
  std::vector<double> best(kSummaryColumns.size(), -INFINITY);
  for (const auto& m : r.models()) {
    stats.emplace_back();
    for (std::size_t k = 0; k < kSummaryColumns.size(); ++k) {
      stats.back().push_back(r.stat(m, kSummaryColumns[k].metric));
      if (std::isfinite(stats.back()[k].mean)) best[k] = std::max(best[k], stats.back()[k].mean);
    }
  }
  for (std::size_t i = 0; i < r.models().size(); ++i) {
    const auto& m = r.models()[i];
    std::vector<std::string> row = {escape(m), std::to_string(r.runs(m).size())};
    for (std::size_t k = 0; k < kSummaryColumns.size(); ++k) {
      const std::string cell = escape(fmt_ms(stats[i][k]));
      row.push_back(stats[i][k].mean == best[k] ? "<strong>" + cell + "</strong>" : cell);
    }
    t.add_row_html(std::move(row));
  }
  return t.str() +
         note(
             "Mean \u00B1 sample standard deviation over seeds (n/a: undefined, e.g. one seed). "
             "Precision, recall and F1 are macro means over classes of the positive class at "
             "each class's threshold; F1 (AttMIC) is the macro F1 of present/absent at 0.5. "
             "Best mean in bold.");
}

std::optional<std::string> render_box_plots(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  struct Panel {
    double eval::EvalReport::*value;
    const char *title, *y_label;
  };
  const std::array<Panel, 3> metrics = {
      {{&eval::EvalReport::precision_pos, "Precision", "macro precision"},
       {&eval::EvalReport::recall_pos, "Recall", "macro recall"},
       {&eval::EvalReport::f1_pos, "F1", "macro F1"}}};
  std::vector<BoxPlotPanel> panels;
  for (const auto& [value, title, y_label] : metrics) {
    BoxPlotPanel p;
    p.title = title;
    p.y_label = y_label;
    const Metric metric{[v = value](const eval::EvalReport& e) { return e.*v; }, nullptr};
    for (const auto& m : r.models()) {
      p.labels.push_back(m);
      p.values.push_back(r.run_values(m, metric));
    }
    panels.push_back(std::move(p));
  }
  const std::string svg = box_plot_svg(
      panels, {.title = "Macro precision, recall and F1 over seeds", .height_px = 340});
  return figure(svg,
                "One box per model over its seeds: median line, box from the 25th to the 75th "
                "percentile, whiskers to the furthest value within 1.5 IQR, open circles beyond; "
                "dots are the individual seeds.");
}

std::optional<std::string> render_class_bars(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  if (r.classes().empty()) return note("n/a: no classes.");
  BarChart c;
  c.title = "Per-instrument F1 (mean over seeds, error bars: std)";
  c.value_label = "F1";
  c.categories = r.classes();
  c.value_min = 0;
  c.value_max = 1;
  for (const auto& m : r.models()) {
    BarSeries s{.name = m, .values = {}, .errors = {}};
    for (const auto& cls : r.classes()) {
      const Stat st = r.stat(m, Metric::per_class(cls, &eval::ClassMetrics::f1, &ClassSummary::f1));
      s.values.push_back(st.mean);
      s.errors.push_back(st.std);
    }
    c.series.push_back(std::move(s));
  }
  return figure(bar_chart_svg(c),
                "F1 of the positive class at each class's threshold, one group per instrument, "
                "one bar per model.");
}

std::optional<std::string> render_heatmap(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  if (r.classes().empty()) return note("n/a: no classes.");
  Heatmap h;
  h.title = "Per-instrument F1 by model";
  h.row_labels = r.classes();
  h.col_labels = r.models();
  h.vmin = 0;
  h.vmax = 1;
  h.decimals = 2;
  h.colorbar_label = "F1 (mean over seeds)";
  for (const auto& cls : r.classes()) {
    std::vector<double> row;
    for (const auto& m : r.models())
      row.push_back(
          r.stat(m, Metric::per_class(cls, &eval::ClassMetrics::f1, &ClassSummary::f1)).mean);
    h.values.push_back(std::move(row));
  }
  return figure(heatmap_svg(h), "Mean F1 over seeds; grey cells: n/a.");
}

std::optional<std::string> render_class_tables(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  std::string out;
  struct Column {
    double eval::ClassMetrics::*value;
    std::optional<Stat> ClassSummary::*summary;
    std::string title;
  };
  const std::vector<Column> cols = {{&eval::ClassMetrics::ap, &ClassSummary::ap, "AP"},
                                    {&eval::ClassMetrics::auc, &ClassSummary::auc, "AUC"},
                                    {&eval::ClassMetrics::precision, &ClassSummary::precision, "P"},
                                    {&eval::ClassMetrics::recall, &ClassSummary::recall, "R"},
                                    {&eval::ClassMetrics::f1, &ClassSummary::f1, "F1"}};
  for (const auto& m : r.models()) {
    out += "<h3>" + escape(m) + "</h3>\n";
    std::vector<std::string> header = {"class"};
    for (const auto& c : cols) header.push_back(c.title);
    header.push_back("runs with AP");
    HtmlTable t(header, "per-class");
    for (const auto& cls : r.classes()) {
      std::vector<std::string> row = {cls};
      std::int64_t n_ap = 0;
      for (const auto& c : cols) {
        const Stat st = r.stat(m, Metric::per_class(cls, c.value, c.summary));
        row.push_back(format_value(st.mean));
        if (c.value == &eval::ClassMetrics::ap) n_ap = st.n;
      }
      row.push_back(fmt::format("{}/{}", n_ap, r.runs(m).size()));
      t.add_row(row);
    }
    out += t.str();
  }
  return out + note(
                   "Mean over seeds (a class skipped in a run, e.g. no positive test label, is "
                   "averaged over the other runs; n/a when skipped in all).");
}

std::optional<std::string> render_cost(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  HtmlTable t({"model", "parameters", "seconds / epoch", "epochs run", "best epoch",
               "train seconds", "inference clips / s"});
  for (const auto& m : r.models()) {
    auto raw = [&]<typename T>(std::optional<T> Run::*field) {
      std::vector<double> v;
      for (const Run* run : r.runs(m))
        v.push_back((run->*field) ? static_cast<double>(*(run->*field)) : kNaN);
      return mean_std(v);
    };
    t.add_row({m, format_count(raw(&Run::params).mean), fmt_ms(raw(&Run::seconds_per_epoch), 3),
               format_value(raw(&Run::epochs_run).mean, 1),
               format_value(raw(&Run::best_epoch).mean, 1), fmt_ms(raw(&Run::train_seconds), 1),
               fmt_ms(raw(&Run::infer_clips_per_s), 0)});
  }
  return t.str() + note("Mean (\u00B1 std) over seeds.");
}

std::optional<std::string> render_runs(const ExperimentResults& r) {
  const auto& runs = r.results().runs;
  if (runs.empty()) return note("n/a: results.json has no runs.");
  HtmlTable t({"model", "seed", "mAP", "AUC", "F1", "F1 (AttMIC)", "epochs", "best epoch",
               "train s", "skipped classes", "model file"});
  t.set_numeric_columns({false, true, true, true, true, true, true, true, true, false, false});
  for (const Run& run : runs) {
    const eval::EvalReport& metrics = run.metrics;
    std::string skipped;
    for (const auto& name : metrics.skipped) skipped += (skipped.empty() ? "" : ", ") + name;
    t.add_row({run.model, std::to_string(run.seed), format_value(metrics.mAP),
               format_value(metrics.auc), format_value(metrics.f1_pos),
               format_value(metrics.f1_attmic), optional_text(run.epochs_run),
               optional_text(run.best_epoch), format_value(run.train_seconds.value_or(kNaN), 1),
               skipped.empty() ? "-" : skipped, optional_text(run.model_file, "-")});
  }
  return t.str();
}

std::optional<std::string> render_localization(const ExperimentResults& r) {
  const auto& loc = r.results().localization;
  if (!loc) return std::nullopt;
  std::string out;
  if (loc->description) out += note(*loc->description);
  const auto names = section_models(r, loc->models);
  if (names.empty()) return out + note("n/a: no models in \"localization\".");
  const std::vector<std::string> method_order = {"attention", "frame", "product", "uniform",
                                                 "random"};
  for (const auto& m : names) {
    const LocalizationModel& entry = loc->models.at(m);
    out += "<h3>" + escape(m) + "</h3>\n";
    const auto& methods = entry.methods;
    if (!methods.empty()) {
      std::vector<std::string> order;
      for (const auto& k : method_order)
        if (methods.contains(k)) order.push_back(k);
      for (const auto& [k, _] : methods)
        if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
      // Columns: mAP and AUC first, then any other numeric key of any method (sorted).
      std::set<std::string> extra;
      for (const auto& [_, v] : methods)
        for (const auto& [k, _] : v.other) extra.insert(k);
      std::vector<std::string> header = {"method", "instance mAP", "instance AUC"};
      header.insert(header.end(), extra.begin(), extra.end());
      HtmlTable t(header);
      for (const auto& k : order) {
        const LocalizationMethodResult& v = methods.at(k);
        std::vector<std::string> row = {k, fmt_value(v.mAP), fmt_value(v.auc)};
        for (const auto& key : extra) {
          const auto it = v.other.find(key);
          row.push_back(it == v.other.end() ? "n/a" : fmt_value(it->second));
        }
        t.add_row(row);
      }
      out += t.str();
    } else {
      out += note("n/a: no instance-level metrics.");
    }
    for (const TimelineExample& ex : entry.examples.value_or(std::vector<TimelineExample>{})) {
      try {
        Timeline tl = to_timeline(ex, r.classes());
        tl.title = m + ": clip " + ex.clip;
        std::string caption = "Per instrument: instance probabilities (blue)";
        if (!tl.attention.empty())
          caption += ", attention weights (orange, relative to the row maximum)";
        if (!tl.truth.empty()) caption += ", true segments (vermillion bars)";
        if (!tl.clip_scores.empty()) caption += "; right: the clip-level score";
        out += figure(timeline_svg(tl), caption + ".");
      } catch (const Error& e) {
        out += note(std::string("n/a: example could not be drawn: ") + e.what());
      }
    }
  }
  return out;
}

std::optional<std::string> render_tsne(const ExperimentResults& r) {
  const auto& ts = r.results().tsne;
  if (!ts) return std::nullopt;
  std::string out;
  if (ts->description) out += note(*ts->description);
  const auto names = section_models(r, ts->models);
  if (names.empty()) return out + note("n/a: no models in \"tsne\".");
  for (const auto& m : names) {
    const TsneMap& e = ts->models.at(m);
    Scatter s;
    s.title = e.title.value_or("t-SNE: " + m);
    s.x_label = "t-SNE 1";
    s.y_label = "t-SNE 2";
    s.x = e.x;
    s.y = e.y;
    s.labels = e.labels;
    try {
      out += figure(scatter_svg(s), m + ": each point is one clip.");
    } catch (const Error& err) {
      out += note("n/a: " + m + ": " + err.what());
    }
  }
  return out;
}

// Runs after the page is laid out: counts the plots with a non-empty box, so a headless browser
// (tests/report) can check that every plot is drawn.
constexpr const char* kCheckScript = R"js(
(function () {
  var svgs = document.querySelectorAll('svg.tutti-plot');
  var ok = 0;
  for (var i = 0; i < svgs.length; i++) {
    var r = svgs[i].getBoundingClientRect();
    var b = svgs[i].getBBox();
    if (r.width > 0 && r.height > 0 && b.width > 0 && b.height > 0) ok++;
    else console.error('tutti report: plot ' + i + ' has an empty bounding box');
  }
  document.body.setAttribute('data-plots-ok', String(ok));
  document.body.setAttribute('data-plots-total', String(svgs.length));
})();
)js";

}  // namespace

// ---- public -----------------------------------------------------------------------------------

double json_number(const Json* j) {
  if (!j || !j->is_number()) return kNaN;
  return j->get<double>();
}

Metric Metric::macro(double eval::EvalReport::*value, std::optional<Stat> ModelSummary::*summary) {
  return {[value](const eval::EvalReport& e) { return e.*value; },
          [summary](const ModelSummary& s) { return &(s.*summary); }};
}

Metric Metric::per_class(const std::string& cls, double eval::ClassMetrics::*value,
                         std::optional<Stat> ClassSummary::*summary) {
  return {[cls, value](const eval::EvalReport& e) {
            for (const auto& c : e.per_class)
              if (c.name == cls) return c.*value;
            return kNaN;
          },
          [cls, summary](const ModelSummary& s) -> const std::optional<Stat>* {
            const auto it = s.per_class.find(cls);
            return it == s.per_class.end() ? nullptr : &(it->second.*summary);
          }};
}

ExperimentResults::ExperimentResults(const Json& results, const std::string& file)
    : results_(Results::from_json(results, file)), json_(results) {
  index();
}

ExperimentResults::ExperimentResults(Results results)
    : results_(std::move(results)), json_(results_.to_json()) {
  index();
}

void ExperimentResults::index() {
  std::set<int> seeds;
  for (const Run& run : results_.runs) {
    if (std::find(models_.begin(), models_.end(), run.model) == models_.end())
      models_.push_back(run.model);
    seeds.insert(run.seed);
  }
  for (const auto& [m, _] : results_.summary)
    if (std::find(models_.begin(), models_.end(), m) == models_.end()) models_.push_back(m);
  seed_count_ = seeds.size();

  if (results_.data) {
    classes_ = results_.data->classes;
  } else {
    std::set<std::string> names;
    for (const Run& run : results_.runs)
      for (const auto& c : run.metrics.per_class) names.insert(c.name);
    classes_.assign(names.begin(), names.end());
  }
}

std::vector<const Run*> ExperimentResults::runs(const std::string& model) const {
  std::vector<const Run*> out;
  for (const Run& run : results_.runs)
    if (run.model == model) out.push_back(&run);
  return out;
}

std::vector<double> ExperimentResults::run_values(const std::string& model,
                                                  const Metric& metric) const {
  std::vector<double> out;
  for (const Run* run : runs(model)) out.push_back(metric.value(run->metrics));
  return out;
}

Stat ExperimentResults::stat(const std::string& model, const Metric& metric) const {
  if (metric.summary)
    if (const auto it = results_.summary.find(model); it != results_.summary.end())
      if (const std::optional<Stat>* s = metric.summary(it->second); s && *s) return **s;
  return mean_std(run_values(model, metric));
}

std::vector<ReportSection> default_experiment_sections() {
  return {
      {"overview", "Overview", render_overview},
      {"summary", "Summary", render_summary},
      {"seeds", "Precision, recall and F1 over seeds", render_box_plots},
      {"per-instrument", "Per-instrument F1", render_class_bars},
      {"heatmap", "Per-instrument F1 heatmap", render_heatmap},
      {"per-class", "Per-class metrics", render_class_tables},
      {"cost", "Model size and speed", render_cost},
      {"runs", "Runs", render_runs},
      {"localization", "Localization", render_localization},
      {"tsne", "Embeddings (t-SNE)", render_tsne},
  };
}

std::string render_experiment_report(const Json& results) {
  return render_experiment_report(ExperimentResults(results));
}

std::string render_experiment_report(const Json& results,
                                     const std::vector<ReportSection>& sections) {
  return render_experiment_report(ExperimentResults(results), sections);
}

std::string render_experiment_report(const ExperimentResults& view,
                                     const std::vector<ReportSection>& sections) {
  std::vector<std::pair<const ReportSection*, std::string>> bodies;
  for (const auto& s : sections) {
    check(static_cast<bool>(s.render), "report: section '{}' has no render function", s.id);
    if (auto body = s.render(view)) bodies.emplace_back(&s, std::move(*body));
  }
  std::string body = "<header>\n<h1>tutti experiment report</h1>\n";
  body += note(fmt::format("tutti {} \u00B7 {} model(s) \u00B7 {} seed(s) \u00B7 {} class(es)",
                           optional_text(view.results().tutti_version), view.models().size(),
                           view.seed_count(), view.classes().size()));
  body += "<nav class=\"toc\"><ol>\n";
  for (const auto& [s, _] : bodies)
    body += "<li><a href=\"#" + escape(s->id) + "\">" + escape(s->title) + "</a></li>\n";
  body += "</ol></nav>\n</header>\n";
  for (const auto& [s, html] : bodies) {
    body += "<section id=\"" + escape(s->id) + "\">\n<h2>" + escape(s->title) + "</h2>\n";
    body += html;
    body += "</section>\n";
  }
  return html_page("tutti experiment report", body, kCheckScript);
}

void write_experiment_report(const ExperimentResults& results,
                             const std::filesystem::path& html_path,
                             const std::vector<ReportSection>& sections) {
  core::write_file_atomic(html_path, render_experiment_report(results, sections));
}

void write_experiment_report(const Json& results, const std::filesystem::path& html_path) {
  write_experiment_report(ExperimentResults(results), html_path);
}

void write_experiment_report(const Json& results, const std::filesystem::path& html_path,
                             const std::vector<ReportSection>& sections) {
  write_experiment_report(ExperimentResults(results), html_path, sections);
}

Timeline to_timeline(const TimelineExample& ex, const std::vector<std::string>& default_classes) {
  const std::string& clip = ex.clip;
  Timeline tl;
  tl.title = clip;
  tl.hop_s = ex.hop_s;
  tl.classes = ex.classes.value_or(default_classes);
  tl.prob = ex.prob;
  check(!tl.prob.empty() || tl.classes.empty(), "report: timeline example '{}': no 'prob'", clip);
  tl.attention = ex.attention.value_or(std::vector<std::vector<double>>{});
  tl.clip_scores = ex.clip_scores.value_or(std::vector<double>{});
  if (ex.truth) {
    tl.truth.resize(tl.classes.size());
    for (const auto& [name, segs] : *ex.truth) {
      const auto it = std::find(tl.classes.begin(), tl.classes.end(), name);
      check(it != tl.classes.end(),
            "report: timeline example '{}': truth class '{}' not in classes", clip, name);
      for (const auto& seg : segs)
        tl.truth[static_cast<std::size_t>(it - tl.classes.begin())].push_back({seg[0], seg[1]});
    }
  }
  return tl;
}

Timeline timeline_from_json(const Json& ex, const std::vector<std::string>& default_classes) {
  return to_timeline(TimelineExample::from_json(ex, "report: timeline example"), default_classes);
}

}  // namespace tutti::report
