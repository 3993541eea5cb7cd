#include "tutti/report/plots.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "tutti/core/error.h"
#include "tutti/report/html.h"
#include "tutti/report/svg.h"

namespace tutti::report {

namespace {

constexpr double kTitleSize = 14;
constexpr double kLabelSize = 11;
constexpr double kTickSize = 10;
const char* const kGrid = "#e6e6e6";
const char* const kAxis = "#444";
const char* const kMuted = "#777";

bool finite(double v) { return std::isfinite(v); }

double max_text_width(const std::vector<std::string>& texts, double size) {
  double w = 0;
  for (const auto& t : texts) w = std::max(w, text_width_px(t, size));
  return w;
}

std::vector<std::string> tick_labels(const std::vector<double>& ticks) {
  const int dec = tick_decimals(ticks);
  std::vector<std::string> out;
  for (double t : ticks) out.push_back(format_value(t, dec));
  return out;
}

// Space taken left of a y axis by tick labels and (optionally) a rotated axis title.
double y_axis_width(const std::vector<double>& ticks, bool has_label) {
  return max_text_width(tick_labels(ticks), kTickSize) + 10 + (has_label ? 18 : 0);
}

// A vertical value axis at x0 with grid lines to x1.
void draw_y_axis(Svg& svg, const LinearScale& sy, const std::vector<double>& ticks, double x0,
                 double x1, const std::string& label) {
  const auto labels = tick_labels(ticks);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double y = sy(ticks[i]);
    svg.line(x0, y, x1, y, {.stroke = kGrid});
    svg.line(x0 - 4, y, x0, y, {.stroke = kAxis});
    svg.text(x0 - 6, y, labels[i], {.size_px = kTickSize, .anchor = "end", .baseline = "middle"});
  }
  svg.line(x0, sy(ticks.front()), x0, sy(ticks.back()), {.stroke = kAxis});
  if (!label.empty()) {
    const double lx = x0 - max_text_width(labels, kTickSize) - 14;
    const double ly = (sy(ticks.front()) + sy(ticks.back())) / 2;
    svg.text(lx, ly, label, {.size_px = kLabelSize, .anchor = "middle", .rotate_deg = -90});
  }
}

// A horizontal value axis at y0 (ticks below) with grid lines up to y1.
void draw_x_axis(Svg& svg, const LinearScale& sx, const std::vector<double>& ticks, double y0,
                 double y1, const std::string& label, bool grid = true) {
  const auto labels = tick_labels(ticks);
  for (std::size_t i = 0; i < ticks.size(); ++i) {
    const double x = sx(ticks[i]);
    if (grid) svg.line(x, y1, x, y0, {.stroke = kGrid});
    svg.line(x, y0, x, y0 + 4, {.stroke = kAxis});
    svg.text(x, y0 + 6, labels[i],
             {.size_px = kTickSize, .anchor = "middle", .baseline = "hanging"});
  }
  svg.line(sx(ticks.front()), y0, sx(ticks.back()), y0, {.stroke = kAxis});
  if (!label.empty())
    svg.text((sx(ticks.front()) + sx(ticks.back())) / 2, y0 + 22, label,
             {.size_px = kLabelSize, .anchor = "middle", .baseline = "hanging"});
}

// Category labels under slots centred at xs; rotated by -40 degrees when they do not fit.
// Returns the height they need.
double category_labels_height(const std::vector<std::string>& labels, double slot_w) {
  const double w = max_text_width(labels, kLabelSize);
  if (w <= slot_w - 4) return 22;
  return 14 + w * 0.643 + 10;  // sin(40 deg)
}
void draw_category_labels(Svg& svg, const std::vector<std::string>& labels,
                          const std::vector<double>& xs, double y, double slot_w) {
  const bool rotate = max_text_width(labels, kLabelSize) > slot_w - 4;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (rotate) {
      svg.text(xs[i] + 3, y + 8, labels[i],
               {.size_px = kLabelSize, .anchor = "end", .baseline = "middle", .rotate_deg = -40});
    } else {
      svg.text(xs[i], y + 6, labels[i],
               {.size_px = kLabelSize, .anchor = "middle", .baseline = "hanging"});
    }
  }
}

// A horizontal legend (swatch + name) wrapped to `max_width`; returns its height.
double legend_height(const std::vector<std::string>& names, double max_width) {
  if (names.empty()) return 0;
  double x = 0;
  int rows = 1;
  for (const auto& n : names) {
    const double w = 18 + text_width_px(n, kLabelSize) + 16;
    if (x > 0 && x + w > max_width) {
      ++rows;
      x = 0;
    }
    x += w;
  }
  return rows * 18.0 + 4;
}
void draw_legend(Svg& svg, const std::vector<std::string>& names, double x0, double y0,
                 double max_width) {
  double x = 0, y = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double w = 18 + text_width_px(names[i], kLabelSize) + 16;
    if (x > 0 && x + w > max_width) {
      y += 18;
      x = 0;
    }
    svg.rect(x0 + x, y0 + y + 2, 12, 12,
             {.fill = palette_color(i), .stroke = kAxis, .stroke_width = 0.5});
    svg.text(x0 + x + 17, y0 + y + 8, names[i], {.size_px = kLabelSize, .baseline = "middle"});
    x += w;
  }
}

