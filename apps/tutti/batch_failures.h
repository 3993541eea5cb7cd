// How verbs that process many input files one by one (tag, embed) report the files that failed.
// Every error is one line `tutti: error: ...` naming the file:
// - some files worked: one line `tutti: failed: <message>` per failed file
//   (print_partial_failures), then the verb's summary error ("tag: 2 of 40 inputs failed");
// - no file worked: only the error, which is the failure itself when there was one file
//   (all_failed_error), so a single bad file reads like any other error.
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

#include "tutti/core/error.h"

namespace tutti::cli {

// Failure: any struct with `std::string message` naming the file.
template <typename Failure>
void print_partial_failures(const std::vector<Failure>& failures, std::size_t succeeded) {
  if (succeeded == 0) return;  // then all_failed_error says it in one line
  for (const auto& f : failures) std::fprintf(stderr, "tutti: failed: %s\n", f.message.c_str());
}

// The one error for a batch where nothing worked (failures not empty).
template <typename Failure>
Error all_failed_error(const std::vector<Failure>& failures, const std::string& verb,
                       const std::string& noun) {
  if (failures.size() == 1) return Error(failures.front().message);
  return Error(fmt::format("{}: all {} {} failed; the first: {}", verb, failures.size(), noun,
                           failures.front().message));
}

}  // namespace tutti::cli
