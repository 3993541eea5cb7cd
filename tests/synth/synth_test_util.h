// Helpers shared by the synth tests: the system soundfont, CSV rows, and file hashes.
#pragma once

#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "tutti/core/file_io.h"

namespace tutti::testing {

inline const std::string kTimGm6mb = "/usr/share/sounds/sf2/TimGM6mb.sf2";

// Every line of a CSV file split at commas (no quoting), the header included; a line ending in a
// comma has an empty last cell.
inline std::vector<std::vector<std::string>> csv_cells(const std::filesystem::path& p) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(core::read_file_text(p));
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  return rows;
}

// Every file under dir (relative path -> md5), except synth.json (it records the thread count and
// the version).
inline std::map<std::string, std::string> file_md5s(const std::filesystem::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.is_regular_file() && e.path().filename() != "synth.json")
      out[std::filesystem::relative(e.path(), dir).string()] = core::md5_file_hex(e.path());
  return out;
}

}  // namespace tutti::testing
