// A tiny XML well-formedness checker for the SVG the report writes (tests only).
// Checks: balanced and properly nested elements, attribute syntax (name="value", no duplicates,
// no raw '<' in values), entity references (&amp; &lt; &gt; &quot; &apos; &#N; &#xN;), no raw
// '<' or '&' in text, exactly one root element. Returns "" when well-formed, else the problem.
#pragma once

#include <cctype>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace tutti::testing {

inline std::string check_entity(std::string_view s, std::size_t& i) {
  const std::size_t end = s.find(';', i);
  if (end == std::string_view::npos || end - i > 10) return "unterminated entity";
  const std::string_view name = s.substr(i + 1, end - i - 1);
  static const std::set<std::string_view> kNamed = {"amp", "lt", "gt", "quot", "apos"};
  bool ok = kNamed.count(name) > 0;
  if (!ok && name.size() > 1 && name[0] == '#') {
    ok = true;
    const bool hex = name[1] == 'x';
    for (std::size_t k = hex ? 2 : 1; k < name.size(); ++k)
      ok = ok && (hex ? std::isxdigit(static_cast<unsigned char>(name[k]))
                      : std::isdigit(static_cast<unsigned char>(name[k])));
  }
  if (!ok) return "unknown entity &" + std::string(name) + ";";
  i = end;
  return "";
}

inline bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == ':' ||
         c == '.';
}

inline std::string xml_wellformed(std::string_view s) {
  std::vector<std::string> stack;
  int roots = 0;
  std::size_t i = 0;
  // Skip an XML declaration.
  if (s.substr(0, 5) == "<?xml") {
    i = s.find("?>");
    if (i == std::string_view::npos) return "unterminated XML declaration";
    i += 2;
  }
  while (i < s.size()) {
    const char c = s[i];
    if (c == '&') {
      if (auto e = check_entity(s, i); !e.empty()) return e;
      ++i;
      continue;
    }
    if (c != '<') {
      if (stack.empty() && !std::isspace(static_cast<unsigned char>(c)))
        return "text outside the root element at " + std::to_string(i);
      ++i;
      continue;
    }
    if (s.substr(i, 4) == "<!--") {
      const std::size_t end = s.find("-->", i);
      if (end == std::string_view::npos) return "unterminated comment";
      i = end + 3;
      continue;
    }
    if (i + 1 < s.size() && s[i + 1] == '/') {  // end tag
      std::size_t j = i + 2;
      while (j < s.size() && is_name_char(s[j])) ++j;
      const std::string name(s.substr(i + 2, j - i - 2));
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size() || s[j] != '>') return "bad end tag </" + name;
      if (stack.empty() || stack.back() != name)
        return "end tag </" + name + "> does not match <" + (stack.empty() ? "" : stack.back()) +
               ">";
      stack.pop_back();
      i = j + 1;
      continue;
    }
    // start tag
    std::size_t j = i + 1;
    while (j < s.size() && is_name_char(s[j])) ++j;
    const std::string name(s.substr(i + 1, j - i - 1));
    if (name.empty()) return "raw '<' at " + std::to_string(i);
    std::set<std::string> attrs;
    bool self_closing = false;
    while (true) {
      while (j < s.size() && std::isspace(static_cast<unsigned char>(s[j]))) ++j;
      if (j >= s.size()) return "unterminated tag <" + name;
      if (s[j] == '>') break;
      if (s.substr(j, 2) == "/>") {
        self_closing = true;
        ++j;
        break;
      }
      std::size_t k = j;
      while (k < s.size() && is_name_char(s[k])) ++k;
      const std::string attr(s.substr(j, k - j));
      if (attr.empty()) return "bad attribute in <" + name + "> at " + std::to_string(j);
      if (!attrs.insert(attr).second) return "duplicate attribute " + attr + " in <" + name + ">";
      if (k >= s.size() || s[k] != '=') return "attribute " + attr + " without value";
      ++k;
      if (k >= s.size() || (s[k] != '"' && s[k] != '\'')) return "unquoted attribute " + attr;
      const char q = s[k];
      std::size_t v = k + 1;
      for (; v < s.size() && s[v] != q; ++v) {
        if (s[v] == '<') return "raw '<' in attribute " + attr;
        if (s[v] == '&')
          if (auto e = check_entity(s, v); !e.empty()) return e + " in attribute " + attr;
      }
      if (v >= s.size()) return "unterminated attribute " + attr;
      j = v + 1;
    }
    if (stack.empty()) ++roots;
    if (!self_closing) stack.push_back(name);
    i = j + 1;
  }
  if (!stack.empty()) return "unclosed element <" + stack.back() + ">";
  if (roots != 1) return "expected one root element, found " + std::to_string(roots);
  return "";
}

// Every "<svg ...>...</svg>" substring of an HTML page.
inline std::vector<std::string> extract_svgs(const std::string& html) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while ((pos = html.find("<svg", pos)) != std::string::npos) {
    const std::size_t end = html.find("</svg>", pos);
    if (end == std::string::npos) break;
    out.push_back(html.substr(pos, end + 6 - pos));
    pos = end + 6;
  }
  return out;
}

}  // namespace tutti::testing
