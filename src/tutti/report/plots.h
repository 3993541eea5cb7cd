// The plots of tutti's reports, each a pure function from data to an SVG string (see svg.h):
// box plots over seeds, grouped bar charts with error bars, heatmaps with a colour scale and cell
// labels, per-instrument timelines of a clip, and labelled scatter plots (t-SNE).
//
//   tutti::report::Heatmap h;
//   h.title = "Per-class F1"; h.row_labels = {"piano", "violin"}; h.col_labels = {"mlp"};
//   h.values = {{0.81}, {0.64}}; h.vmin = 0; h.vmax = 1;
//   std::string svg = tutti::report::heatmap_svg(h);
//
// Missing values are NaN (JSON null): they are drawn as "n/a" (or left out of statistics), never
// an error. Inconsistent shapes (a row of the wrong length) throw tutti::Error naming the plot.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
#include <vector>

namespace tutti::report {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- statistics -------------------------------------------------------------------------------

// The p-th percentile (p in [0, 100]) of ascending `sorted` values with linear interpolation
// between closest ranks, as numpy.percentile(..., method="linear"); NaN when empty.
double percentile_linear(const std::vector<double>& sorted, double p);

// Tukey box-plot statistics (as matplotlib.boxplot, whis=1.5): quartiles by percentile_linear,
// whiskers at the most extreme data within 1.5 IQR of the box, outliers beyond. NaNs are dropped;
// with no finite value every field is NaN and n = 0.
struct BoxStats {
  std::size_t n = 0;
  double q1 = kNaN, median = kNaN, q3 = kNaN;
  double whisker_low = kNaN, whisker_high = kNaN;
  std::vector<double> outliers = {};  // ascending
};
BoxStats box_stats(std::vector<double> values);

// ---- box plot ---------------------------------------------------------------------------------

// One panel: one box per label (e.g. per model), values[i] are the observations (e.g. seeds).
struct BoxPlotPanel {
  std::string title = {};
  std::string y_label = {};
  std::vector<std::string> labels = {};
  std::vector<std::vector<double>> values = {};  // [label][observation]
};
struct BoxPlotOptions {
  std::string title = {};
  double height_px = 320;
  bool shared_y = false;       // one y range for all panels (else per panel)
  bool show_points = true;     // draw every observation as a small dot beside its box
  double max_width_px = 1080;  // panels wrap to a new row beyond this width
};
// Panels side by side in one SVG, each box coloured by its label's index (palette_color).
std::string box_plot_svg(const std::vector<BoxPlotPanel>& panels, const BoxPlotOptions& options);

// ---- grouped bar chart ------------------------------------------------------------------------

struct BarSeries {
  std::string name = {};            // legend entry (e.g. a model)
  std::vector<double> values = {};  // one per category; NaN = n/a
  std::vector<double> errors = {};  // +- error bar per category (e.g. std); empty or NaN = none
};
struct BarChart {
  std::string title = {};
  std::string value_label = {};              // the value axis title
  std::vector<std::string> categories = {};  // one group per category (e.g. an instrument)
  std::vector<BarSeries> series = {};        // one bar per series in each group
  bool horizontal = false;                   // categories down the y axis, bars to the right
  double value_min = kNaN;                   // axis range; NaN = from the data (0 included)
  double value_max = kNaN;
};
std::string bar_chart_svg(const BarChart& chart);

// ---- heatmap ----------------------------------------------------------------------------------

struct Heatmap {
  std::string title = {};
  std::vector<std::string> row_labels = {};
  std::vector<std::string> col_labels = {};
  std::vector<std::vector<double>> values = {};  // [row][col]; NaN = n/a (grey cell)
  double vmin = kNaN;                            // colour range; NaN = data range
  double vmax = kNaN;
  int decimals = 2;  // cell labels
  bool show_values = true;
  std::string colorbar_label = {};
};
// Colours by viridis (luminance increases with the value); a colour bar with ticks on the right.
std::string heatmap_svg(const Heatmap& heatmap);
// The fill colour heatmap_svg() gives to `value` for the range [vmin, vmax].
std::string heatmap_color(double value, double vmin, double vmax);

// ---- timeline of one clip ---------------------------------------------------------------------

struct TimeSegment {
  double start_s = 0;
  double end_s = 0;
};
// Per class a row of instances (each `hop_s` long, e.g. VGGish's 0.96 s) shaded by probability;
// an optional second row with the attention weights (shaded relative to the row's maximum, since
// they sum to 1 over the clip); optional ground-truth segments drawn as bars under the rows.
struct Timeline {
  std::string title = {};
  double hop_s = 0.96;
  std::vector<std::string> classes = {};
  std::vector<std::vector<double>> prob = {};        // [class][instance] in [0, 1]; NaN = n/a
  std::vector<std::vector<double>> attention = {};   // empty, or [class][instance] >= 0
  std::vector<std::vector<TimeSegment>> truth = {};  // empty, or [class] -> segments in seconds
  std::vector<double> clip_scores = {};              // empty, or [class]: clip-level probability
};
std::string timeline_svg(const Timeline& timeline);

// ---- scatter plot -----------------------------------------------------------------------------

// Points coloured and shaped by label (8 colours x 4 marker shapes before repeating), a legend
// listing the labels in sorted order with their counts.
struct Scatter {
  std::string title = {};
  std::string x_label = "dimension 1";
  std::string y_label = "dimension 2";
  std::vector<double> x = {}, y = {};    // same length; points with a NaN coordinate are skipped
  std::vector<std::string> labels = {};  // same length as x (or empty: one unlabelled group)
};
std::string scatter_svg(const Scatter& scatter);

// Sequential colours for timelines: white -> dark blue / dark orange (ColorBrewer Blues and
// Oranges), luminance decreasing with t in [0, 1]; NaN gives light grey.
std::string blues(double t);
std::string oranges(double t);

}  // namespace tutti::report
