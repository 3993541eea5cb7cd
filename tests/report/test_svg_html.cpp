// SVG primitives, colour scales, axis ticks and HTML helpers.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/report/html.h"
#include "tutti/report/plots.h"
#include "tutti/report/svg.h"
#include "xml_check.h"

namespace tutti::report {
namespace {

using tutti::testing::xml_wellformed;

TEST(XmlCheck, RejectsMalformedMarkup) {
  // The checker itself must be able to fail, or every well-formedness test below is void.
  EXPECT_EQ(xml_wellformed("<svg><g></g></svg>"), "");
  EXPECT_NE(xml_wellformed("<svg><g></svg>"), "");
  EXPECT_NE(xml_wellformed("<svg><text>a < b</text></svg>"), "");
  EXPECT_NE(xml_wellformed("<svg><text>a & b</text></svg>"), "");
  EXPECT_NE(xml_wellformed("<svg a=\"1\" a=\"2\"/>"), "");
  EXPECT_NE(xml_wellformed("<svg a=1/>"), "");
  EXPECT_NE(xml_wellformed("<svg a=\"<\"/>"), "");
  EXPECT_NE(xml_wellformed("<svg/><svg/>"), "");
  EXPECT_NE(xml_wellformed("<svg>&nbsp;</svg>"), "");
  EXPECT_EQ(xml_wellformed("<svg>&amp;&lt;&#39;&#x41;</svg>"), "");
}

TEST(Html, EscapesEveryMarkupCharacter) {
  EXPECT_EQ(escape("<violin & co>"), "&lt;violin &amp; co&gt;");
  EXPECT_EQ(escape("a\"b'c"), "a&quot;b&#39;c");
  EXPECT_EQ(escape("plain_name-1.0"), "plain_name-1.0");
  EXPECT_EQ(escape("caf\xC3\xA9"), "caf\xC3\xA9");  // UTF-8 passes through
  // Control characters are invalid in XML 1.0 and become U+FFFD; tab/newline stay.
  EXPECT_EQ(escape(std::string("a\x01"
                               "b\tc\n",
                               6)),
            "a\xEF\xBF\xBD"
            "b\tc\n");
}

TEST(Html, FormatsNumbersAndMissingValues) {
  EXPECT_EQ(format_value(0.51234), "0.512");
  EXPECT_EQ(format_value(0.51264, 2), "0.51");
  EXPECT_EQ(format_value(kNaN), "n/a");
  EXPECT_EQ(format_value(INFINITY), "n/a");
  EXPECT_EQ(format_value(-0.0001), "0.000");  // no "-0.000"
  EXPECT_EQ(format_value(-0.25, 2), "-0.25");
  EXPECT_EQ(format_mean_std(0.5, 0.0125, 3), "0.500 \u00B1 0.013");
  EXPECT_EQ(format_mean_std(0.5, kNaN), "0.500 \u00B1 n/a");  // one seed: std undefined
  EXPECT_EQ(format_mean_std(kNaN, 0.1), "n/a");
  EXPECT_EQ(format_count(1234567), "1\u2009234\u2009567");
  EXPECT_EQ(format_count(999), "999");
  EXPECT_EQ(format_count(kNaN), "n/a");
}

TEST(Html, TableEscapesCellsAndMarksNumericColumns) {
  HtmlTable t({"class", "F1"});
  t.add_row({"<violin & co>", "0.5"});
  t.add_row_html({"<b>x</b>", "1"});
  const std::string s = t.str();
  EXPECT_NE(s.find("<td>&lt;violin &amp; co&gt;</td><td class=\"num\">0.5</td>"), std::string::npos)
      << s;
  EXPECT_NE(s.find("<td><b>x</b></td>"), std::string::npos);
  EXPECT_EQ(s.find("<violin"), std::string::npos);
  EXPECT_EQ(t.rows(), 2u);
}

TEST(Html, PageIsSelfContained) {
  const std::string page = html_page("a <title>", "<p>x</p>", "var a = 1;");
  EXPECT_NE(page.find("<title>a &lt;title&gt;</title>"), std::string::npos);
  EXPECT_NE(page.find("<style>"), std::string::npos);
  EXPECT_NE(page.find("<script>var a = 1;</script>"), std::string::npos);
  for (const char* bad : {"http:", "https:", "@import", "url(", "src=", "<link"})
    EXPECT_EQ(page.find(bad), std::string::npos) << bad;
}

TEST(Svg, NumbersAreShortAndStable) {
  EXPECT_EQ(svg_num(1.0), "1");
  EXPECT_EQ(svg_num(2.50), "2.5");
  EXPECT_EQ(svg_num(3.14159), "3.14");
  EXPECT_EQ(svg_num(-0.001), "0");
  EXPECT_EQ(svg_num(-12.3456, 3), "-12.346");
  EXPECT_EQ(svg_num(kNaN), "0");
  EXPECT_EQ(svg_num(100), "100");
}

TEST(Svg, DocumentIsWellFormedAndEscapesText) {
  Svg svg(200, 100, "title <violin & co>");
  svg.begin_group("g1", 5, 5);
  svg.rect(0, 0, 10, 10, {.fill = "#0072B2"}, "tip <violin & co>");
  svg.line(0, 0, 10, 10, {});
  svg.circle(5, 5, 2, {.fill = "red"});
  svg.polygon({{0, 0}, {1, 1}, {2, 0}}, {.fill = "#000"}, "\"quoted\"");
  svg.text(1, 2, "<violin & co>", {.anchor = "middle", .rotate_deg = -40});
  svg.end_group();
  const std::string s = svg.str();
  EXPECT_EQ(xml_wellformed(s), "") << s;
  EXPECT_EQ(s.find("<violin"), std::string::npos);
  EXPECT_NE(s.find(">&lt;violin &amp; co&gt;</text>"), std::string::npos);
  EXPECT_NE(s.find("aria-label=\"title &lt;violin &amp; co&gt;\""), std::string::npos);
  EXPECT_NE(s.find("<title>&quot;quoted&quot;</title>"), std::string::npos);
  EXPECT_NE(s.find("xmlns=\"http://www.w3.org/2000/svg\""), std::string::npos);
  EXPECT_NE(s.find("viewBox=\"0 0 200 100\""), std::string::npos);
}

TEST(Svg, UnbalancedGroupsThrow) {
  Svg svg(10, 10);
  EXPECT_THROW(svg.end_group(), Error);
  svg.begin_group();
  EXPECT_THROW((void)svg.str(), Error);
}

TEST(Svg, WriteFileAddsXmlDeclaration) {
  tutti::testing::TempDir dir;
  Svg svg(10, 10, "t");
  svg.write_file(dir / "a.svg");
  const std::string s = core::read_file_text(dir / "a.svg");
  EXPECT_EQ(s.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg", 0), 0u);
  EXPECT_EQ(xml_wellformed(s), "");
}

TEST(Svg, WriteSvgFileWritesAPlot) {
  tutti::testing::TempDir dir;
  Timeline t;
  t.classes = {"piano"};
  t.prob = {{0.2, 0.9}};
  write_svg_file(dir / "timeline.svg", timeline_svg(t));
  const std::string s = core::read_file_text(dir / "timeline.svg");
  EXPECT_EQ(s.rfind("<?xml", 0), 0u);
  EXPECT_EQ(xml_wellformed(s), "");
  EXPECT_THROW(write_svg_file(dir / "x.svg", "<html>"), Error);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.svg"));
}

TEST(Svg, LinearScaleMapsDomainToRange) {
  const LinearScale s{0.0, 1.0, 300.0, 100.0};  // y axis: up is smaller
  EXPECT_DOUBLE_EQ(s(0.0), 300.0);
  EXPECT_DOUBLE_EQ(s(1.0), 100.0);
  EXPECT_DOUBLE_EQ(s(0.25), 250.0);
  EXPECT_DOUBLE_EQ((LinearScale{2, 2, 7, 9}(5)), 7.0);  // degenerate domain
}

// Hand-computed with Heckbert's algorithm: range -> nice(range), step -> nice(range/(n-1)).
TEST(Ticks, KnownRanges) {
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
  EXPECT_EQ(nice_ticks(0.43, 0.61, 5), (std::vector<double>{0.4, 0.45, 0.5, 0.55, 0.6, 0.65}));
  EXPECT_EQ(nice_ticks(0, 9.6, 8), (std::vector<double>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(nice_ticks(-37, 42, 6), (std::vector<double>{-40, -20, 0, 20, 40, 60}));
  // range 51000 -> 1e5 (ceiled), step 1e5 / 4 = 25000 -> 20000 (rounded).
  EXPECT_EQ(nice_ticks(1000, 52000, 5), (std::vector<double>{0, 20000, 40000, 60000}));
  EXPECT_EQ(tick_decimals(nice_ticks(0.43, 0.61, 5)), 2);
  EXPECT_EQ(tick_decimals(nice_ticks(0, 1, 5)), 1);
  EXPECT_EQ(tick_decimals(nice_ticks(-37, 42, 6)), 0);
}

TEST(Ticks, AreNiceAndCoverTheRange) {
  const std::vector<std::pair<double, double>> ranges = {
      {0, 1},   {0.5512, 0.5873}, {-3.2, 7.9}, {0, 1e6},    {1e-4, 3e-4},
      {17, 18}, {-0.01, 0.01},    {123, 9876}, {0.9, 0.91}, {-50, -49.5}};
  for (const auto& [lo, hi] : ranges) {
    for (int target : {3, 5, 8}) {
      const auto t = nice_ticks(lo, hi, target);
      ASSERT_GE(t.size(), 2u) << lo << " " << hi;
      EXPECT_LE(t.front(), lo);
      EXPECT_GE(t.back(), hi);
      EXPECT_LE(t.size(), static_cast<std::size_t>(3 * target + 2)) << lo << " " << hi;
      const double step = t[1] - t[0];
      // step = m * 10^k with m in {1, 2, 5}
      const double m = step / std::pow(10.0, std::floor(std::log10(step) + 1e-9));
      EXPECT_TRUE(std::abs(m - 1) < 1e-6 || std::abs(m - 2) < 1e-6 || std::abs(m - 5) < 1e-6)
          << "step " << step;
      for (std::size_t i = 1; i < t.size(); ++i) EXPECT_NEAR(t[i] - t[i - 1], step, step * 1e-6);
      // Every tick is an integer multiple of the step (0 would be a tick if in range).
      for (double v : t) EXPECT_NEAR(v / step, std::round(v / step), 1e-6);
    }
  }
}

TEST(Ticks, DegenerateAndNonFiniteRanges) {
  const auto one = nice_ticks(0.5, 0.5);
  EXPECT_LT(one.front(), 0.5);
  EXPECT_GT(one.back(), 0.5);
  const auto zero = nice_ticks(0, 0);
  EXPECT_LT(zero.front(), 0);
  EXPECT_GT(zero.back(), 0);
  EXPECT_EQ(nice_ticks(kNaN, 1), nice_ticks(0, 1));
  EXPECT_EQ(nice_ticks(1, 0), nice_ticks(0, 1));
}

TEST(Colours, ViridisMatchesMatplotlibAndIsMonotone) {
  EXPECT_EQ(viridis(0), "#440154");
  EXPECT_EQ(viridis(0.5), "#21918c");
  EXPECT_EQ(viridis(1), "#fde725");
  EXPECT_EQ(viridis(-3), "#440154");
  EXPECT_EQ(viridis(kNaN), "#d9d9d9");
  double prev = -1;
  for (int i = 0; i <= 200; ++i) {
    const double lum = relative_luminance(viridis(i / 200.0));
    EXPECT_GT(lum, prev) << "t = " << i / 200.0;
    prev = lum;
  }
}

TEST(Colours, HeatmapColourIsMonotoneInValue) {
  // Any range, including negative values: higher value -> brighter cell.
  for (auto [lo, hi] : std::vector<std::pair<double, double>>{{0, 1}, {-2, 3}, {0.4, 0.9}}) {
    double prev = -1;
    for (int i = 0; i <= 50; ++i) {
      const double v = lo + (hi - lo) * i / 50.0;
      const double lum = relative_luminance(heatmap_color(v, lo, hi));
      EXPECT_GT(lum, prev) << v;
      prev = lum;
    }
  }
  EXPECT_EQ(heatmap_color(kNaN, 0, 1), "#d9d9d9");
  EXPECT_EQ(heatmap_color(5, 0, 1), viridis(1));  // clamped
}

TEST(Colours, TimelineRampsDarkenWithValue) {
  double pb = 2, po = 2;
  for (int i = 0; i <= 50; ++i) {
    const double lb = relative_luminance(blues(i / 50.0));
    const double lo = relative_luminance(oranges(i / 50.0));
    EXPECT_LT(lb, pb);
    EXPECT_LT(lo, po);
    pb = lb;
    po = lo;
  }
}

TEST(Colours, PaletteIsDistinctAndCycles) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < palette_size(); ++i) seen.insert(palette_color(i));
  EXPECT_EQ(seen.size(), palette_size());
  EXPECT_EQ(palette_color(0), "#0072B2");  // Okabe-Ito blue
  EXPECT_EQ(palette_color(palette_size()), palette_color(0));
  EXPECT_NEAR(relative_luminance("#ffffff"), 1.0, 1e-12);
  EXPECT_NEAR(relative_luminance("#000000"), 0.0, 1e-12);
  EXPECT_THROW(relative_luminance("red"), Error);
}

TEST(Layout, TextWidthCountsCodePoints) {
  EXPECT_DOUBLE_EQ(text_width_px("abcd", 10), 24.0);
  EXPECT_DOUBLE_EQ(text_width_px("caf\xC3\xA9", 10), 24.0);  // 4 code points, 5 bytes
}

}  // namespace
}  // namespace tutti::report