// Axis range from the finite values, including `include` (e.g. 0 for bars) when finite.
std::pair<double, double> data_range(const std::vector<double>& values, double include = kNaN) {
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values)
    if (finite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (finite(include)) lo = std::min(lo, include), hi = std::max(hi, include);
  if (!finite(lo)) return {0.0, 1.0};
  return {lo, hi};
}

std::string empty_plot(const std::string& title, const std::string& message) {
  const double w = std::max(320.0, text_width_px(title, kTitleSize) + 40);
  Svg svg(w, 90, title);
  svg.text(w / 2, 24, title, {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});
  svg.text(w / 2, 58, message, {.size_px = kLabelSize, .anchor = "middle", .fill = kMuted});
  return svg.str();
}

}  // namespace

// ---- statistics -------------------------------------------------------------------------------

double percentile_linear(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return kNaN;
  const double pos = std::clamp(p, 0.0, 100.0) / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

BoxStats box_stats(std::vector<double> values) {
  std::erase_if(values, [](double v) { return !finite(v); });
  BoxStats s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.n = values.size();
  s.q1 = percentile_linear(values, 25);
  s.median = percentile_linear(values, 50);
  s.q3 = percentile_linear(values, 75);
  const double iqr = s.q3 - s.q1;
  const double lo_fence = s.q1 - 1.5 * iqr, hi_fence = s.q3 + 1.5 * iqr;
  s.whisker_low = s.q1;
  s.whisker_high = s.q3;
  // matplotlib: whiskers reach the most extreme datum inside the fences (never inside the box).
  for (double v : values)
    if (v >= lo_fence) {
      s.whisker_low = std::min(v, s.q1);
      break;
    }
  for (auto it = values.rbegin(); it != values.rend(); ++it)
    if (*it <= hi_fence) {
      s.whisker_high = std::max(*it, s.q3);
      break;
    }
  for (double v : values)
    if (v < lo_fence || v > hi_fence) s.outliers.push_back(v);
  return s;
}

// ---- box plot ---------------------------------------------------------------------------------

std::string box_plot_svg(const std::vector<BoxPlotPanel>& panels, const BoxPlotOptions& opt) {
  if (panels.empty()) return empty_plot(opt.title, "no data");
  for (const auto& p : panels)
    check(p.labels.size() == p.values.size(),
          "report: box plot '{}': panel '{}' has {} labels but {} value lists", opt.title, p.title,
          p.labels.size(), p.values.size());

  // Ranges and ticks per panel (or shared).
  std::vector<std::vector<double>> ticks(panels.size());
  std::vector<double> all;
  for (std::size_t k = 0; k < panels.size(); ++k) {
    std::vector<double> vals;
    for (const auto& v : panels[k].values) vals.insert(vals.end(), v.begin(), v.end());
    const auto [lo, hi] = data_range(vals);
    ticks[k] = nice_ticks(lo, hi, 5);
    all.insert(all.end(), vals.begin(), vals.end());
  }
  if (opt.shared_y) {
    const auto [lo, hi] = data_range(all);
    for (auto& t : ticks) t = nice_ticks(lo, hi, 5);
  }

  const double title_h = opt.title.empty() ? 8 : 30;
  const double panel_title_h = 22;
  std::vector<std::string> all_labels;
  for (const auto& p : panels)
    all_labels.insert(all_labels.end(), p.labels.begin(), p.labels.end());
  // Wide enough for horizontal labels up to ~13 characters; longer ones are rotated anyway, so
  // the slots stay narrow.
  const double label_w = max_text_width(all_labels, kLabelSize) + 10;
  const double slot = label_w <= 96 ? std::max(56.0, label_w) : 56.0;
  const double bottom = category_labels_height(all_labels, slot) + 6;
  const double plot_h = std::max(120.0, opt.height_px - title_h - panel_title_h - bottom);
  const double row_h = panel_title_h + plot_h + bottom;

  // Panels left to right, wrapped into rows no wider than max_width_px.
  std::vector<double> panel_x(panels.size()), panel_y(panels.size()), axis_w(panels.size());
  double x = 0, y = title_h, width = 0;
  for (std::size_t k = 0; k < panels.size(); ++k) {
    axis_w[k] = y_axis_width(ticks[k], !panels[k].y_label.empty()) + 4;
    const double w = axis_w[k] +
                     slot * static_cast<double>(std::max<std::size_t>(panels[k].labels.size(), 1)) +
                     24;
    if (x > 0 && x + w > opt.max_width_px) {
      x = 0;
      y += row_h + 10;
    }
    panel_x[k] = x;
    panel_y[k] = y;
    x += w;
    width = std::max(width, x);
  }
  width = std::max(width, text_width_px(opt.title, kTitleSize) + 20);
  Svg svg(width, y + row_h, opt.title);
  if (!opt.title.empty())
    svg.text(width / 2, 20, opt.title,
             {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});

  for (std::size_t k = 0; k < panels.size(); ++k) {
    const auto& p = panels[k];
    const double x0 = panel_x[k] + axis_w[k];
    const double n = static_cast<double>(std::max<std::size_t>(p.labels.size(), 1));
    const double x1 = x0 + slot * n;
    const double top = panel_y[k] + panel_title_h;
    const LinearScale sy{ticks[k].front(), ticks[k].back(), top + plot_h, top};
    svg.begin_group("panel");
    svg.text((x0 + x1) / 2, panel_y[k] + 12, p.title,
             {.size_px = 12.5, .anchor = "middle", .weight = "bold"});
    draw_y_axis(svg, sy, ticks[k], x0, x1, p.y_label);
    std::vector<double> centres;
    for (std::size_t i = 0; i < p.labels.size(); ++i) {
      const double cx = x0 + slot * (static_cast<double>(i) + 0.5);
      centres.push_back(cx);
      const BoxStats s = box_stats(p.values[i]);
      const std::string colour = palette_color(i);
      if (s.n == 0) {
        svg.text(cx, sy(ticks[k].front()) - 10, "n/a",
                 {.size_px = kTickSize, .anchor = "middle", .fill = kMuted});
        continue;
      }
      const double bw = 26;
      const std::string tip =
          fmt::format("{}: median {}, Q1 {}, Q3 {}, whiskers {} to {}, n = {}", p.labels[i],
                      format_value(s.median), format_value(s.q1), format_value(s.q3),
                      format_value(s.whisker_low), format_value(s.whisker_high), s.n);
      svg.line(cx, sy(s.whisker_high), cx, sy(s.q3), {.stroke = kAxis});
      svg.line(cx, sy(s.q1), cx, sy(s.whisker_low), {.stroke = kAxis});
      svg.line(cx - bw / 4, sy(s.whisker_high), cx + bw / 4, sy(s.whisker_high), {.stroke = kAxis});
      svg.line(cx - bw / 4, sy(s.whisker_low), cx + bw / 4, sy(s.whisker_low), {.stroke = kAxis});
      svg.rect(cx - bw / 2, sy(s.q3), bw, std::max(1.0, sy(s.q1) - sy(s.q3)),
               {.fill = colour, .stroke = colour, .stroke_width = 1.5, .opacity = 0.35}, tip);
      svg.line(cx - bw / 2, sy(s.median), cx + bw / 2, sy(s.median),
               {.stroke = "#111", .stroke_width = 2});
      for (double o : s.outliers)
        svg.circle(cx, sy(o), 3.5, {.fill = "#ffffff", .stroke = colour, .stroke_width = 1.5},
                   fmt::format("{}: outlier {}", p.labels[i], format_value(o)));
      if (opt.show_points) {
        // Observations beside the box, in input order (deterministic, no random jitter).
        std::size_t j = 0;
        for (double v : p.values[i]) {
          if (!finite(v)) continue;
          const double px = cx + bw / 2 + 5 + static_cast<double>(j++ % 3) * 3.5;
          svg.circle(px, sy(v), 2, {.fill = "#333", .opacity = 0.7});
        }
      }
    }
    draw_category_labels(svg, p.labels, centres, top + plot_h, slot);
    svg.end_group();
  }
  return svg.str();
}

// ---- grouped bar chart ------------------------------------------------------------------------

std::string bar_chart_svg(const BarChart& c) {
  const std::size_t K = c.categories.size(), S = c.series.size();
  if (K == 0 || S == 0) return empty_plot(c.title, "no data");
  std::vector<double> ends;
  for (const auto& s : c.series) {
    check(s.values.size() == K,
          "report: bar chart '{}': series '{}' has {} values for {} categories", c.title, s.name,
          s.values.size(), K);
    check(s.errors.empty() || s.errors.size() == K,
          "report: bar chart '{}': series '{}' has {} errors for {} categories", c.title, s.name,
          s.errors.size(), K);
    for (std::size_t i = 0; i < K; ++i) {
      const double v = s.values[i];
      const double e = s.errors.empty() ? kNaN : s.errors[i];
      ends.push_back(v);
      if (finite(v) && finite(e)) ends.push_back(v + std::abs(e)), ends.push_back(v - std::abs(e));
    }
  }
  auto [lo, hi] = data_range(ends, 0.0);
  if (finite(c.value_min)) lo = c.value_min;
  if (finite(c.value_max)) hi = c.value_max;
  const std::vector<double> ticks = nice_ticks(lo, hi, 6);

  std::vector<std::string> names;
  for (const auto& s : c.series) names.push_back(s.name);
  const double bar = S <= 2 ? 18 : S <= 4 ? 12 : 8;
  const double gap = std::max(10.0, bar);
  const double group = static_cast<double>(S) * bar + gap;
  const double title_h = c.title.empty() ? 8 : 30;

  auto draw_bar = [&](Svg& svg, std::size_t si, std::size_t ci, const LinearScale& sv, double pos,
                      bool horizontal) {
    const auto& s = c.series[si];
    const double v = s.values[ci];
    const double e = s.errors.empty() ? kNaN : std::abs(s.errors[ci]);
    const double base = sv(std::clamp(0.0, ticks.front(), ticks.back()));
    if (!finite(v)) {
      if (horizontal)
        svg.text(base + 3, pos + bar / 2, "n/a",
                 {.size_px = 8, .baseline = "middle", .fill = kMuted});
      else
        svg.text(pos + bar / 2, base - 3, "n/a",
                 {.size_px = 8, .baseline = "middle", .fill = kMuted, .rotate_deg = -90});
      return;
    }
    const std::string tip = fmt::format("{} / {}: {}{}", c.categories[ci], s.name, format_value(v),
                                        finite(e) ? " \u00B1 " + format_value(e) : "");
    const double p = sv(std::clamp(v, ticks.front(), ticks.back()));
    const Style st{.fill = palette_color(si), .stroke = "#333", .stroke_width = 0.4};
    if (horizontal)
      svg.rect(std::min(base, p), pos, std::abs(p - base), bar, st, tip);
    else
      svg.rect(pos, std::min(base, p), bar, std::abs(p - base), st, tip);
    if (finite(e) && e > 0) {
      const double a = sv(std::clamp(v - e, ticks.front(), ticks.back()));
      const double b = sv(std::clamp(v + e, ticks.front(), ticks.back()));
      const double m = pos + bar / 2, cap = std::min(4.0, bar / 3);
      const Style es{.stroke = "#111", .stroke_width = 1.1};
      if (horizontal) {
        svg.line(a, m, b, m, es);
        svg.line(a, m - cap, a, m + cap, es);
        svg.line(b, m - cap, b, m + cap, es);
      } else {
        svg.line(m, a, m, b, es);
        svg.line(m - cap, a, m + cap, a, es);
        svg.line(m - cap, b, m + cap, b, es);
      }
    }
  };

  if (!c.horizontal) {
    const double left = y_axis_width(ticks, !c.value_label.empty()) + 6;
    const double plot_w = static_cast<double>(K) * group;
    const double width =
        std::max({left + plot_w + 16, text_width_px(c.title, kTitleSize) + 20, 360.0});
    const double legend_h = legend_height(names, width - left - 10);
    const double top = title_h + legend_h + 8;
    const double plot_h = 250;
    const double bottom = category_labels_height(c.categories, group);
    Svg svg(width, top + plot_h + bottom, c.title);
    if (!c.title.empty())
      svg.text(width / 2, 20, c.title,
               {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});
    draw_legend(svg, names, left, title_h, width - left - 10);
    const LinearScale sv{ticks.front(), ticks.back(), top + plot_h, top};
    draw_y_axis(svg, sv, ticks, left, left + plot_w, c.value_label);
    std::vector<double> centres;
    for (std::size_t ci = 0; ci < K; ++ci) {
      const double gx = left + static_cast<double>(ci) * group + gap / 2;
      centres.push_back(gx + static_cast<double>(S) * bar / 2);
      svg.begin_group("bar-group");
      for (std::size_t si = 0; si < S; ++si)
        draw_bar(svg, si, ci, sv, gx + static_cast<double>(si) * bar, false);
      svg.end_group();
    }
    draw_category_labels(svg, c.categories, centres, top + plot_h, group);
    return svg.str();
  }

  const double left = max_text_width(c.categories, kLabelSize) + 14;
  const double plot_w = 480;
  const double width = std::max(left + plot_w + 24, text_width_px(c.title, kTitleSize) + 20);
  const double legend_h = legend_height(names, width - left - 10);
  const double top = title_h + legend_h + 8;
  const double plot_h = static_cast<double>(K) * group;
  Svg svg(width, top + plot_h + 44, c.title);
  if (!c.title.empty())
    svg.text(width / 2, 20, c.title, {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});
  draw_legend(svg, names, left, title_h, width - left - 10);
  const LinearScale sv{ticks.front(), ticks.back(), left, left + plot_w};
  draw_x_axis(svg, sv, ticks, top + plot_h, top, c.value_label);
  svg.line(left, top, left, top + plot_h, {.stroke = kAxis});
  for (std::size_t ci = 0; ci < K; ++ci) {
    const double gy = top + static_cast<double>(ci) * group + gap / 2;
    svg.text(left - 6, gy + static_cast<double>(S) * bar / 2, c.categories[ci],
             {.size_px = kLabelSize, .anchor = "end", .baseline = "middle"});
    svg.begin_group("bar-group");
    for (std::size_t si = 0; si < S; ++si)
      draw_bar(svg, si, ci, sv, gy + static_cast<double>(si) * bar, true);
    svg.end_group();
  }
  return svg.str();
}

// ---- heatmap ----------------------------------------------------------------------------------

std::string heatmap_color(double value, double vmin, double vmax) {
  if (!finite(value)) return viridis(kNaN);
  const double t = vmax > vmin ? (value - vmin) / (vmax - vmin) : 0.5;
  return viridis(t);
}

std::string heatmap_svg(const Heatmap& h) {
  const std::size_t R = h.row_labels.size(), C = h.col_labels.size();
  if (R == 0 || C == 0) return empty_plot(h.title, "no data");
  check(h.values.size() == R, "report: heatmap '{}': {} value rows for {} row labels", h.title,
        h.values.size(), R);
  std::vector<double> all;
  for (std::size_t r = 0; r < R; ++r) {
    check(h.values[r].size() == C, "report: heatmap '{}': row '{}' has {} values for {} columns",
          h.title, h.row_labels[r], h.values[r].size(), C);
    all.insert(all.end(), h.values[r].begin(), h.values[r].end());
  }
  auto [lo, hi] = data_range(all);
  if (finite(h.vmin)) lo = h.vmin;
  if (finite(h.vmax)) hi = h.vmax;

  const double title_h = h.title.empty() ? 8 : 30;
  const double col_w = max_text_width(h.col_labels, kLabelSize) + 12;
  const bool rotate = col_w > 96;  // long labels are rotated, so the cells can stay narrow
  const double cell_w = rotate ? 60.0 : std::max(56.0, col_w);
  const double cell_h = 24;
  const double col_label_h = rotate ? max_text_width(h.col_labels, kLabelSize) * 0.574 + 16 : 22;
  const double left = max_text_width(h.row_labels, kLabelSize) + 14;
  const double top = title_h + col_label_h;
  const double grid_w = cell_w * static_cast<double>(C), grid_h = cell_h * static_cast<double>(R);
  const std::vector<double> cticks = nice_ticks(lo, hi, 5);
  const double bar_x = left + grid_w + 18, bar_h = std::max(grid_h, 120.0);
  const double width = std::max({bar_x + 16 + max_text_width(tick_labels(cticks), kTickSize) + 20,
                                 bar_x + text_width_px(h.colorbar_label, kTickSize) + 10,
                                 text_width_px(h.title, kTitleSize) + 20});
  Svg svg(width, top + std::max(grid_h, bar_h) + 14, h.title);
  if (!h.title.empty())
    svg.text(width / 2, 20, h.title, {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});

  for (std::size_t c = 0; c < C; ++c) {
    const double cx = left + cell_w * (static_cast<double>(c) + 0.5);
    if (rotate)
      svg.text(cx - 4, top - 6, h.col_labels[c], {.size_px = kLabelSize, .rotate_deg = -35});
    else
      svg.text(cx, top - 7, h.col_labels[c], {.size_px = kLabelSize, .anchor = "middle"});
  }
  for (std::size_t r = 0; r < R; ++r) {
    const double y = top + cell_h * static_cast<double>(r);
    svg.text(left - 6, y + cell_h / 2, h.row_labels[r],
             {.size_px = kLabelSize, .anchor = "end", .baseline = "middle"});
    for (std::size_t c = 0; c < C; ++c) {
      const double v = h.values[r][c];
      const double x = left + cell_w * static_cast<double>(c);
      const std::string fill = heatmap_color(v, lo, hi);
      svg.rect(x, y, cell_w, cell_h, {.fill = fill, .stroke = "#ffffff", .stroke_width = 1},
               fmt::format("{} / {}: {}", h.row_labels[r], h.col_labels[c],
                           format_value(v, h.decimals)));
      if (h.show_values) {
        const bool dark = relative_luminance(fill) < 0.35;
        svg.text(x + cell_w / 2, y + cell_h / 2, format_value(v, h.decimals),
                 {.size_px = kTickSize,
                  .anchor = "middle",
                  .baseline = "middle",
                  .fill = !finite(v) ? "#555555"
                          : dark     ? "#ffffff"
                                     : "#111111"});
      }
    }
  }

  // Colour bar: 64 bands from vmax (top) to vmin (bottom), ticks inside the colour range.
  svg.begin_group("colorbar");
  const int bands = 64;
  const double band_h = bar_h / bands;
  for (int b = 0; b < bands; ++b) {
    const double t = 1.0 - (b + 0.5) / bands;
    svg.rect(bar_x, top + band_h * b, 14, band_h + 0.3, {.fill = viridis(t)});
  }
  svg.rect(bar_x, top, 14, bar_h, {.stroke = kAxis, .stroke_width = 0.6});
  const LinearScale sy{lo, hi, top + bar_h, top};
  const int dec = tick_decimals(cticks);
  for (double t : cticks) {
    if (t < lo - 1e-9 || t > hi + 1e-9) continue;
    svg.line(bar_x + 14, sy(t), bar_x + 18, sy(t), {.stroke = kAxis});
    svg.text(bar_x + 20, sy(t), format_value(t, dec), {.size_px = kTickSize, .baseline = "middle"});
  }
  if (!h.colorbar_label.empty())
    svg.text(bar_x, top - 7, h.colorbar_label, {.size_px = kTickSize, .fill = kMuted});
  svg.end_group();
  return svg.str();
}

// ---- sequential colours -----------------------------------------------------------------------

namespace {
using Rgb = std::array<int, 3>;
std::string interpolate(const std::vector<Rgb>& anchors, double t) {
  if (std::isnan(t)) return "#e0e0e0";
  t = std::clamp(t, 0.0, 1.0);
  const double pos = t * static_cast<double>(anchors.size() - 1);
  const std::size_t i = std::min(static_cast<std::size_t>(pos), anchors.size() - 2);
  const double f = pos - static_cast<double>(i);
  int rgb[3];
  for (int c = 0; c < 3; ++c)
    rgb[c] = static_cast<int>(std::lround(anchors[i][c] + f * (anchors[i + 1][c] - anchors[i][c])));
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}
}  // namespace

std::string blues(double t) {
  static const std::vector<Rgb> kBlues = {
      {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  return interpolate(kBlues, t);
}
std::string oranges(double t) {
  static const std::vector<Rgb> kOranges = {
      {255, 245, 235}, {253, 208, 162}, {253, 141, 60}, {217, 72, 1}, {127, 39, 4}};
  return interpolate(kOranges, t);
}

// ---- timeline ---------------------------------------------------------------------------------

std::string timeline_svg(const Timeline& tl) {
  const std::size_t K = tl.classes.size();
  if (K == 0) return empty_plot(tl.title, "no classes");
  check(tl.hop_s > 0 && finite(tl.hop_s), "report: timeline '{}': hop_s must be > 0, got {}",
        tl.title, tl.hop_s);
  check(tl.prob.size() == K, "report: timeline '{}': {} probability rows for {} classes", tl.title,
        tl.prob.size(), K);
  const bool has_att = !tl.attention.empty();
  const bool has_truth = !tl.truth.empty();
  const bool has_clip = !tl.clip_scores.empty();
  check(!has_att || tl.attention.size() == K,
        "report: timeline '{}': {} attention rows for {} classes", tl.title, tl.attention.size(),
        K);
  check(!has_truth || tl.truth.size() == K, "report: timeline '{}': {} truth rows for {} classes",
        tl.title, tl.truth.size(), K);
  check(!has_clip || tl.clip_scores.size() == K,
        "report: timeline '{}': {} clip scores for {} classes", tl.title, tl.clip_scores.size(), K);

  std::size_t n = 0;
  for (const auto& r : tl.prob) n = std::max(n, r.size());
  if (has_att)
    for (const auto& r : tl.attention) n = std::max(n, r.size());
  double duration = static_cast<double>(n) * tl.hop_s;
  if (has_truth)
    for (const auto& segs : tl.truth)
      for (const auto& s : segs)
        if (finite(s.end_s)) duration = std::max(duration, s.end_s);
  if (duration <= 0) duration = tl.hop_s;

  const double title_h = tl.title.empty() ? 8 : 30;
  const double legend_h = 24;
  const double left = std::max(max_text_width(tl.classes, kLabelSize), has_att ? 52.0 : 0.0) + 14;
  const double plot_w = std::clamp(static_cast<double>(n) * 28.0, 360.0, 760.0);
  const double right = has_clip ? 64 : 16;
  const double prob_h = 16, att_h = has_att ? 11 : 0, truth_h = has_truth ? 6 : 0;
  const double row_h = prob_h + (has_att ? att_h + 1 : 0) + (has_truth ? truth_h + 2 : 0) + 7;
  const double top = title_h + legend_h + (has_clip ? 10 : 0);
  const double rows_h = row_h * static_cast<double>(K);
  const double legend_w = text_width_px("probability", kTickSize) + 107 +
                          (has_att ? text_width_px("attention / row max", kTickSize) + 107 : 0) +
                          (has_truth ? 30 + text_width_px("truth", kTickSize) + 10 : 0);
  const double width =
      std::max({left + plot_w + right, left + legend_w, text_width_px(tl.title, kTitleSize) + 20});
  Svg svg(width, top + rows_h + 44, tl.title);
  if (!tl.title.empty())
    svg.text(width / 2, 20, tl.title,
             {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});

  // Legend: probability and attention colour ramps, truth bar.
  {
    double x = left;
    const double y = title_h + 4;
    auto ramp = [&](const std::string& name, std::string (*colour)(double)) {
      svg.text(x, y + 6, name, {.size_px = kTickSize, .baseline = "middle"});
      x += text_width_px(name, kTickSize) + 6;
      svg.text(x, y + 6, "0", {.size_px = kTickSize, .baseline = "middle"});
      x += 9;
      for (int i = 0; i < 10; ++i)
        svg.rect(x + i * 6, y, 6.3, 12, {.fill = colour((i + 0.5) / 10)});
      svg.rect(x, y, 60, 12, {.stroke = kAxis, .stroke_width = 0.5});
      x += 63;
      svg.text(x, y + 6, "1", {.size_px = kTickSize, .baseline = "middle"});
      x += 22;
    };
    ramp("probability", blues);
    if (has_att) ramp("attention / row max", oranges);
    if (has_truth) {
      svg.rect(x, y + 3, 24, 6, {.fill = "#D55E00"});
      svg.text(x + 30, y + 6, "truth", {.size_px = kTickSize, .baseline = "middle"});
    }
  }

  const LinearScale sx{0.0, duration, left, left + plot_w};
  const std::vector<double> xt = [&] {
    auto t = nice_ticks(0.0, duration, 8);
    std::erase_if(t, [&](double v) { return v < -1e-9 || v > duration + 1e-9; });
    return t;
  }();
  // Vertical grid under the rows.
  for (double t : xt) svg.line(sx(t), top - 2, sx(t), top + rows_h, {.stroke = kGrid});
  if (has_clip)
    svg.text(left + plot_w + 8, top - 6, "clip", {.size_px = kTickSize, .fill = kMuted});

  const double cell_w = n > 0 ? plot_w * tl.hop_s / duration : 0;
  const bool borders = cell_w >= 8;
  for (std::size_t k = 0; k < K; ++k) {
    const double y = top + row_h * static_cast<double>(k);
    svg.begin_group("timeline-row");
    svg.text(left - 6, y + prob_h / 2, tl.classes[k],
             {.size_px = kLabelSize, .anchor = "end", .baseline = "middle"});
    for (std::size_t i = 0; i < tl.prob[k].size(); ++i) {
      const double p = tl.prob[k][i];
      const double t0 = static_cast<double>(i) * tl.hop_s;
      svg.rect(sx(t0), y, cell_w, prob_h,
               {.fill = blues(p), .stroke = borders ? "#ffffff" : "none", .stroke_width = 0.5},
               fmt::format("{}, {}-{} s: p = {}", tl.classes[k], format_value(t0, 2),
                           format_value(t0 + tl.hop_s, 2), format_value(p)));
    }
    svg.rect(left, y, plot_w, prob_h, {.stroke = "#bbbbbb", .stroke_width = 0.5});
    double yy = y + prob_h + 1;
    if (has_att) {
      svg.text(left - 6, yy + att_h / 2, "attention",
               {.size_px = 8.5, .anchor = "end", .baseline = "middle", .fill = kMuted});
      double row_max = 0;
      for (double a : tl.attention[k])
        if (finite(a)) row_max = std::max(row_max, a);
      for (std::size_t i = 0; i < tl.attention[k].size(); ++i) {
        const double a = tl.attention[k][i];
        const double t0 = static_cast<double>(i) * tl.hop_s;
        svg.rect(sx(t0), yy, cell_w, att_h,
                 {.fill = oranges(row_max > 0 ? a / row_max : kNaN),
                  .stroke = borders ? "#ffffff" : "none",
                  .stroke_width = 0.5},
                 fmt::format("{}, {}-{} s: attention = {}", tl.classes[k], format_value(t0, 2),
                             format_value(t0 + tl.hop_s, 2), format_value(a)));
      }
      yy += att_h + 1;
    }
    if (has_truth) {
      yy += 1;
      svg.rect(left, yy, plot_w, truth_h, {.fill = "#f1f1f1"});
      for (const auto& s : tl.truth[k]) {
        if (!finite(s.start_s) || !finite(s.end_s) || s.end_s <= s.start_s) continue;
        const double a = std::clamp(s.start_s, 0.0, duration),
                     b = std::clamp(s.end_s, 0.0, duration);
        svg.rect(sx(a), yy, sx(b) - sx(a), truth_h, {.fill = "#D55E00"},
                 fmt::format("{}: truth {}-{} s", tl.classes[k], format_value(s.start_s, 2),
                             format_value(s.end_s, 2)));
      }
    }
    if (has_clip)
      svg.text(left + plot_w + 8, y + prob_h / 2, format_value(tl.clip_scores[k], 2),
               {.size_px = kTickSize, .baseline = "middle"});
    svg.end_group();
  }
  draw_x_axis(svg, sx, xt, top + rows_h, top + rows_h, "time (s)", false);
  return svg.str();
}

// ---- scatter ----------------------------------------------------------------------------------

namespace {
void draw_marker(Svg& svg, std::size_t shape, double x, double y, double r,
                 const std::string& colour, double opacity, std::string_view tip) {
  const Style st{.fill = colour, .stroke = "#222", .stroke_width = 0.4, .opacity = opacity};
  switch (shape % 4) {
    case 0:
      svg.circle(x, y, r, st, tip);
      break;
    case 1:
      svg.rect(x - r * 0.9, y - r * 0.9, r * 1.8, r * 1.8, st, tip);
      break;
    case 2:
      svg.polygon({{x, y - r * 1.15}, {x + r * 1.05, y + r * 0.8}, {x - r * 1.05, y + r * 0.8}}, st,
                  tip);
      break;
    default:
      svg.polygon({{x, y - r * 1.2}, {x + r * 1.2, y}, {x, y + r * 1.2}, {x - r * 1.2, y}}, st,
                  tip);
  }
}
}  // namespace

std::string scatter_svg(const Scatter& s) {
  check(s.x.size() == s.y.size(), "report: scatter '{}': {} x values but {} y values", s.title,
        s.x.size(), s.y.size());
  check(s.labels.empty() || s.labels.size() == s.x.size(),
        "report: scatter '{}': {} labels for {} points", s.title, s.labels.size(), s.x.size());
  std::vector<double> xs, ys;
  for (std::size_t i = 0; i < s.x.size(); ++i)
    if (finite(s.x[i]) && finite(s.y[i])) xs.push_back(s.x[i]), ys.push_back(s.y[i]);
  if (xs.empty()) return empty_plot(s.title, "no points");

  std::map<std::string, std::size_t> counts;  // sorted labels -> count
  for (std::size_t i = 0; i < s.x.size(); ++i)
    if (finite(s.x[i]) && finite(s.y[i])) ++counts[s.labels.empty() ? "points" : s.labels[i]];
  std::map<std::string, std::size_t> index;
  std::vector<std::string> legend;
  for (const auto& [label, count] : counts) {
    index[label] = legend.size();
    legend.push_back(fmt::format("{} ({})", label, count));
  }

  const auto [x_lo, x_hi] = data_range(xs);
  const auto [y_lo, y_hi] = data_range(ys);
  const auto xt = nice_ticks(x_lo, x_hi, 6), yt = nice_ticks(y_lo, y_hi, 6);
  const double title_h = s.title.empty() ? 8 : 30;
  const double left = y_axis_width(yt, !s.y_label.empty()) + 6;
  const double side = 400;
  const double legend_w = max_text_width(legend, kLabelSize) + 40;
  const double width =
      std::max(left + side + 20 + legend_w, text_width_px(s.title, kTitleSize) + 20);
  const double legend_rows_h = static_cast<double>(legend.size()) * 17 + 10;
  const double height = title_h + std::max(side + 48, legend_rows_h + 10);
  Svg svg(width, height, s.title);
  if (!s.title.empty())
    svg.text(width / 2, 20, s.title, {.size_px = kTitleSize, .anchor = "middle", .weight = "bold"});
  const double top = title_h + 4;
  const LinearScale sx{xt.front(), xt.back(), left, left + side};
  const LinearScale sy{yt.front(), yt.back(), top + side, top};
  draw_y_axis(svg, sy, yt, left, left + side, s.y_label);
  draw_x_axis(svg, sx, xt, top + side, top, s.x_label);
  svg.rect(left, top, side, side, {.stroke = "#bbbbbb", .stroke_width = 0.5});

  const bool tips = s.x.size() <= 3000;
  const double r = s.x.size() > 2000 ? 2.2 : 3.2;
  svg.begin_group("points");
  for (std::size_t i = 0; i < s.x.size(); ++i) {
    if (!finite(s.x[i]) || !finite(s.y[i])) continue;
    const std::string& label = s.labels.empty() ? std::string("points") : s.labels[i];
    const std::size_t li = index[label];
    draw_marker(svg, li / palette_size(), sx(s.x[i]), sy(s.y[i]), r, palette_color(li), 0.75,
                tips ? std::string_view(label) : std::string_view());
  }
  svg.end_group();

  svg.begin_group("legend");
  const double lx = left + side + 24;
  for (std::size_t i = 0; i < legend.size(); ++i) {
    const double ly = top + 8 + 17 * static_cast<double>(i);
    draw_marker(svg, i / palette_size(), lx + 5, ly, 4, palette_color(i), 0.9, {});
    svg.text(lx + 15, ly, legend[i], {.size_px = kLabelSize, .baseline = "middle"});
  }
  svg.end_group();
  return svg.str();
}

}  // namespace tutti::report
