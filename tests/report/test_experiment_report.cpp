// The experiment report from results.json: content against numpy reference values, lenient
// reading of odd input, escaping, extensibility, determinism.
#include <gtest/gtest.h>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/report/experiment_report.h"
#include "tutti/report/html.h"
#include "xml_check.h"

namespace tutti::report {
namespace {

using core::Json;
using tutti::testing::extract_svgs;
using tutti::testing::fixture;
using tutti::testing::xml_wellformed;

// results_small.json: 3 models x 3 seeds x 4 classes + localization (2 timelines) + tsne
// (2 scatters), made by tools/fixtures/make_report_fixtures.py. Plots: 1 box-plot figure,
// 1 bar chart, 1 heatmap, 2 timelines, 2 scatters.
constexpr std::size_t kFixturePlots = 7;

Json fixture_results() { return core::read_json_file(fixture("report/results_small.json")); }
Json expected() { return core::read_json_file(fixture("report/expected.json")); }

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The HTML between <section id="id"> and its </section>.
std::string section(const std::string& html, const std::string& id) {
  const auto a = html.find("<section id=\"" + id + "\">");
  if (a == std::string::npos) return {};
  return html.substr(a, html.find("</section>", a) - a);
}

// The first table after `<h3>name</h3>` in `html`.
std::string table_after(const std::string& html, const std::string& heading) {
  const auto a = html.find("<h3>" + heading + "</h3>");
  if (a == std::string::npos) return {};
  return html.substr(a, html.find("</table>", a) - a);
}

std::string num_cells(const std::vector<std::string>& cells) {
  std::string s;
  for (const auto& c : cells) s += "<td class=\"num\">" + c + "</td>";
  return s;
}

TEST(ExperimentReport, FixtureHasEverySectionAndWellFormedPlots) {
  const std::string html = render_experiment_report(fixture_results());
  for (const char* id : {"overview", "summary", "seeds", "per-instrument", "heatmap", "per-class",
                         "cost", "runs", "localization", "tsne"}) {
    EXPECT_FALSE(section(html, id).empty()) << id;
    EXPECT_NE(html.find(std::string("<a href=\"#") + id + "\">"), std::string::npos) << id;
  }
  const auto svgs = extract_svgs(html);
  ASSERT_EQ(svgs.size(), kFixturePlots);
  for (const auto& svg : svgs) EXPECT_EQ(xml_wellformed(svg), "") << svg.substr(0, 300);
  EXPECT_EQ(count(section(html, "seeds"), "<svg"), 1u);
  EXPECT_EQ(count(section(html, "localization"), "<svg"), 2u);
  EXPECT_EQ(count(section(html, "tsne"), "<svg"), 2u);
  // The check script that the browser test relies on.
  EXPECT_NE(html.find("data-plots-ok"), std::string::npos);
}

TEST(ExperimentReport, NeedsNoNetwork) {
  const std::string html = render_experiment_report(fixture_results());
  // The only URL is the SVG namespace name (an identifier, never fetched).
  EXPECT_EQ(count(html, "http"), count(html, "xmlns=\"http://www.w3.org/2000/svg\""));
  for (const char* bad : {"<link", "src=", "@import", "url(", "@font-face", "<iframe", "<img"})
    EXPECT_EQ(html.find(bad), std::string::npos) << bad;
}

TEST(ExperimentReport, OverviewShowsVersionDataAndSeeds) {
  const std::string s = section(render_experiment_report(fixture_results()), "overview");
  EXPECT_NE(s.find("<td>0.1.0</td>"), std::string::npos);
  EXPECT_NE(s.find("data/openmic/openmic_train.npz"), std::string::npos);
  EXPECT_NE(s.find("0f5c0a9b0a8cbc2d1bd6e1f5c3a7d2e4"), std::string::npos);
  EXPECT_NE(s.find("9d2b7f6c1e0a4b3c8d5e6f7a8b9c0d1e"), std::string::npos);
  EXPECT_NE(s.find("<td>seeds</td><td>3</td>"), std::string::npos) << s;
  EXPECT_NE(s.find("<td>runs</td><td>9</td>"), std::string::npos);
  EXPECT_NE(s.find("&quot;learning_rate&quot;: 0.001"), std::string::npos);  // config, escaped
}

// Per-class means over seeds against numpy.nanmean (expected.json). The AUC is not in the
// fixture's "summary", so it is computed from the runs; logreg/violin has AP/AUC null in one run.
TEST(ExperimentReport, PerClassTableMatchesNumpy) {
  const Json exp = expected()["per_class_mean"];
  const std::string s = section(render_experiment_report(fixture_results()), "per-class");
  for (const std::string model : {"logreg", "mlp", "attention"}) {
    const std::string table = table_after(s, model);
    ASSERT_FALSE(table.empty()) << model;
    for (const std::string cls : {"guitar", "piano", "violin", "voice"}) {
      const Json& e = exp[model][cls];
      std::vector<std::string> cells;
      for (const char* k : {"ap", "auc", "precision", "recall", "f1"})
        cells.push_back(format_value(e[k].get<double>()));
      cells.push_back(model == "logreg" && cls == "violin" ? "2/3" : "3/3");
      const std::string row = "<tr><td>" + cls + "</td>" + num_cells(cells) + "</tr>";
      EXPECT_NE(table.find(row), std::string::npos) << model << " " << row << "\n" << table;
    }
  }
}

TEST(ExperimentReport, SummaryFromRunsEqualsNumpySummary) {
  // With "summary" the table shows it; without, the report computes mean and sample std
  // (ddof = 1) from the runs. The fixture's summary was computed by numpy: both must agree.
  const Json with = fixture_results();
  Json without = with;
  without.erase("summary");
  const std::string a = section(render_experiment_report(with), "summary");
  const std::string b = section(render_experiment_report(without), "summary");
  EXPECT_EQ(a, b);
  const Json& m = with["summary"]["attention"];
  const std::string row =
      "<tr><td>attention</td><td class=\"num\">3</td><td class=\"num\"><strong>" +
      format_mean_std(m["mAP"]["mean"].get<double>(), m["mAP"]["std"].get<double>()) +
      "</strong></td>";
  EXPECT_NE(a.find(row), std::string::npos) << a;
  // Per-class sections also agree (F1 bars/heatmap/table read the per-class summary).
  for (const char* id : {"per-class", "per-instrument", "heatmap"})
    EXPECT_EQ(section(render_experiment_report(with), id),
              section(render_experiment_report(without), id))
        << id;
}

TEST(ExperimentReport, MeanStdUsesSampleStd) {
  const MeanStd m = mean_std({1, 2, 3, 4, kNaN});
  EXPECT_EQ(m.n, 4);
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.std, 1.2909944487358056, 1e-15);  // sqrt(5/3), numpy.std(ddof=1)
  const MeanStd one = mean_std({0.7});
  EXPECT_DOUBLE_EQ(one.mean, 0.7);
  EXPECT_TRUE(std::isnan(one.std));
  EXPECT_EQ(mean_std({}).n, 0);
  EXPECT_TRUE(std::isnan(mean_std({kNaN}).mean));
}

TEST(ExperimentReport, ReadsEvalRunsSummaryLayout) {
  // eval::RunsSummary::to_json() layout: {"n_runs","ddof","mean":{..},"std":{..},"n":{..}}.
  Json r = fixture_results();
  Json s = Json::object();
  s["n_runs"] = 3;
  s["ddof"] = 1;
  s["mean"] = {{"mAP", 0.9}, {"auc", nullptr}, {"per_class", {{"piano", {{"f1", 0.123}}}}}};
  s["std"] = {{"mAP", 0.011}, {"auc", nullptr}, {"per_class", {{"piano", {{"f1", 0.002}}}}}};
  s["n"] = {{"mAP", 3}, {"auc", 0}, {"per_class", {{"piano", {{"f1", 3}}}}}};
  r["summary"] = {{"mlp", s}};
  const ExperimentResults view(r);
  const MeanStd map = view.stat("mlp", Metric::macro(&eval::EvalReport::mAP, &ModelSummary::mAP));
  EXPECT_DOUBLE_EQ(map.mean, 0.9);
  EXPECT_DOUBLE_EQ(map.std, 0.011);
  EXPECT_EQ(map.n, 3);
  // null in the summary: n/a
  EXPECT_TRUE(
      std::isnan(view.stat("mlp", Metric::macro(&eval::EvalReport::auc, &ModelSummary::auc)).mean));
  EXPECT_DOUBLE_EQ(
      view.stat("mlp", Metric::per_class("piano", &eval::ClassMetrics::f1, &ClassSummary::f1)).mean,
      0.123);
  // Not in that summary: computed from the runs (numpy values in expected.json).
  EXPECT_NEAR(
      view.stat("mlp", Metric::per_class("guitar", &eval::ClassMetrics::auc, &ClassSummary::auc))
          .mean,
      expected()["per_class_mean"]["mlp"]["guitar"]["auc"].get<double>(), 1e-12);
  const std::string html = section(render_experiment_report(r), "summary");
  EXPECT_NE(html.find("<td>mlp</td><td class=\"num\">3</td><td class=\"num\"><strong>0.900 "
                      "\u00B1 0.011</strong></td><td class=\"num\">n/a</td>"),
            std::string::npos)
      << html;
}

TEST(ExperimentReport, BoxPlotsUseSeedValues) {
  // The median of three seeds is the middle value; check it against the fixture's raw values.
  const Json bv = expected()["box_values"];
  const std::string s = section(render_experiment_report(fixture_results()), "seeds");
  for (const std::string model : {"logreg", "mlp", "attention"}) {
    auto v = bv[model]["f1_pos"].get<std::vector<double>>();
    std::sort(v.begin(), v.end());
    EXPECT_NE(s.find("<title>" + model + ": median " + format_value(v[1]) + ", Q1 " +
                     format_value((v[0] + v[1]) / 2) + ", Q3 " + format_value((v[1] + v[2]) / 2)),
              std::string::npos)
        << model;
  }
}

TEST(ExperimentReport, OptionalSectionsOnlyWhenPresent) {
  Json r = fixture_results();
  r.erase("localization");
  r.erase("tsne");
  const std::string html = render_experiment_report(r);
  EXPECT_TRUE(section(html, "localization").empty());
  EXPECT_TRUE(section(html, "tsne").empty());
  EXPECT_EQ(html.find("href=\"#tsne\""), std::string::npos);
  EXPECT_EQ(extract_svgs(html).size(), kFixturePlots - 4);
}

TEST(ExperimentReport, LocalizationTableAndTimelines) {
  const std::string s = section(render_experiment_report(fixture_results()), "localization");
  const std::string att = table_after(s, "attention");
  // Methods in the canonical order; {"mean","std","n"} as mean ± std, bare numbers as they are.
  const auto pos = [&](const std::string& m) { return att.find("<td>" + m + "</td>"); };
  EXPECT_LT(pos("attention"), pos("frame"));
  EXPECT_LT(pos("frame"), pos("product"));
  EXPECT_LT(pos("product"), pos("uniform"));
  EXPECT_LT(pos("uniform"), pos("random"));
  EXPECT_NE(att.find("<td>uniform</td>" + num_cells({"0.500", "0.500"})), std::string::npos) << att;
  // attention mAP over seeds {0.61, 0.64, 0.62}: mean 0.623333, std (ddof 1) 0.015275.
  EXPECT_NE(
      att.find("<td>attention</td>" + num_cells({"0.623 \u00B1 0.015", "0.720 \u00B1 0.010"})),
      std::string::npos)
      << att;
  EXPECT_NE(s.find("attention: clip 000046_3840"), std::string::npos);
  EXPECT_NE(s.find("mlp: clip 000046_3840"), std::string::npos);
  EXPECT_NE(s.find("Instance-level ranking"), std::string::npos);  // description
}

TEST(ExperimentReport, OddInputRendersNa) {
  // Not an object.
  EXPECT_THROW(render_experiment_report(Json::array()), Error);
  EXPECT_THROW(ExperimentResults(Json("x")), Error);

  // Empty results and empty runs.
  for (const Json& r : {Json::object(), Json{{"runs", Json::array()}}}) {
    const std::string html = render_experiment_report(r);
    EXPECT_NE(section(html, "summary").find("n/a: results.json has no runs."), std::string::npos);
    EXPECT_EQ(extract_svgs(html).size(), 0u);
    EXPECT_NE(html.find("data-plots-ok"), std::string::npos);
  }

  // One seed per model, no summary: std is n/a, plots still drawn.
  Json one = fixture_results();
  one.erase("summary");
  Json runs = Json::array();
  for (const Json& run : one["runs"])
    if (run["seed"] == 0) runs.push_back(run);
  one["runs"] = runs;
  const std::string html = render_experiment_report(one);
  EXPECT_NE(section(html, "summary").find("\u00B1 n/a"), std::string::npos);
  EXPECT_EQ(extract_svgs(html).size(), kFixturePlots);

  // Nulls, missing optional keys and shapes that do not fit: n/a or a note, no crash.
  Json odd = fixture_results();
  odd["runs"][0]["metrics"]["f1_pos"] = nullptr;
  odd["runs"][1].erase("params");
  odd["runs"][2]["train_seconds"] = nullptr;
  odd["runs"][3].erase("model_file");
  odd["summary"]["mlp"]["mAP"] = nullptr;
  odd["data"]["classes"].push_back("kazoo");                // a class no run has
  odd["tsne"]["models"]["mlp"]["y"] = Json::array({1, 2});  // length mismatch -> note
  odd["localization"]["models"]["mlp"]["examples"][0]["truth"] =
      Json::parse(R"({"nope": [[0, 1]]})");
  const std::string h = render_experiment_report(odd);
  EXPECT_NE(section(h, "runs").find("<td>-</td></tr>"), std::string::npos);  // no model file
  EXPECT_NE(section(h, "summary").find("<td>mlp</td><td class=\"num\">3</td><td class=\"num\">n/a"),
            std::string::npos);
  EXPECT_NE(section(h, "tsne").find("n/a: mlp: report: scatter"), std::string::npos);
  EXPECT_NE(section(h, "localization").find("n/a: example could not be drawn"), std::string::npos);
  EXPECT_NE(section(h, "per-class")
                .find("<tr><td>kazoo</td>" + num_cells({"n/a", "n/a", "n/a", "n/a", "n/a", "0/3"})),
            std::string::npos);
  for (const auto& svg : extract_svgs(h)) EXPECT_EQ(xml_wellformed(svg), "");
}

TEST(ExperimentReport, EscapesClassAndModelNames) {
  std::string text = fixture_results().dump();
  auto replace_all = [&](const std::string& from, const std::string& to) {
    for (std::size_t p = text.find(from); p != std::string::npos;
         p = text.find(from, p + to.size()))
      text.replace(p, from.size(), to);
  };
  replace_all("violin", "<violin & co>");
  replace_all("\"mlp", "\"m<l>p \\\"x\\\"");
  const Json r = Json::parse(text);
  const std::string html = render_experiment_report(r);
  EXPECT_EQ(html.find("<violin"), std::string::npos);
  EXPECT_EQ(html.find("m<l>p"), std::string::npos);
  EXPECT_NE(html.find("&lt;violin &amp; co&gt;"), std::string::npos);
  EXPECT_NE(html.find("m&lt;l&gt;p &quot;x&quot;"), std::string::npos);
  const auto svgs = extract_svgs(html);
  EXPECT_EQ(svgs.size(), kFixturePlots);
  for (const auto& svg : svgs) EXPECT_EQ(xml_wellformed(svg), "") << svg.substr(0, 300);
}

TEST(ExperimentReport, OtherCodeCanAddSections) {
  auto sections = default_experiment_sections();
  sections.push_back({"calibration", "Calibration <beta>",
                      [](const ExperimentResults& r) -> std::optional<std::string> {
                        return "<p>" + std::to_string(r.models().size()) + " models</p>";
                      }});
  sections.push_back(
      {"never", "Never shown",
       [](const ExperimentResults&) -> std::optional<std::string> { return std::nullopt; }});
  const std::string html = render_experiment_report(fixture_results(), sections);
  EXPECT_NE(html.find("<section id=\"calibration\">\n<h2>Calibration &lt;beta&gt;</h2>\n<p>3 "
                      "models</p>"),
            std::string::npos);
  EXPECT_NE(html.find("<a href=\"#calibration\">"), std::string::npos);
  EXPECT_EQ(html.find("Never shown"), std::string::npos);
  sections.push_back({"broken", "Broken", nullptr});
  EXPECT_THROW(render_experiment_report(fixture_results(), sections), Error);
}

TEST(ExperimentReport, DeterministicAndWrittenAtomically) {
  const Json r = fixture_results();
  const std::string a = render_experiment_report(r);
  EXPECT_EQ(a, render_experiment_report(r));
  tutti::testing::TempDir dir;
  write_experiment_report(r, dir / "report.html");
  EXPECT_EQ(core::read_file_text(dir / "report.html"), a);
  // Nothing but the report is left in the folder (no temporary file).
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 1u);
  EXPECT_THROW(write_experiment_report(r, dir / "missing" / "dir" / "report.html"), Error);
}

