// Plots: statistics against numpy, well-formed SVG, escaping, shape errors, determinism.
#include <gtest/gtest.h>

#include <cmath>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/report/plots.h"
#include "tutti/report/svg.h"
#include "xml_check.h"

namespace tutti::report {
namespace {

using tutti::testing::xml_wellformed;

const std::string kOdd = "<violin & co>";
const std::string kOddEscaped = "&lt;violin &amp; co&gt;";

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

void expect_clean_svg(const std::string& svg) {
  EXPECT_EQ(xml_wellformed(svg), "") << svg.substr(0, 2000);
  EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"tutti-plot\"", 0), 0u);
  EXPECT_EQ(svg.find("<violin"), std::string::npos) << "unescaped text";
  for (const char* bad : {"\"nan", "\"-nan", ">nan", ">-nan", "\"inf", "\"-inf", ">inf"})
    EXPECT_EQ(svg.find(bad), std::string::npos) << "non-finite number leaked: " << bad;
}

// Reference values: numpy.percentile (method="linear") and Tukey whiskers computed by
// tools/fixtures/make_report_fixtures.py into tests/fixtures/report/expected.json.
TEST(BoxStats, MatchNumpy) {
  const auto expected = core::read_json_file(tutti::testing::fixture("report/expected.json"));
  ASSERT_EQ(expected["box_stats"].size(), 5u);
  for (const auto& e : expected["box_stats"]) {
    const auto values = e["values"].get<std::vector<double>>();
    const BoxStats s = box_stats(values);
    SCOPED_TRACE(e["values"].dump());
    EXPECT_EQ(s.n, values.size());
    EXPECT_NEAR(s.q1, e["q1"].get<double>(), 1e-12);
    EXPECT_NEAR(s.median, e["median"].get<double>(), 1e-12);
    EXPECT_NEAR(s.q3, e["q3"].get<double>(), 1e-12);
    EXPECT_NEAR(s.whisker_low, e["whisker_low"].get<double>(), 1e-12);
    EXPECT_NEAR(s.whisker_high, e["whisker_high"].get<double>(), 1e-12);
    const auto outliers = e["outliers"].get<std::vector<double>>();
    ASSERT_EQ(s.outliers.size(), outliers.size());
    for (std::size_t i = 0; i < outliers.size(); ++i)
      EXPECT_NEAR(s.outliers[i], outliers[i], 1e-12);
  }
}

TEST(BoxStats, HandComputed) {
  // {1, 2, 3, 4}: positions 0.75, 1.5, 2.25 -> 1.75, 2.5, 3.25; IQR 1.5, fences -0.5 and 5.5.
  const BoxStats s = box_stats({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.q1, 1.75);
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.q3, 3.25);
  EXPECT_DOUBLE_EQ(s.whisker_low, 1);
  EXPECT_DOUBLE_EQ(s.whisker_high, 4);
  EXPECT_TRUE(s.outliers.empty());
  // NaN is dropped (a class skipped in one seed), not treated as a value.
  const BoxStats n = box_stats({kNaN, 4, 1, kNaN, 3, 2});
  EXPECT_EQ(n.n, 4u);
  EXPECT_DOUBLE_EQ(n.median, 2.5);
  // Nothing finite: all NaN, n = 0.
  const BoxStats e = box_stats({kNaN});
  EXPECT_EQ(e.n, 0u);
  EXPECT_TRUE(std::isnan(e.median));
  EXPECT_TRUE(std::isnan(percentile_linear({}, 50)));
  EXPECT_DOUBLE_EQ(percentile_linear({1, 2, 3, 4}, 10), 1.3);  // position 0.3
  EXPECT_DOUBLE_EQ(percentile_linear({1, 2, 3, 4}, 100), 4);
}

