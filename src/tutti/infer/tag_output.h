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

#include <span>
#include <string>

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

// The segments as a tab-separated event list with the header file, instrument, onset_s, offset_s
// (the columns `tutti localize` reads as ground truth), sorted as segments_from_timeline sorts.
std::string events_tsv(std::span<const FileTags> files);

}  // namespace tutti::infer
