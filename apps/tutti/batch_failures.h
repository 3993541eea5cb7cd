// How verbs that process many input files one by one (tag, embed) report the files that failed.
// Every error is one line `tutti: error: ...` naming the file:
// - some files worked: one line `tutti: failed: <message>` per failed file
//   (print_partial_failures), then the verb's summary error ("tag: 2 of 40 inputs failed");
// - no file worked: only the error, which is the failure itself when there was one file
//   (all_failed_error), so a single bad file reads like any other error.
// The exit status is then 1 (docs/embed.md, "Batches"). `--failures FILE` writes the failed
// paths, one per line, atomically (write_failures_file): a list `--files-from` takes for a retry.
// `--files-from LIST` adds one path per line (`-` = stdin); a listed path that does not exist is a
// failure of the batch, not an error of the command (read_files_from).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/shards.h"
#include "tutti/embed/embed_files.h"

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

// A path of --files-from that does not exist.
struct MissingInput {
  std::string file;
  std::string message;
};

// Appends the paths of `list` ("-" = stdin) to `existing` and the ones that do not exist to
// `missing`. Empty lines and lines starting with '#' are skipped; a trailing '\r' is dropped.
// Errors: tutti::Error when the list cannot be read.
inline void read_files_from(const std::string& list, std::vector<std::filesystem::path>& existing,
                            std::vector<MissingInput>& missing) {
  std::ifstream file;
  if (list != "-") {
    file.open(list);
    check(file.good(), "--files-from {}: cannot open the list", list);
  }
  std::istream& in = list == "-" ? std::cin : file;
  std::size_t line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.front() == '#') continue;
    std::error_code ec;
    if (std::filesystem::exists(line, ec))
      existing.emplace_back(line);
    else
      missing.push_back({line, fmt::format("{}: no such file (line {} of {})", line, line_no,
                                           list == "-" ? "stdin" : list)});
  }
  check(!in.bad(), "--files-from {}: read error", list);
}

// The failed paths, one per line, written atomically (nothing when `path` is empty). Written even
// when nothing failed, so that a stale list of an earlier run never survives.
template <typename Failure>
void write_failures_file(const std::string& path, const std::vector<Failure>& failures) {
  if (path.empty()) return;
  std::string text;
  for (const auto& f : failures) text += f.file + "\n";
  core::write_file_atomic(path, text);
}

// How many threads a network embedder splits each batch over (EmbedderOptions::parallel) when
// `file_threads` workers (0 = all cores) embed n_files files: the cores the file workers leave
// idle, so that one long file keeps every core busy and many files do not oversubscribe them.
inline int network_split(int file_threads, std::size_t n_files) {
  const unsigned cores = core::core_count();
  const auto workers =
      std::max<std::size_t>(1, std::min<std::size_t>(core::resolve_threads(file_threads),
                                                     std::max<std::size_t>(n_files, 1)));
  return std::max(1, static_cast<int>(cores / workers));
}

// Progress bar text: hours of audio done so far.
inline std::string audio_hours_status(double audio_s) {
  return fmt::format("{:.2f} h audio", audio_s / 3600.0);
}

// A distributed run's share of a batch: the files sorted by key, then this rank's contiguous
// slice of them (data::rank_slice), so that every rank's part is known from the list alone.
// Returns an MD5 of the whole sorted key list, which the ranks can compare.
inline std::string take_rank_slice(std::vector<embed::InputFile>& files, int rank, int world) {
  std::sort(files.begin(), files.end(),
            [](const embed::InputFile& a, const embed::InputFile& b) { return a.key < b.key; });
  std::string list;
  for (const auto& f : files) list += f.key + '\n';
  const auto [b, e] = data::rank_slice(files.size(), rank, world);
  files = std::vector<embed::InputFile>(files.begin() + static_cast<std::ptrdiff_t>(b),
                                        files.begin() + static_cast<std::ptrdiff_t>(e));
  return core::md5_hex(list);
}

// --failures FILE of rank R of a distributed run: FILE.rank-R (each rank lists its own).
inline std::string rank_failures_path(const std::string& path, int rank, bool distributed) {
  return distributed && !path.empty() ? fmt::format("{}.rank-{}", path, rank) : path;
}

}  // namespace tutti::cli
