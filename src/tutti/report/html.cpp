#include "tutti/report/html.h"

#include <fmt/format.h>

#include <cmath>

namespace tutti::report {

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default: {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 && c != '\t' && c != '\n' && c != '\r') {
          out += "\xEF\xBF\xBD";  // U+FFFD: XML 1.0 forbids these characters
        } else {
          out += c;
        }
      }
    }
  }
  return out;
}

std::string format_value(double value, int decimals) {
  if (!std::isfinite(value)) return "n/a";
  std::string s = fmt::format("{:.{}f}", value, decimals);
  // Avoid "-0.000": a value that rounds to zero prints without sign.
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string format_mean_std(double mean, double std_dev, int decimals) {
  if (!std::isfinite(mean)) return "n/a";
  return format_value(mean, decimals) + " \u00B1 " + format_value(std_dev, decimals);
}

std::string format_count(double value) {
  if (!std::isfinite(value)) return "n/a";
  const auto n = static_cast<long long>(std::llround(value));
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  const int len = static_cast<int>(digits.size());
  for (int i = 0; i < len; ++i) {
    if (i > 0 && (len - i) % 3 == 0) out += "\u2009";  // thin space
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

HtmlTable::HtmlTable(std::vector<std::string> header, std::string css_class)
    : header_(std::move(header)), css_class_(std::move(css_class)) {
  numeric_.assign(header_.size(), true);
  if (!numeric_.empty()) numeric_[0] = false;
}

void HtmlTable::set_numeric_columns(std::vector<bool> numeric) { numeric_ = std::move(numeric); }

void HtmlTable::add_row(const std::vector<std::string>& cells) {
  std::vector<std::string> escaped;
  escaped.reserve(cells.size());
  for (const auto& c : cells) escaped.push_back(escape(c));
  rows_.push_back(std::move(escaped));
}

void HtmlTable::add_row_html(std::vector<std::string> cells_html) {
  rows_.push_back(std::move(cells_html));
}

std::string HtmlTable::str() const {
  std::string out =
      css_class_.empty() ? "<table>\n" : "<table class=\"" + escape(css_class_) + "\">\n";
  auto cls = [&](std::size_t i) {
    return i < numeric_.size() && numeric_[i] ? std::string(" class=\"num\"") : std::string();
  };
  out += "<thead><tr>";
  for (std::size_t i = 0; i < header_.size(); ++i)
    out += "<th" + cls(i) + ">" + escape(header_[i]) + "</th>";
  out += "</tr></thead>\n<tbody>\n";
  for (const auto& row : rows_) {
    out += "<tr>";
    for (std::size_t i = 0; i < row.size(); ++i) out += "<td" + cls(i) + ">" + row[i] + "</td>";
    out += "</tr>\n";
  }
  out += "</tbody>\n</table>\n";
  return out;
}

std::string_view report_css() {
  return R"css(
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif;
       color: #222; background: #fff; margin: 0 auto; padding: 1.5em 2em 4em; max-width: 1180px;
       line-height: 1.45; font-size: 15px; }
h1 { font-size: 1.7em; margin: 0.2em 0 0.4em; }
h2 { font-size: 1.3em; margin: 2em 0 0.5em; padding-bottom: 0.2em; border-bottom: 2px solid #ddd; }
h3 { font-size: 1.08em; margin: 1.4em 0 0.4em; }
p.note, p.caption { color: #555; font-size: 0.92em; margin: 0.3em 0 0.8em; }
nav.toc ol { columns: 2; margin: 0.4em 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #d4d4d4; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
thead th { background: #f0f0f0; }
tbody tr:nth-child(even) { background: #fafafa; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
              font-size: 0.92em; word-break: break-all; }
figure { margin: 0.8em 0 1.4em; overflow-x: auto; }
figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #555; font-size: 0.9em; margin-top: 0.3em; }
pre.config { background: #f6f6f6; border: 1px solid #e2e2e2; padding: 0.6em; overflow-x: auto;
             font-size: 0.85em; max-height: 24em; }
.na { color: #999; }
)css";
}

std::string html_page(std::string_view title, std::string_view body_html, std::string_view script) {
  std::string out;
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>" + escape(title) + "</title>\n<style>";
  out += report_css();
  out += "</style>\n</head>\n<body>\n";
  out += body_html;
  if (!script.empty()) {
    out += "<script>";
    out += script;
    out += "</script>\n";
  }
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace tutti::report