TEST(BoxPlot, DrawsBoxesWhiskersAndOutliers) {
  BoxPlotPanel p{.title = "F1",
                 .y_label = "macro F1",
                 .labels = {"mlp", kOdd, "empty"},
                 .values = {{0.1, 0.4, 0.35, 0.8, 0.52}, {0.5}, {kNaN}}};
  const std::string svg = box_plot_svg({p, p, p}, {.title = "Over seeds"});
  expect_clean_svg(svg);
  // Tooltips carry the statistics (same numbers as numpy in MatchNumpy).
  EXPECT_EQ(count(svg, "mlp: median 0.400, Q1 0.350, Q3 0.520, whiskers 0.100 to 0.520, n = 5"),
            3u);
  EXPECT_EQ(count(svg, "mlp: outlier 0.800"), 3u);
  EXPECT_EQ(count(svg, kOddEscaped + ": median 0.500"), 3u);
  EXPECT_EQ(count(svg, ">n/a</text>"), 3u);  // the panel with only NaN
  EXPECT_EQ(count(svg, "class=\"panel\""), 3u);
  EXPECT_NE(svg.find(">Over seeds</text>"), std::string::npos);
  EXPECT_NE(svg.find(">macro F1</text>"), std::string::npos);
}

TEST(BoxPlot, WrapsPanelsBeyondMaxWidth) {
  BoxPlotPanel p{.title = "P",
                 .y_label = "",
                 .labels = {"a", "b", "c", "d", "e"},
                 .values = {{1}, {2}, {3}, {4}, {5}}};
  Svg probe(1, 1);
  const std::string one_row = box_plot_svg({p, p, p}, {.max_width_px = 5000});
  const std::string wrapped = box_plot_svg({p, p, p}, {.max_width_px = 400});
  auto height = [](const std::string& s) {
    const auto a = s.find("height=\"") + 8;
    return std::stod(s.substr(a, s.find('"', a) - a));
  };
  EXPECT_GT(height(wrapped), 2.5 * height(one_row));
  expect_clean_svg(wrapped);
}

TEST(BoxPlot, ShapeMismatchThrows) {
  BoxPlotPanel p{.title = "P", .y_label = "", .labels = {"a", "b"}, .values = {{1}}};
  EXPECT_THROW(box_plot_svg({p}, {}), Error);
  EXPECT_NO_THROW(box_plot_svg({}, {.title = "empty"}));  // nothing to draw: a note, no throw
}

BarChart sample_bars(bool horizontal) {
  BarChart c;
  c.title = "Per-instrument F1";
  c.value_label = "F1";
  c.categories = {"guitar", kOdd, "voice"};
  c.series = {{.name = "mlp", .values = {0.5, 0.6, kNaN}, .errors = {0.1, kNaN, 0.2}},
              {.name = "attention", .values = {0.7, 0.2, 0.9}, .errors = {}}};
  c.horizontal = horizontal;
  c.value_min = 0;
  c.value_max = 1;
  return c;
}

TEST(BarChart, VerticalAndHorizontal) {
  for (bool horizontal : {false, true}) {
    SCOPED_TRACE(horizontal);
    const std::string svg = bar_chart_svg(sample_bars(horizontal));
    expect_clean_svg(svg);
    EXPECT_EQ(count(svg, "class=\"bar-group\""), 3u);
    EXPECT_NE(svg.find("<title>guitar / mlp: 0.500 \u00B1 0.100</title>"), std::string::npos);
    EXPECT_NE(svg.find("<title>" + kOddEscaped + " / mlp: 0.600</title>"), std::string::npos);
    EXPECT_NE(svg.find("<title>voice / attention: 0.900</title>"), std::string::npos);
    EXPECT_EQ(count(svg, ">n/a</text>"), 1u);  // mlp / voice
    // Legend names every series.
    EXPECT_NE(svg.find(">mlp</text>"), std::string::npos);
    EXPECT_NE(svg.find(">attention</text>"), std::string::npos);
  }
}

TEST(BarChart, ErrorBarsSpanValuePlusMinusError) {
  // One bar 0.5 +- 0.1 on a 0..1 axis: the error bar's vertical line spans y(0.4)..y(0.6);
  // with 250 px per unit those are 100 px apart... find the line whose length is 0.2 * plot_h.
  BarChart c;
  c.categories = {"a"};
  c.series = {{.name = "s", .values = {0.5}, .errors = {0.1}}};
  c.value_min = 0;
  c.value_max = 1;
  const std::string svg = bar_chart_svg(c);
  // Plot height is 250 px for the 0..1 range: the error bar is 50 px long.
  bool found = false;
  for (std::size_t p = svg.find("<line"); p != std::string::npos; p = svg.find("<line", p + 1)) {
    const std::string l = svg.substr(p, svg.find("/>", p) - p);
    auto attr = [&](const std::string& a) {
      const auto q = l.find(" " + a + "=\"") + a.size() + 3;
      return std::stod(l.substr(q, l.find('"', q) - q));
    };
    if (l.find("stroke=\"#111\"") != std::string::npos && attr("x1") == attr("x2") &&
        std::abs(std::abs(attr("y2") - attr("y1")) - 50) < 0.02)
      found = true;
  }
  EXPECT_TRUE(found) << svg;
}

