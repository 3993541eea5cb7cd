// A small RFC 4180 CSV reader: comma-separated fields, fields in double quotes may hold commas,
// line breaks and doubled quotes (""), records end in LF or CRLF, the last one may lack it.
// A UTF-8 byte-order mark at the start is skipped; blank lines are skipped (RFC 4180 would read
// them as one empty field, which no tutti file means).
//
//   for (const auto& row : tutti::data::read_csv("labels.csv"))
//     use(row.fields[0], row.line);
//
// Errors throw tutti::Error "<file>:<line>: <problem>" (unterminated quote, a quote inside an
// unquoted field, text after a closing quote).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tutti::data {

struct CsvRow {
  std::vector<std::string> fields;
  std::int64_t line = 0;  // 1-based line where the record starts
};

// `what` names the source in errors (usually the file path).
std::vector<CsvRow> parse_csv(std::string_view text, const std::string& what);
std::vector<CsvRow> read_csv(const std::filesystem::path& path);

// A field as a finite number (the whole field, strtod syntax). Throws tutti::Error
// "<what>:<line>: <column> '<field>' is not a number".
double parse_number_field(const std::string& field, const std::string& what, std::int64_t line,
                          const char* column);

}  // namespace tutti::data
