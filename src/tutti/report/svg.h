// SVG primitives for tutti's plots: a document builder, deterministic number formatting, linear
// scales, "nice" axis ticks, and the colour scales (Okabe-Ito categorical palette, viridis).
//
//   tutti::report::Svg svg(400, 300, "Macro F1");
//   svg.rect(10, 10, 50, 80, {.fill = "#0072B2"}, "mlp: 0.51");   // last argument: tooltip
//   svg.text(35, 100, "mlp", {.anchor = "middle"});
//   std::string markup = svg.str();  // "<svg xmlns=... class="tutti-plot" ...>...</svg>"
//
// Output is a pure function of the calls (same calls -> same bytes): coordinates are printed with
// fixed precision, nothing depends on time, locale or addresses. All text is escaped. The SVG
// uses only generic font families, so it is self-contained both inline in HTML and as a file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tutti::report {

// Deterministic number for SVG attributes: at most `decimals` decimals, trailing zeros dropped,
// never "-0". Non-finite values print as "0" (callers guard against them; this keeps XML valid).
std::string svg_num(double value, int decimals = 2);

struct Style {
  std::string fill = "none";
  std::string stroke = "none";
  double stroke_width = 1.0;
  double opacity = 1.0;   // fill-opacity
  std::string dash = {};  // stroke-dasharray, e.g. "4 3"; empty = solid
};

struct TextStyle {
  double size_px = 11.0;
  std::string anchor = "start";   // start | middle | end
  std::string baseline = "auto";  // dominant-baseline: auto | middle | hanging
  std::string weight = "normal";  // normal | bold
  std::string fill = "#222";
  double rotate_deg = 0.0;  // rotation about (x, y)
};

class Svg {
 public:
  // `title` becomes <title> (shown as tooltip) and aria-label; it may be empty.
  Svg(double width_px, double height_px, std::string_view title = {});

  double width() const { return width_; }
  double height() const { return height_; }

  // A `tooltip` (may be empty) becomes a <title> child shown on hover.
  void rect(double x, double y, double w, double h, const Style& style,
            std::string_view tooltip = {});
  void line(double x1, double y1, double x2, double y2, const Style& style);
  void circle(double cx, double cy, double r, const Style& style, std::string_view tooltip = {});
  void polygon(const std::vector<std::pair<double, double>>& points, const Style& style,
               std::string_view tooltip = {});
  void text(double x, double y, std::string_view text, const TextStyle& style = {});
  // Groups nest; `css_class` may be empty.
  void begin_group(std::string_view css_class = {}, double translate_x = 0, double translate_y = 0);
  void end_group();

  // The complete <svg> element (throws tutti::Error when groups are unbalanced).
  std::string str() const;
  // Writes str() with an XML declaration to `path` atomically.
  void write_file(const std::filesystem::path& path) const;

 private:
  static std::string style_attrs(const Style& style);
  double width_, height_;
  std::string title_;
  std::string body_;
  int open_groups_ = 0;
};

// Writes a complete SVG (as returned by Svg::str() or the plot functions in plots.h) to `path`
// atomically, with an XML declaration, so it opens as a standalone .svg file.
void write_svg_file(const std::filesystem::path& path, std::string_view svg);

// A linear map from the domain [d0, d1] to the range [r0, r1] (pixels); d0 == d1 maps to r0.
struct LinearScale {
  double d0 = 0, d1 = 1, r0 = 0, r1 = 1;
  double operator()(double v) const;
};

// "Nice" ticks (Heckbert, Graphics Gems 1990): step 1, 2 or 5 x 10^k, about `target` ticks,
// first tick <= lo and last tick >= hi. A degenerate range (lo == hi) is widened; non-finite
// bounds give the ticks of [0, 1].
std::vector<double> nice_ticks(double lo, double hi, int target = 5);
// Decimals needed to print the ticks distinctly (0 for integer steps).
int tick_decimals(const std::vector<double>& ticks);

// Approximate width of a text in a generic sans-serif font (0.6 em per character; an
// over-estimate for most text, which is what layout needs).
double text_width_px(std::string_view text, double size_px);

// Okabe & Ito (2008) colour-blind-safe categorical colours, cycling; index 0 is blue.
std::string palette_color(std::size_t index);
std::size_t palette_size();

// Viridis (matplotlib, perceptually uniform; luminance increases with t) for t in [0, 1],
// clamped; NaN gives light grey "#d9d9d9". Returned as "#rrggbb".
std::string viridis(double t);
// Relative luminance (WCAG 2.x) of "#rrggbb", in [0, 1]: picks black or white text on a colour.
double relative_luminance(std::string_view hex_rgb);

}  // namespace tutti::report