TEST(BarChart, ShapeMismatchThrows) {
  BarChart c = sample_bars(false);
  c.series[0].values.pop_back();
  EXPECT_THROW(bar_chart_svg(c), Error);
  c = sample_bars(false);
  c.series[1].errors = {0.1};
  EXPECT_THROW(bar_chart_svg(c), Error);
}

TEST(Heatmap, CellsColouredByValueWithLabels) {
  Heatmap h;
  h.title = "F1";
  h.row_labels = {"guitar", kOdd};
  h.col_labels = {"mlp", "attention"};
  h.values = {{0.0, 0.5}, {1.0, kNaN}};
  h.vmin = 0;
  h.vmax = 1;
  h.colorbar_label = "F1 (mean)";
  const std::string svg = heatmap_svg(h);
  expect_clean_svg(svg);
  for (double v : {0.0, 0.5, 1.0})
    EXPECT_NE(svg.find("fill=\"" + heatmap_color(v, 0, 1) + "\" stroke=\"#ffffff\""),
              std::string::npos)
        << v;
  EXPECT_NE(svg.find("<title>guitar / attention: 0.50</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>" + kOddEscaped + " / attention: n/a</title>"), std::string::npos);
  EXPECT_NE(svg.find(">1.00</text>"), std::string::npos);
  EXPECT_NE(svg.find(">n/a</text>"), std::string::npos);
  EXPECT_NE(svg.find("class=\"colorbar\""), std::string::npos);
  // Text on the darkest cell is white, on the brightest black.
  EXPECT_NE(svg.find("fill=\"#ffffff\">0.00</text>"), std::string::npos);
  EXPECT_NE(svg.find("fill=\"#111111\">1.00</text>"), std::string::npos);
}

TEST(Heatmap, ShapeMismatchThrows) {
  Heatmap h;
  h.row_labels = {"a", "b"};
  h.col_labels = {"x"};
  h.values = {{1.0}};
  EXPECT_THROW(heatmap_svg(h), Error);
  h.values = {{1.0}, {1.0, 2.0}};
  EXPECT_THROW(heatmap_svg(h), Error);
}

Timeline sample_timeline() {
  Timeline t;
  t.title = "clip 000046_3840";
  t.hop_s = 0.96;
  t.classes = {"piano", kOdd};
  t.prob = {{0.1, 0.9, 0.5}, {kNaN, 0.2, 1.0}};
  t.attention = {{0.2, 0.5, 0.3}, {0.1, 0.1, 0.8}};
  t.truth = {{{0.0, 1.5}}, {}};
  t.clip_scores = {0.93, 0.41};
  return t;
}

TEST(Timeline, RowsCellsTruthAndAxis) {
  const std::string svg = timeline_svg(sample_timeline());
  expect_clean_svg(svg);
  EXPECT_EQ(count(svg, "class=\"timeline-row\""), 2u);
  EXPECT_NE(svg.find("<title>piano, 0.96-1.92 s: p = 0.900</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>" + kOddEscaped + ", 0.00-0.96 s: p = n/a</title>"),
            std::string::npos);
  EXPECT_NE(svg.find("<title>piano, 0.96-1.92 s: attention = 0.500</title>"), std::string::npos);
  EXPECT_NE(svg.find("<title>piano: truth 0.00-1.50 s</title>"), std::string::npos);
  EXPECT_NE(svg.find(">time (s)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.93</text>"), std::string::npos);
  // Probability cells shaded by value: 0.9 is darker than 0.1.
  EXPECT_NE(svg.find("fill=\"" + blues(0.9) + "\""), std::string::npos);
  EXPECT_LT(relative_luminance(blues(0.9)), relative_luminance(blues(0.1)));
  // The highest attention weight of a row gets the darkest orange.
  EXPECT_NE(svg.find("fill=\"" + oranges(1.0) + "\""), std::string::npos);
}

