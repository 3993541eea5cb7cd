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

const Json* child(const Json* j, const std::string& key) {
  if (!j || !j->is_object()) return nullptr;
  const auto it = j->find(key);
  return it == j->end() ? nullptr : &*it;
}

const Json* at_path(const Json* j, const std::vector<std::string>& path) {
  for (const auto& k : path) j = child(j, k);
  return j;
}

std::string json_string(const Json* j, const std::string& fallback = "n/a") {
  if (!j || j->is_null()) return fallback;
  if (j->is_string()) return j->get<std::string>();
  return j->dump(-1, ' ', false, Json::error_handler_t::replace);
}

// A mean/std from a summary value: {"mean","std","n"} or a bare number.
std::optional<MeanStd> read_mean_std(const Json* j) {
  if (!j) return std::nullopt;
  if (j->is_number()) return MeanStd{json_number(j), kNaN, 1};
  if (j->is_object() && j->contains("mean")) {
    MeanStd m;
    m.mean = json_number(child(j, "mean"));
    m.std = json_number(child(j, "std"));
    const double n = json_number(child(j, "n"));
    m.n = std::isfinite(n) ? static_cast<std::int64_t>(n) : (std::isfinite(m.mean) ? 1 : 0);
    return m;
  }
  if (j->is_null()) return MeanStd{};
  return std::nullopt;
}

