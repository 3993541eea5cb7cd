// Sound-event lists as the field writes them, read into eval::Event for segment_based_metrics:
// DCASE / sed_eval / dcase_util lists and `tutti tag --format events`, `tutti localize`'s strong
// labels and `tutti synth`'s strong.csv.
//
//   auto ref = tutti::eval::read_event_list("strong.tsv");
//   auto est = tutti::eval::read_event_list("events.tsv");
//   auto s = tutti::eval::segment_based_metrics(ref.events, est.events, {}, 1.0);
//
// Format:
// - Separator: tab when the first non-empty line holds a tab, else comma (RFC 4180, data/csv.h).
// - With a header (a first row naming an onset column): columns in any order, named
//   filename | file | audio_filename, onset | onset_s | event_onset, offset | offset_s |
//   event_offset, event_label | label | instrument | class; other columns are ignored.
// - Without one: 4 fields `filename onset offset event_label` (DCASE), or 3 fields
//   `onset offset event_label` (sed_eval's one-file annotation; the file is then "").
// - A row with the file name only (or empty onset, offset and label) is a file without events:
//   it is listed in `files` and adds no event. Lines starting with '#' and blank lines are
//   skipped.
// Errors: tutti::Error "<list>:<line>: ..." for a missing column, a row with another number of
// fields, an onset or offset that is not a finite number >= 0, offset < onset, an empty label,
// and under EventListOptions a label outside `labels` or a list without a header.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tutti/eval/localization.h"

namespace tutti::eval {

struct EventList {
  std::vector<Event> events;
  std::vector<std::string> files;  // every file named, in first-seen order
};

struct EventListOptions {
  // The labels a row may name (empty: any); another is an error naming the label column
  // ("<list>:<line>: instrument 'x' is not a class (a, b)").
  std::vector<std::string> labels;
  // Refuse an empty list and one without a header row: for files whose writer always writes a
  // header (`tutti synth`'s strong.csv), where a headerless file is the wrong file.
  bool require_header = false;
};

EventList read_event_list(const std::filesystem::path& path, const EventListOptions& options = {});
// The same from text (`what` names it in errors).
EventList parse_event_list(const std::string& text, const std::string& what,
                           const EventListOptions& options = {});

}  // namespace tutti::eval