TEST(Timeline, OptionalRowsAndErrors) {
  Timeline t = sample_timeline();
  t.attention.clear();
  t.truth.clear();
  t.clip_scores.clear();
  const std::string svg = timeline_svg(t);
  expect_clean_svg(svg);
  EXPECT_EQ(svg.find("attention"), std::string::npos);
  EXPECT_EQ(svg.find("truth"), std::string::npos);

  Timeline bad = sample_timeline();
  bad.prob.pop_back();
  EXPECT_THROW(timeline_svg(bad), Error);
  bad = sample_timeline();
  bad.attention.pop_back();
  EXPECT_THROW(timeline_svg(bad), Error);
  bad = sample_timeline();
  bad.hop_s = 0;
  EXPECT_THROW(timeline_svg(bad), Error);
  bad = sample_timeline();
  bad.clip_scores = {1};
  EXPECT_THROW(timeline_svg(bad), Error);
}

TEST(Scatter, LegendCountsAndMarkers) {
  Scatter s;
  s.title = "t-SNE";
  s.x = {0, 1, 2, 3, kNaN};
  s.y = {0, 1, 0, 1, 5};
  s.labels = {"piano", kOdd, "piano", "voice", "voice"};
  const std::string svg = scatter_svg(s);
  expect_clean_svg(svg);
  EXPECT_NE(svg.find(">piano (2)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">voice (1)</text>"), std::string::npos);  // the NaN point is skipped
  EXPECT_NE(svg.find(">" + kOddEscaped + " (1)</text>"), std::string::npos);
  EXPECT_EQ(count(svg, "<title>piano</title>"), 2u);

  // More than 8 labels: after the 8 palette colours the marker shape changes (circle, square,
  // triangle, diamond). Sorted labels class10..class29: class10 circle, class18 square, class26
  // triangle.
  Scatter many;
  for (int i = 0; i < 20; ++i) {
    many.x.push_back(i);
    many.y.push_back(i % 3);
    many.labels.push_back("class" + std::to_string(i + 10));
  }
  const std::string m = scatter_svg(many);
  expect_clean_svg(m);
  EXPECT_NE(m.find("<title>class10</title></circle>"), std::string::npos);
  EXPECT_NE(m.find("<title>class18</title></rect>"), std::string::npos);
  EXPECT_NE(m.find("<title>class26</title></polygon>"), std::string::npos);
  EXPECT_EQ(m.find("<title>class26</title></circle>"), std::string::npos);

  Scatter bad = s;
  bad.y.pop_back();
  EXPECT_THROW(scatter_svg(bad), Error);
  bad = s;
  bad.labels.pop_back();
  EXPECT_THROW(scatter_svg(bad), Error);
}

TEST(Plots, EmptyInputsRenderANote) {
  expect_clean_svg(bar_chart_svg(BarChart{}));
  expect_clean_svg(heatmap_svg(Heatmap{}));
  expect_clean_svg(scatter_svg(Scatter{}));
  expect_clean_svg(timeline_svg(Timeline{}));
  expect_clean_svg(box_plot_svg({}, {}));
}

TEST(Plots, DeterministicOutput) {
  const auto render_all = [] {
    BoxPlotPanel p{.title = "F1",
                   .y_label = "F1",
                   .labels = {"a", "b"},
                   .values = {{0.1, 0.3, 0.2}, {0.5, 0.7, 0.6}}};
    Scatter s;
    for (int i = 0; i < 50; ++i) {
      s.x.push_back(std::sin(i * 0.7) * 10);
      s.y.push_back(std::cos(i * 1.3) * 7);
      s.labels.push_back(i % 3 == 0 ? "x" : "y");
    }
    Heatmap h;
    h.row_labels = {"r"};
    h.col_labels = {"c1", "c2"};
    h.values = {{0.123456, 0.987654}};
    return box_plot_svg({p}, {}) + bar_chart_svg(sample_bars(false)) + heatmap_svg(h) +
           timeline_svg(sample_timeline()) + scatter_svg(s);
  };
  const std::string a = render_all();
  const std::string b = render_all();
  EXPECT_EQ(a, b);
  EXPECT_GT(a.size(), 5000u);
}

}  // namespace
}  // namespace tutti::report
