#include "tutti/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/report/html.h"

namespace tutti::report {

std::string svg_num(double value, int decimals) {
  if (!std::isfinite(value)) return "0";
  std::string s = fmt::format("{:.{}f}", value, decimals);
  if (s.find('.') != std::string::npos) {
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

Svg::Svg(double width_px, double height_px, std::string_view title)
    : width_(width_px), height_(height_px), title_(title) {}

std::string Svg::style_attrs(const Style& s) {
  std::string out = " fill=\"" + escape(s.fill) + "\"";
  if (s.opacity < 1.0) out += " fill-opacity=\"" + svg_num(s.opacity, 3) + "\"";
  if (s.stroke != "none") {
    out += " stroke=\"" + escape(s.stroke) + "\" stroke-width=\"" + svg_num(s.stroke_width) + "\"";
    if (!s.dash.empty()) out += " stroke-dasharray=\"" + escape(s.dash) + "\"";
  }
  return out;
}

static std::string close_with_tooltip(std::string_view element, std::string_view tooltip) {
  if (tooltip.empty()) return "/>\n";
  return "><title>" + escape(tooltip) + "</title></" + std::string(element) + ">\n";
}

void Svg::rect(double x, double y, double w, double h, const Style& style,
               std::string_view tooltip) {
  body_ += "<rect x=\"" + svg_num(x) + "\" y=\"" + svg_num(y) + "\" width=\"" +
           svg_num(std::max(0.0, w)) + "\" height=\"" + svg_num(std::max(0.0, h)) + "\"" +
           style_attrs(style) + close_with_tooltip("rect", tooltip);
}

void Svg::line(double x1, double y1, double x2, double y2, const Style& style) {
  Style s = style;
  if (s.stroke == "none") s.stroke = "#222";
  body_ += "<line x1=\"" + svg_num(x1) + "\" y1=\"" + svg_num(y1) + "\" x2=\"" + svg_num(x2) +
           "\" y2=\"" + svg_num(y2) + "\"" + style_attrs(s) + "/>\n";
}

void Svg::circle(double cx, double cy, double r, const Style& style, std::string_view tooltip) {
  body_ += "<circle cx=\"" + svg_num(cx) + "\" cy=\"" + svg_num(cy) + "\" r=\"" + svg_num(r) +
           "\"" + style_attrs(style) + close_with_tooltip("circle", tooltip);
}

void Svg::polygon(const std::vector<std::pair<double, double>>& points, const Style& style,
                  std::string_view tooltip) {
  std::string pts;
  for (const auto& [x, y] : points) {
    if (!pts.empty()) pts += ' ';
    pts += svg_num(x) + "," + svg_num(y);
  }
  body_ += "<polygon points=\"" + pts + "\"" + style_attrs(style) +
           close_with_tooltip("polygon", tooltip);
}

void Svg::text(double x, double y, std::string_view text, const TextStyle& s) {
  body_ += "<text x=\"" + svg_num(x) + "\" y=\"" + svg_num(y) + "\" font-size=\"" +
           svg_num(s.size_px) + "\"";
  if (s.anchor != "start") body_ += " text-anchor=\"" + escape(s.anchor) + "\"";
  if (s.baseline != "auto") body_ += " dominant-baseline=\"" + escape(s.baseline) + "\"";
  if (s.weight != "normal") body_ += " font-weight=\"" + escape(s.weight) + "\"";
  if (s.fill != "#222") body_ += " fill=\"" + escape(s.fill) + "\"";
  if (s.rotate_deg != 0.0)
    body_ += fmt::format(" transform=\"rotate({} {} {})\"", svg_num(s.rotate_deg), svg_num(x),
                         svg_num(y));
  body_ += '>';
  body_ += escape(text);
  body_ += "</text>\n";
}

void Svg::begin_group(std::string_view css_class, double translate_x, double translate_y) {
  body_ += "<g";
  if (!css_class.empty()) body_ += " class=\"" + escape(css_class) + "\"";
  if (translate_x != 0.0 || translate_y != 0.0)
    body_ += " transform=\"translate(" + svg_num(translate_x) + " " + svg_num(translate_y) + ")\"";
  body_ += ">\n";
  ++open_groups_;
}

void Svg::end_group() {
  check(open_groups_ > 0, "report: svg: end_group() without begin_group()");
  body_ += "</g>\n";
  --open_groups_;
}

std::string Svg::str() const {
  check(open_groups_ == 0, "report: svg: {} group(s) left open", open_groups_);
  const std::string w = svg_num(width_), h = svg_num(height_);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"tutti-plot\" width=\"" + w +
                    "\" height=\"" + h + "\" viewBox=\"0 0 " + w + " " + h +
                    "\" role=\"img\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\"";
  if (!title_.empty()) out += " aria-label=\"" + escape(title_) + "\"";
  out += ">\n";
  if (!title_.empty()) out += "<title>" + escape(title_) + "</title>\n";
  out += "<rect x=\"0\" y=\"0\" width=\"" + w + "\" height=\"" + h + "\" fill=\"#ffffff\"/>\n";
  out += body_;
  out += "</svg>\n";
  return out;
}

void Svg::write_file(const std::filesystem::path& path) const { write_svg_file(path, str()); }

void write_svg_file(const std::filesystem::path& path, std::string_view svg) {
  check(svg.starts_with("<svg"), "report: {}: not an <svg> element", path.string());
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += svg;
  core::write_file_atomic(path, out);
}

double LinearScale::operator()(double v) const {
  if (d1 == d0) return r0;
  return r0 + (v - d0) / (d1 - d0) * (r1 - r0);
}

// Heckbert's nice number: {1, 2, 5, 10} x 10^k near x (rounded or ceiled), as mantissa and
// exponent so that ticks can be computed exactly.
static std::pair<double, int> nice_number(double x, bool round) {
  const int expv = static_cast<int>(std::floor(std::log10(x)));
  const double f = x / std::pow(10.0, expv);
  double nf;
  if (round) {
    nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
  } else {
    nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
  }
  return {nf, expv};
}

static double times_pow10(double v, int e) {
  // Dividing by an exact power of ten gives the double nearest to the decimal (0.6, not
  // 0.6000000000000001), so tick labels and output bytes are stable.
  return e >= 0 ? v * std::pow(10.0, e) : v / std::pow(10.0, -e);
}

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (lo > hi) std::swap(lo, hi);
  if (hi - lo < 1e-12 * std::max(1.0, std::abs(hi))) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  target = std::max(target, 2);
  const auto [rm, re] = nice_number(hi - lo, false);
  const auto [sm, se] = nice_number(times_pow10(rm, re) / (target - 1), true);
  const double step = times_pow10(sm, se);
  const auto k0 = static_cast<long long>(std::floor(lo / step + 1e-9));
  const auto k1 = static_cast<long long>(std::ceil(hi / step - 1e-9));
  std::vector<double> ticks;
  for (long long k = k0; k <= k1; ++k) {
    const double v = times_pow10(static_cast<double>(k) * sm, se);
    ticks.push_back(v == 0 ? 0.0 : v);
  }
  return ticks;
}

int tick_decimals(const std::vector<double>& ticks) {
  if (ticks.size() < 2) return 2;
  const double step = std::abs(ticks[1] - ticks[0]);
  if (step <= 0 || !std::isfinite(step)) return 2;
  return std::clamp(static_cast<int>(std::ceil(-std::log10(step) - 1e-9)), 0, 10);
}

double text_width_px(std::string_view text, double size_px) {
  // Count code points, not bytes (UTF-8 continuation bytes are 10xxxxxx).
  std::size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return 0.6 * size_px * static_cast<double>(n);
}

namespace {
// Order chosen so that the first colours are the most distinct on white.
constexpr std::array<const char*, 8> kOkabeIto = {"#0072B2", "#E69F00", "#009E73", "#D55E00",
                                                  "#CC79A7", "#56B4E9", "#F0E442", "#000000"};

// matplotlib's viridis at t = 0, 0.1, ..., 1.
constexpr std::array<std::array<int, 3>, 11> kViridis = {{{0x44, 0x01, 0x54},
                                                          {0x48, 0x24, 0x75},
                                                          {0x41, 0x44, 0x87},
                                                          {0x35, 0x5f, 0x8d},
                                                          {0x2a, 0x78, 0x8e},
                                                          {0x21, 0x91, 0x8c},
                                                          {0x22, 0xa8, 0x84},
                                                          {0x44, 0xbf, 0x70},
                                                          {0x7a, 0xd1, 0x51},
                                                          {0xbd, 0xdf, 0x26},
                                                          {0xfd, 0xe7, 0x25}}};
}  // namespace

std::string palette_color(std::size_t index) { return kOkabeIto[index % kOkabeIto.size()]; }
std::size_t palette_size() { return kOkabeIto.size(); }

std::string viridis(double t) {
  if (std::isnan(t)) return "#d9d9d9";
  t = std::clamp(t, 0.0, 1.0);
  const double pos = t * 10.0;
  const int i = std::min(static_cast<int>(pos), 9);
  const double f = pos - i;
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] =
        static_cast<int>(std::lround(kViridis[i][c] + f * (kViridis[i + 1][c] - kViridis[i][c])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

double relative_luminance(std::string_view hex) {
  check(hex.size() == 7 && hex[0] == '#', "report: colour '{}' is not #rrggbb", hex);
  double lin[3];
  for (int c = 0; c < 3; ++c) {
    const double v = std::stoi(std::string(hex.substr(1 + 2 * c, 2)), nullptr, 16) / 255.0;
    lin[c] = v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  }
  return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

}  // namespace tutti::report