std::string fmt_ms(const MeanStd& m, int decimals = 3) {
  if (!std::isfinite(m.mean)) return "n/a";
  return format_mean_std(m.mean, m.std, decimals);
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
std::vector<std::string> section_models(const ExperimentResults& r, const Json* models) {
  std::vector<std::string> out;
  if (!models || !models->is_object()) return out;
  for (const auto& m : r.models())
    if (models->contains(m)) out.push_back(m);
  for (const auto& [name, _] : models->items())
    if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  return out;
}

// ---- sections ---------------------------------------------------------------------------------

std::optional<std::string> render_overview(const ExperimentResults& r) {
  const Json& j = r.json();
  const Json* data = child(&j, "data");
  std::string out;
  HtmlTable t({"item", "value"});
  t.set_numeric_columns({false, false});
  t.add_row({"tutti version", json_string(child(&j, "tutti_version"))});
  t.add_row_html({"train data", "<code>" + escape(json_string(child(data, "train"))) +
                                    "</code><br>md5 <code>" +
                                    escape(json_string(child(data, "train_md5"))) + "</code>"});
  t.add_row_html({"test data", "<code>" + escape(json_string(child(data, "test"))) +
                                   "</code><br>md5 <code>" +
                                   escape(json_string(child(data, "test_md5"))) + "</code>"});
  std::string classes;
  for (const auto& c : r.classes()) classes += (classes.empty() ? "" : ", ") + c;
  t.add_row({fmt::format("classes ({})", r.classes().size()), classes.empty() ? "n/a" : classes});
  std::string models;
  for (const auto& m : r.models()) models += (models.empty() ? "" : ", ") + m;
  t.add_row({fmt::format("models ({})", r.models().size()), models.empty() ? "n/a" : models});
  const Json* runs = child(&j, "runs");
  t.add_row({"runs", std::to_string(runs && runs->is_array() ? runs->size() : 0)});
  t.add_row({"seeds", std::to_string(r.seed_count())});
  out += t.str();
  if (const Json* config = child(&j, "config"); config && !config->is_null()) {
    out += "<details open><summary>Configuration</summary>\n<pre class=\"config\">" +
           escape(config->dump(2, ' ', false, Json::error_handler_t::replace)) +
           "</pre>\n</details>\n";
  }
  return out;
}

struct SummaryColumn {
  std::string key, title;
};
const std::vector<SummaryColumn> kSummaryColumns = {{"mAP", "mAP"},
                                                    {"auc", "AUC"},
                                                    {"f1_pos", "F1"},
                                                    {"f1_attmic", "F1 (AttMIC)"},
                                                    {"precision_pos", "precision"},
                                                    {"recall_pos", "recall"}};

std::optional<std::string> render_summary(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  std::vector<std::string> header = {"model", "runs"};
  for (const auto& c : kSummaryColumns) header.push_back(c.title);
  HtmlTable t(header);
  // The best mean of each column is bold (ties: all of them).
  std::vector<std::vector<MeanStd>> stats;
  std::vector<double> best(kSummaryColumns.size(), -INFINITY);
  for (const auto& m : r.models()) {
    stats.emplace_back();
    for (std::size_t k = 0; k < kSummaryColumns.size(); ++k) {
      stats.back().push_back(r.stat(m, {kSummaryColumns[k].key}));
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
  const std::vector<std::array<std::string, 3>> metrics = {
      {"precision_pos", "Precision", "macro precision"},
      {"recall_pos", "Recall", "macro recall"},
      {"f1_pos", "F1", "macro F1"}};
  std::vector<BoxPlotPanel> panels;
  for (const auto& [key, title, y_label] : metrics) {
    BoxPlotPanel p;
    p.title = title;
    p.y_label = y_label;
    for (const auto& m : r.models()) {
      p.labels.push_back(m);
      p.values.push_back(r.run_values(m, {key}));
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
      const MeanStd st = r.stat(m, {"per_class", cls, "f1"});
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
    for (const auto& m : r.models()) row.push_back(r.stat(m, {"per_class", cls, "f1"}).mean);
    h.values.push_back(std::move(row));
  }
  return figure(heatmap_svg(h), "Mean F1 over seeds; grey cells: n/a.");
}

std::optional<std::string> render_class_tables(const ExperimentResults& r) {
  if (auto n = no_runs(r)) return n;
  std::string out;
  const std::vector<std::pair<std::string, std::string>> cols = {
      {"ap", "AP"}, {"auc", "AUC"}, {"precision", "P"}, {"recall", "R"}, {"f1", "F1"}};
  for (const auto& m : r.models()) {
    out += "<h3>" + escape(m) + "</h3>\n";
    std::vector<std::string> header = {"class"};
    for (const auto& c : cols) header.push_back(c.second);
    header.push_back("runs with AP");
    HtmlTable t(header, "per-class");
    for (const auto& cls : r.classes()) {
      std::vector<std::string> row = {cls};
      std::int64_t n_ap = 0;
      for (const auto& [key, title] : cols) {
        const MeanStd st = r.stat(m, {"per_class", cls, key});
        row.push_back(format_value(st.mean));
        if (key == "ap") n_ap = st.n;
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
    auto raw = [&](const char* key) {
      std::vector<double> v;
      for (const Json* run : r.runs(m)) v.push_back(json_number(child(run, key)));
      return mean_std(v);
    };
    t.add_row({m, format_count(raw("params").mean), fmt_ms(raw("seconds_per_epoch"), 3),
               format_value(raw("epochs_run").mean, 1), format_value(raw("best_epoch").mean, 1),
               fmt_ms(raw("train_seconds"), 1), fmt_ms(raw("infer_clips_per_s"), 0)});
  }
  return t.str() + note("Mean (\u00B1 std) over seeds.");
}

std::optional<std::string> render_runs(const ExperimentResults& r) {
  const Json* runs = child(&r.json(), "runs");
  if (!runs || !runs->is_array() || runs->empty()) return note("n/a: results.json has no runs.");
  HtmlTable t({"model", "seed", "mAP", "AUC", "F1", "F1 (AttMIC)", "epochs", "best epoch",
               "train s", "skipped classes", "model file"});
  t.set_numeric_columns({false, true, true, true, true, true, true, true, true, false, false});
  for (const Json& run : *runs) {
    const Json* metrics = child(&run, "metrics");
    std::string skipped;
    if (const Json* s = child(metrics, "skipped"); s && s->is_array())
      for (const Json& name : *s) skipped += (skipped.empty() ? "" : ", ") + json_string(&name);
    t.add_row({json_string(child(&run, "model")), json_string(child(&run, "seed")),
               format_value(json_number(child(metrics, "mAP"))),
               format_value(json_number(child(metrics, "auc"))),
               format_value(json_number(child(metrics, "f1_pos"))),
               format_value(json_number(child(metrics, "f1_attmic"))),
               json_string(child(&run, "epochs_run")), json_string(child(&run, "best_epoch")),
               format_value(json_number(child(&run, "train_seconds")), 1),
               skipped.empty() ? "-" : skipped, json_string(child(&run, "model_file"), "-")});
  }
  return t.str();
}

std::optional<std::string> render_localization(const ExperimentResults& r) {
  const Json* loc = child(&r.json(), "localization");
  if (!loc || loc->is_null()) return std::nullopt;
  std::string out;
  if (const Json* d = child(loc, "description"); d && d->is_string())
    out += note(d->get<std::string>());
  const Json* models = child(loc, "models");
  const auto names = section_models(r, models);
  if (names.empty()) return out + note("n/a: no models in \"localization\".");
  const std::vector<std::string> method_order = {"attention", "frame", "product", "uniform",
                                                 "random"};
  for (const auto& m : names) {
    const Json* entry = child(models, m);
    out += "<h3>" + escape(m) + "</h3>\n";
    const Json* methods = child(entry, "methods");
    if (methods && methods->is_object() && !methods->empty()) {
      std::vector<std::string> order;
      for (const auto& k : method_order)
        if (methods->contains(k)) order.push_back(k);
      for (const auto& [k, _] : methods->items())
        if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
      // Columns: mAP and AUC first, then any other numeric key of any method (sorted).
      std::vector<std::string> keys = {"mAP", "auc"};
      std::set<std::string> extra;
      for (const auto& [_, v] : methods->items()) {
        if (!v.is_object()) continue;
        for (const auto& [k, x] : v.items())
          if (k != "mAP" && k != "auc" && k != "ap" && read_mean_std(&x) && !x.is_null())
            extra.insert(k);
      }
      keys.insert(keys.end(), extra.begin(), extra.end());
      std::vector<std::string> header = {"method", "instance mAP", "instance AUC"};
      for (std::size_t i = 2; i < keys.size(); ++i) header.push_back(keys[i]);
      HtmlTable t(header);
      for (const auto& k : order) {
        const Json* v = child(methods, k);
        std::vector<std::string> row = {k};
        for (const auto& key : keys) {
          const Json* x = child(v, key);
          if (!x && key == "mAP") x = child(v, "ap");
          const auto ms = read_mean_std(x);
          // A bare number (e.g. a deterministic baseline) has no spread to show.
          row.push_back(x && x->is_number() ? format_value(ms->mean) : ms ? fmt_ms(*ms) : "n/a");
        }
        t.add_row(row);
      }
      out += t.str();
    } else {
      out += note("n/a: no instance-level metrics.");
    }
    const Json* examples = child(entry, "examples");
    if (examples && examples->is_array()) {
      for (const Json& ex : *examples) {
        try {
          Timeline tl = timeline_from_json(ex, r.classes());
          tl.title = m + ": clip " + json_string(child(&ex, "clip"));
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
  }
  return out;
}

std::optional<std::string> render_tsne(const ExperimentResults& r) {
  const Json* ts = child(&r.json(), "tsne");
  if (!ts || ts->is_null()) return std::nullopt;
  std::string out;
  if (const Json* d = child(ts, "description"); d && d->is_string())
    out += note(d->get<std::string>());
  const Json* models = child(ts, "models");
  const auto names = section_models(r, models);
  if (names.empty()) return out + note("n/a: no models in \"tsne\".");
  for (const auto& m : names) {
    const Json* e = child(models, m);
    Scatter s;
    const Json* title = child(e, "title");
    s.title = title && title->is_string() ? title->get<std::string>() : "t-SNE: " + m;
    s.x_label = "t-SNE 1";
    s.y_label = "t-SNE 2";
    auto numbers = [](const Json* a) {
      std::vector<double> v;
      if (a && a->is_array())
        for (const Json& x : *a) v.push_back(json_number(&x));
      return v;
    };
    s.x = numbers(child(e, "x"));
    s.y = numbers(child(e, "y"));
    if (const Json* l = child(e, "labels"); l && l->is_array())
      for (const Json& x : *l) s.labels.push_back(json_string(&x));
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

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd m;
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

ExperimentResults::ExperimentResults(const Json& results) : results_(&results) {
  check(results.is_object(), "report: results.json: expected a JSON object, got {}",
        results.type_name());
  std::set<std::string> seeds;
  if (const Json* runs = child(results_, "runs"); runs && runs->is_array()) {
    for (const Json& run : *runs) {
      const std::string m = json_string(child(&run, "model"), "(unnamed)");
      if (std::find(models_.begin(), models_.end(), m) == models_.end()) models_.push_back(m);
      if (const Json* s = child(&run, "seed"); s && !s->is_null()) seeds.insert(s->dump());
    }
  }
  if (const Json* summary = child(results_, "summary"); summary && summary->is_object())
    for (const auto& [m, _] : summary->items())
      if (std::find(models_.begin(), models_.end(), m) == models_.end()) models_.push_back(m);
  seed_count_ = seeds.size();

  if (const Json* cls = at_path(results_, {"data", "classes"}); cls && cls->is_array()) {
    for (const Json& c : *cls) classes_.push_back(json_string(&c));
  } else {
    std::set<std::string> names;
    if (const Json* runs = child(results_, "runs"); runs && runs->is_array())
      for (const Json& run : *runs)
        if (const Json* pc = at_path(&run, {"metrics", "per_class"}); pc && pc->is_object())
          for (const auto& [name, _] : pc->items()) names.insert(name);
    classes_.assign(names.begin(), names.end());
  }
}

std::vector<const Json*> ExperimentResults::runs(const std::string& model) const {
  std::vector<const Json*> out;
  if (const Json* runs = child(results_, "runs"); runs && runs->is_array())
    for (const Json& run : *runs)
      if (json_string(child(&run, "model"), "(unnamed)") == model) out.push_back(&run);
  return out;
}

std::vector<double> ExperimentResults::run_values(const std::string& model,
                                                  const std::vector<std::string>& path) const {
  std::vector<double> out;
  for (const Json* run : runs(model))
    out.push_back(json_number(at_path(child(run, "metrics"), path)));
  return out;
}

MeanStd ExperimentResults::stat(const std::string& model,
                                const std::vector<std::string>& path) const {
  const Json* s = at_path(results_, {"summary", model});
  if (s && s->is_object()) {
    const Json* mean = child(s, "mean");
    if (mean && mean->is_object() && s->contains("std")) {
      // eval::RunsSummary layout: parallel trees of means, stds and counts.
      if (const Json* v = at_path(mean, path); v && (v->is_number() || v->is_null())) {
        MeanStd m;
        m.mean = json_number(v);
        m.std = json_number(at_path(child(s, "std"), path));
        const double n = json_number(at_path(child(s, "n"), path));
        m.n = std::isfinite(n) ? static_cast<std::int64_t>(n) : 0;
        return m;
      }
    } else if (auto m = read_mean_std(at_path(s, path))) {
      return *m;
    }
  }
  return mean_std(run_values(model, path));
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
  return render_experiment_report(results, default_experiment_sections());
}

std::string render_experiment_report(const Json& results,
                                     const std::vector<ReportSection>& sections) {
  const ExperimentResults view(results);
  std::vector<std::pair<const ReportSection*, std::string>> bodies;
  for (const auto& s : sections) {
    check(static_cast<bool>(s.render), "report: section '{}' has no render function", s.id);
    if (auto body = s.render(view)) bodies.emplace_back(&s, std::move(*body));
  }
  std::string body = "<header>\n<h1>tutti experiment report</h1>\n";
  body += note(fmt::format("tutti {} \u00B7 {} model(s) \u00B7 {} seed(s) \u00B7 {} class(es)",
                           json_string(child(&results, "tutti_version")), view.models().size(),
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

void write_experiment_report(const Json& results, const std::filesystem::path& html_path) {
  write_experiment_report(results, html_path, default_experiment_sections());
}

void write_experiment_report(const Json& results, const std::filesystem::path& html_path,
                             const std::vector<ReportSection>& sections) {
  core::write_file_atomic(html_path, render_experiment_report(results, sections));
}

Timeline timeline_from_json(const Json& ex, const std::vector<std::string>& default_classes) {
  check(ex.is_object(), "report: timeline example: expected an object, got {}", ex.type_name());
  const std::string clip = json_string(child(&ex, "clip"), "(unnamed)");
  Timeline tl;
  tl.title = clip;
  if (const Json* h = child(&ex, "hop_s"); h && h->is_number()) tl.hop_s = h->get<double>();
  if (const Json* c = child(&ex, "classes"); c && c->is_array())
    for (const Json& x : *c) tl.classes.push_back(json_string(&x));
  else
    tl.classes = default_classes;
  auto matrix = [&](const char* key) {
    std::vector<std::vector<double>> m;
    const Json* a = child(&ex, key);
    if (!a || a->is_null()) return m;
    check(a->is_array(), "report: timeline example '{}': '{}' is not an array", clip, key);
    for (const Json& row : *a) {
      check(row.is_array(), "report: timeline example '{}': '{}' is not an array of arrays", clip,
            key);
      std::vector<double> v;
      for (const Json& x : row) v.push_back(json_number(&x));
      m.push_back(std::move(v));
    }
    return m;
  };
  tl.prob = matrix("prob");
  check(!tl.prob.empty() || tl.classes.empty(), "report: timeline example '{}': no 'prob'", clip);
  tl.attention = matrix("attention");
  if (const Json* cs = child(&ex, "clip_scores"); cs && cs->is_array())
    for (const Json& x : *cs) tl.clip_scores.push_back(json_number(&x));
  if (const Json* truth = child(&ex, "truth"); truth && truth->is_object()) {
    tl.truth.resize(tl.classes.size());
    for (const auto& [name, segs] : truth->items()) {
      const auto it = std::find(tl.classes.begin(), tl.classes.end(), name);
      check(it != tl.classes.end(),
            "report: timeline example '{}': truth class '{}' not in classes", clip, name);
      check(segs.is_array(), "report: timeline example '{}': truth '{}' is not an array", clip,
            name);
      for (const Json& seg : segs) {
        check(seg.is_array() && seg.size() == 2,
              "report: timeline example '{}': truth '{}' segment is not [start_s, end_s]", clip,
              name);
        tl.truth[static_cast<std::size_t>(it - tl.classes.begin())].push_back(
            {json_number(&seg[0]), json_number(&seg[1])});
      }
    }
  }
  return tl;
}

}  // namespace tutti::report