TEST(ExperimentReport, TimelineFromJson) {
  const Json ex = Json::parse(R"({"clip": "c1", "hop_s": 0.5, "classes": ["a", "b"],
      "prob": [[0.1, 0.2], [0.3, null]], "truth": {"b": [[0.0, 0.7]]}, "clip_scores": [0.2, 0.3]})");
  const Timeline t = timeline_from_json(ex);
  EXPECT_EQ(t.classes, (std::vector<std::string>{"a", "b"}));
  EXPECT_DOUBLE_EQ(t.hop_s, 0.5);
  ASSERT_EQ(t.prob.size(), 2u);
  EXPECT_TRUE(std::isnan(t.prob[1][1]));
  ASSERT_EQ(t.truth.size(), 2u);
  EXPECT_TRUE(t.truth[0].empty());
  EXPECT_DOUBLE_EQ(t.truth[1][0].end_s, 0.7);
  EXPECT_TRUE(t.attention.empty());
  // Default classes when the example has none.
  Json no_classes = ex;
  no_classes.erase("classes");
  no_classes.erase("truth");  // its class "b" is not among the defaults
  EXPECT_EQ(timeline_from_json(no_classes, {"x", "y"}).classes,
            (std::vector<std::string>{"x", "y"}));
  // Errors name the problem.
  Json bad = ex;
  bad["truth"] = Json::parse(R"({"zzz": [[0, 1]]})");
  EXPECT_THROW(timeline_from_json(bad), Error);
  bad = ex;
  bad["truth"] = Json::parse(R"({"a": [[0, 1, 2]]})");
  EXPECT_THROW(timeline_from_json(bad), Error);
  bad = ex;
  bad["prob"] = "x";
  EXPECT_THROW(timeline_from_json(bad), Error);
  bad = ex;
  bad.erase("prob");
  EXPECT_THROW(timeline_from_json(bad), Error);
  EXPECT_THROW(timeline_from_json(Json::array()), Error);
}

}  // namespace
}  // namespace tutti::report
