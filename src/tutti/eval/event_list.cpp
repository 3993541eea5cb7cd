#include "tutti/eval/event_list.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/data/csv.h"

namespace tutti::eval {
namespace {

// Tab-separated rows (no quoting in TSV): split on tabs, CR dropped, blank and '#' lines skipped.
std::vector<data::CsvRow> parse_tsv(const std::string& text) {
  std::vector<data::CsvRow> rows;
  std::istringstream in(text);
  std::int64_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    data::CsvRow row;
    row.line = line_no;
    std::size_t start = 0;
    for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
      row.fields.push_back(line.substr(start, tab - start));
    row.fields.push_back(line.substr(start));
    rows.push_back(std::move(row));
  }
  return rows;
}

int column_of(const std::vector<std::string>& header, std::initializer_list<const char*> names) {
  for (std::size_t j = 0; j < header.size(); ++j)
    for (const char* n : names)
      if (header[j] == n) return static_cast<int>(j);
  return -1;
}

}  // namespace

EventList parse_event_list(const std::string& text, const std::string& what,
                           const EventListOptions& options) {
  const std::size_t first_line_end = text.find('\n');
  const bool tabs = text.substr(0, first_line_end).find('\t') != std::string::npos ||
                    (text.find(',') == std::string::npos && text.find('\t') != std::string::npos);
  auto rows = tabs ? parse_tsv(text) : data::parse_csv(text, what);
  std::erase_if(rows, [](const data::CsvRow& r) {
    return r.fields.empty() || (!r.fields[0].empty() && r.fields[0].front() == '#');
  });
  EventList out;
  check(!options.require_header || !rows.empty(),
        "{}: empty file (expected a header naming file, onset, offset and label columns)", what);
  if (rows.empty()) return out;

  // Columns: file, onset, offset, label (file -1: one file "").
  int cf = -1, con = -1, cof = -1, cl = -1;
  std::size_t first = 0;
  const auto& h = rows.front().fields;
  if (column_of(h, {"onset", "onset_s", "event_onset"}) >= 0) {
    cf = column_of(h, {"filename", "file", "audio_filename"});
    con = column_of(h, {"onset", "onset_s", "event_onset"});
    cof = column_of(h, {"offset", "offset_s", "event_offset"});
    cl = column_of(h, {"event_label", "label", "instrument", "class"});
    check(cof >= 0 && cl >= 0, "{}:{}: the header names no {} column (header: {})", what,
          rows.front().line,
          cof < 0 ? "offset (offset, offset_s, event_offset)"
                  : "label (event_label, label, instrument, class)",
          fmt::join(h, ","));
    first = 1;
  } else {
    check(!options.require_header,
          "{}:{}: no header naming an onset column (onset, onset_s, event_onset)", what,
          rows.front().line);
    if (h.size() == 3)
      con = 0, cof = 1, cl = 2;
    else
      cf = 0, con = 1, cof = 2, cl = 3;
  }
  const std::string label_name = first == 1 ? h[static_cast<std::size_t>(cl)] : "event label";
  const std::set<std::string> known(options.labels.begin(), options.labels.end());
  const std::size_t width = rows.front().fields.size();
  const std::size_t need = static_cast<std::size_t>(std::max({cf, con, cof, cl})) + 1;
  std::set<std::string> seen;
  auto note_file = [&](const std::string& f) {
    if (seen.insert(f).second) out.files.push_back(f);
  };
  for (std::size_t r = first; r < rows.size(); ++r) {
    const auto& f = rows[r].fields;
    const std::int64_t line = rows[r].line;
    const std::string file = cf >= 0 && static_cast<std::size_t>(cf) < f.size() ? f[cf] : "";
    // A file without events: its name alone, or empty event fields.
    const bool no_event = (f.size() == 1 && cf == 0) ||
                          (f.size() >= need && f[con].empty() && f[cof].empty() && f[cl].empty());
    if (no_event) {
      note_file(file);
      continue;
    }
    check(f.size() >= need && (first == 1 || f.size() == width), "{}:{}: {} fields, expected {}",
          what, line, f.size(), first == 1 ? need : width);
    auto number = [&](int c, const char* name) {
      const double v = data::parse_number_field(f[static_cast<std::size_t>(c)], what, line, name);
      check(v >= 0, "{}:{}: {} {} s is negative", what, line, name, v);
      return v;
    };
    Event e{file, f[static_cast<std::size_t>(cl)], number(con, "onset"), number(cof, "offset")};
    check(!e.label.empty(), "{}:{}: empty event label", what, line);
    check(known.empty() || known.count(e.label) != 0, "{}:{}: {} '{}' is not a class ({})", what,
          line, label_name, e.label, fmt::join(options.labels, ", "));
    check(e.offset_s >= e.onset_s, "{}:{}: offset {} s before onset {} s", what, line, e.offset_s,
          e.onset_s);
    note_file(file);
    out.events.push_back(std::move(e));
  }
  return out;
}

EventList read_event_list(const std::filesystem::path& path, const EventListOptions& options) {
  std::error_code ec;
  check(std::filesystem::is_regular_file(path, ec), "{}: no such file", path.string());
  return parse_event_list(core::read_file_text(path), path.string(), options);
}

}  // namespace tutti::eval
