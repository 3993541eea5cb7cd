// Small text helpers shared by the readers.
#pragma once

#include <cctype>
#include <string>

namespace tutti::core {

// `s` with ASCII letters lowered (file extensions, font and voice names); other bytes unchanged.
inline std::string ascii_lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace tutti::core
