// HTML building blocks for tutti's reports: escaping, number formatting with "n/a" for missing
// values, tables and a self-contained page (inline CSS, no network, no external fonts).
//
//   tutti::report::HtmlTable t({"model", "mAP"});
//   t.add_row({"mlp", tutti::report::format_mean_std(0.51, 0.013)});
//   std::string page = tutti::report::html_page("tutti report", "<h1>...</h1>" + t.str());
//
// Every text handed to these functions is escaped; only parameters named `*_html` are inserted
// as they are (they must already be escaped markup).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tutti::report {

// Escapes & < > " ' for use in HTML/SVG text and attribute values. Control characters other
// than tab/newline/CR (invalid in XML 1.0) become U+FFFD so that SVG stays well-formed.
std::string escape(std::string_view text);

// A number with `decimals` fixed decimals; "n/a" for NaN/inf. "-0.000" is printed as "0.000".
std::string format_value(double value, int decimals = 3);
// "0.512 ± 0.013"; the std part is "n/a" when `std_dev` is NaN (e.g. one seed); "n/a" alone when
// the mean is NaN.
std::string format_mean_std(double mean, double std_dev, int decimals = 3);
// An integer count with thin grouping ("1 234 567"); "n/a" for NaN.
std::string format_count(double value);

// An HTML table; cells are plain text (escaped) unless added with add_row_html.
class HtmlTable {
 public:
  explicit HtmlTable(std::vector<std::string> header, std::string css_class = "");
  // Columns whose cells are right-aligned with tabular digits (all but the first by default).
  void set_numeric_columns(std::vector<bool> numeric);
  void add_row(const std::vector<std::string>& cells);
  void add_row_html(std::vector<std::string> cells_html);
  std::size_t rows() const { return rows_.size(); }
  std::string str() const;

 private:
  std::vector<std::string> header_;
  std::string css_class_;
  std::vector<bool> numeric_;
  std::vector<std::vector<std::string>> rows_;
};

// A complete HTML5 document: <title>, the project's inline stylesheet, `body_html`, and
// `script` (inline JavaScript placed at the end of <body>; empty = none).
std::string html_page(std::string_view title, std::string_view body_html,
                      std::string_view script = {});

// The stylesheet html_page() inlines (exposed so other pages can reuse it).
std::string_view report_css();

}  // namespace tutti::report
