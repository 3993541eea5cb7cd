#include "tutti/data/csv.h"

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::data {

namespace {

// Offset of the first byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) {
  const auto* b = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned c = b[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > n || b[i + 1] < lo || b[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (b[i + k] < 0x80 || b[i + k] > 0xBF) return i;
    i += len;
  }
  return std::string_view::npos;
}

}  // namespace

std::vector<CsvRow> parse_csv(std::string_view text, const std::string& what) {
  std::vector<CsvRow> rows;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;
  // Keys and names end up in .npz unicode arrays and reports: a Latin-1 or binary file is refused
  // here, where the line can still be named.
  if (const auto bad = invalid_utf8_at(text); bad != std::string_view::npos) {
    const auto nl = bad == 0 ? std::string_view::npos : text.rfind('\n', bad - 1);
    const std::size_t col = nl == std::string_view::npos ? bad + 1 : bad - nl;
    fail("{}:{}: not valid UTF-8 (byte 0x{:02X} at byte {} of the line); save the file as UTF-8",
         what, 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(bad), '\n'),
         static_cast<unsigned>(static_cast<unsigned char>(text[bad])), col);
  }
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

double parse_number_field(const std::string& s, const std::string& what, std::int64_t line,
                          const char* column) {
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check(!s.empty() && used == s.size() && std::isfinite(v), "{}:{}: {} '{}' is not a number", what,
        line, column, s);
  return v;
}

}  // namespace tutti::data
