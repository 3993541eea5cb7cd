// What `tutti tag` and `tutti serve` print for tagged files, in one place so that both front doors
// give the same bytes: the JSON document of `tutti tag --json`, the per-instrument table as CSV
// (`--csv`) or TSV, and the segments as an event list.
//
//   const auto batch = tutti::infer::tag_files(tagger, inputs);
//   std::string j = tutti::infer::tags_json("att.tutti", tagger, batch).dump(2);
//   std::string t = tutti::infer::tags_table(batch.files, '\t');
//
// Torch-free.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/json.h"
#include "tutti/infer/tag.h"

namespace tutti::infer {

// {"model": model_name, "embedder", "files": {file: FileTags::to_json() without "file"},
//  "failures": [{"file", "error"}]}.
core::Json tags_json(const std::string& model_name, const std::string& embedder,
                     std::span<const FileTags> files, std::span<const TagFailure> failures);

// One row per (file, instrument): file, instrument, probability, threshold, present (1/0),
// segments ("start-end" in seconds with 2 decimals, space separated), after a header row.
// sep ',' quotes fields as RFC 4180; sep '\t' replaces tabs and line breaks inside a field by
// spaces (TSV has no quoting).
std::string tags_table(std::span<const FileTags> files, char sep);

// The segments of class c as "start-end start-end ..." (seconds, 2 decimals).
std::string segments_text(const FileTags& tags, int c);

// The segments as a tab-separated event list, sorted as segments_from_timeline sorts. kTutti:
// header file, instrument, onset_s, offset_s (the columns `tutti localize` reads as ground
// truth), 2 decimals. kDcase: header filename, onset, offset, event_label (what sed_eval,
// dcase_util and the DCASE baselines read), 3 decimals.
enum class EventColumns { kTutti, kDcase };
std::string events_tsv(std::span<const FileTags> files,
                       EventColumns columns = EventColumns::kTutti);

// Frame scores of one file as sed_scores_eval reads them (sed_scores_eval.io.read_sed_scores):
// header `onset offset <class...>` tab-separated, one row per instance t with onset
// start_s + t * hop_s, offset onset + hop_s and FileTags::frame_score(t, c) per class. Times and
// scores are printed as the shortest decimal that reads back to the same double / float.
std::string sed_scores_tsv(const FileTags& tags);

// The formats of `tutti tag --format`, with the file name suffix of each per-file output.
enum class TagFormat { kTable, kJson, kJsonl, kCsv, kTsv, kSedScores, kEvents };
// "table", "json", "jsonl", "csv", "tsv", "sed-scores", "events"; UsageError naming the others.
TagFormat parse_tag_format(const std::string& name);
const std::vector<std::string>& tag_format_names();
// ".json", ".jsonl", ".csv", ".tags.tsv", ".tsv" (sed_scores_eval takes the file stem as the
// audio id), ".events.tsv"; UsageError for kTable.
std::string tag_format_suffix(TagFormat f);
// Where `tutti tag --out-dir DIR` writes the output of the input keyed `key`: DIR / key with the
// audio extension replaced by the format's suffix (sub/a.flac -> DIR/sub/a.tsv). A root (an
// absolute key) is dropped and ".." components become "_", so that every output stays in DIR.
std::filesystem::path per_file_output(const std::filesystem::path& dir, const std::string& key,
                                      TagFormat format);
// The bytes of one format for files (kTable: UsageError; kJson: tags_json; kJsonl: one
// FileTags::to_json() per line; kSedScores: exactly one file).
std::string format_tags(TagFormat f, const std::string& model_name, const std::string& embedder,
                        std::span<const FileTags> files, std::span<const TagFailure> failures);

}  // namespace tutti::infer
