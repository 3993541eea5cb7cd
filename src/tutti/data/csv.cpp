#include "tutti/data/csv.h"

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::data {

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& what) {
  std::vector<CsvRow> rows;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  std::int64_t line = 1;
  const std::size_t n = text.size();
  while (i < n) {
    // Blank line (LF or CRLF): skip.
    if (text[i] == '\n') {
      ++i;
      ++line;
      continue;
    }
    if (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n') {
      i += 2;
      ++line;
      continue;
    }
    CsvRow row;
    row.line = line;
    bool end_of_record = false;
    while (!end_of_record) {
      std::string field;
      if (i < n && text[i] == '"') {
        const std::int64_t start_line = line;
        ++i;
        for (;;) {
          check(i < n, "{}:{}: unterminated quoted field", what, start_line);
          const char c = text[i++];
          if (c == '"') {
            if (i < n && text[i] == '"') {
              field.push_back('"');
              ++i;
            } else {
              break;
            }
          } else {
            if (c == '\n') ++line;
            field.push_back(c);
          }
        }
        // After the closing quote: a separator or the end of the record.
        check(i >= n || text[i] == ',' || text[i] == '\n' ||
                  (text[i] == '\r' && i + 1 < n && text[i + 1] == '\n'),
              "{}:{}: unexpected text after a closing quote", what, line);
      } else {
        while (i < n && text[i] != ',' && text[i] != '\n' &&
               !(text[i] == '\r' && i + 1 < n && text[i + 1] == '\n')) {
          check(text[i] != '"', "{}:{}: a quote inside an unquoted field (quote the whole field)",
                what, line);
          field.push_back(text[i++]);
        }
      }
      row.fields.push_back(std::move(field));
      if (i >= n) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else if (text[i] == '\n') {
        ++i;
        ++line;
        end_of_record = true;
      } else {  // "\r\n"
        i += 2;
        ++line;
        end_of_record = true;
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<CsvRow> read_csv(const std::filesystem::path& path) {
  return parse_csv(core::read_file_text(path), path.string());
}

}  // namespace tutti::data
