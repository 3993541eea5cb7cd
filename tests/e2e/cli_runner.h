// Runs the real `tutti` program (TUTTI_CLI) and captures its exit code, stdout and stderr.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "test_util.h"

namespace tutti::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `tutti args...` with CI=1 (no progress bars); stdin is /dev/null, or the file `stdin_file`.
inline CliResult run_cli(const std::vector<std::string>& args,
                         const std::filesystem::path& stdin_file = "/dev/null") {
  TempDir io;
  std::string cmd = "CI=1 ";
  cmd += shell_quote(TUTTI_CLI);
  for (const auto& a : args) {
    cmd += ' ';
    cmd += shell_quote(a);
  }
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
  cmd += " <";
  cmd += shell_quote(stdin_file.string());
  cmd += " >";
  cmd += shell_quote((io / "out").string());
  cmd += " 2>";
  cmd += shell_quote((io / "err").string());
  const int status = std::system(cmd.c_str());
  CliResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = slurp(io / "out");
  r.err = slurp(io / "err");
  return r;
}

// Number of lines in s (a trailing newline does not start a new line).
inline int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  if (!s.empty() && s.back() != '\n') ++n;
  return n;
}

}  // namespace tutti::testing
