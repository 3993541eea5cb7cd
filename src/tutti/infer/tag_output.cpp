#include "tutti/infer/tag_output.h"

#include <fmt/format.h>

namespace tutti::infer {
namespace {

std::string field(const std::string& s, char sep) {
  if (sep == ',') {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char ch : s) q += ch == '"' ? std::string("\"\"") : std::string(1, ch);
    return q + "\"";
  }
  std::string out = s;
  for (char& ch : out)
    if (ch == sep || ch == '\n' || ch == '\r') ch = ' ';
  return out;
}

}  // namespace

core::Json tags_json(const std::string& model_name, const std::string& embedder,
                     std::span<const FileTags> files, std::span<const TagFailure> failures) {
  core::Json j;
  j["model"] = model_name;
  j["embedder"] = embedder;
  core::Json by_file = core::Json::object();
  for (const auto& t : files) {
    core::Json f = t.to_json();
    f.erase("file");
    by_file[t.file] = std::move(f);
  }
  j["files"] = std::move(by_file);
  core::Json failed = core::Json::array();
  for (const auto& f : failures) failed.push_back({{"file", f.file}, {"error", f.message}});
  j["failures"] = std::move(failed);
  return j;
}

std::string segments_text(const FileTags& t, int c) {
  std::string s;
  for (const auto& seg : t.segments) {
    if (seg.class_index != c) continue;
    if (!s.empty()) s += ' ';
    s += fmt::format("{:.2f}-{:.2f}", seg.start_s, seg.end_s);
  }
  return s;
}

std::string tags_table(std::span<const FileTags> files, char sep) {
  std::string out =
      fmt::format("file{0}instrument{0}probability{0}threshold{0}present{0}segments\n", sep);
  for (const auto& t : files)
    for (std::size_t c = 0; c < t.classes.size(); ++c)
      out += fmt::format("{1}{0}{2}{0}{3:.6g}{0}{4:.6g}{0}{5}{0}{6}\n", sep, field(t.file, sep),
                         field(t.classes[c], sep), static_cast<double>(t.probability[c]),
                         static_cast<double>(t.thresholds[c]), t.present[c] ? 1 : 0,
                         segments_text(t, static_cast<int>(c)));
  return out;
}

std::string events_tsv(std::span<const FileTags> files) {
  std::string out = "file\tinstrument\tonset_s\toffset_s\n";
  for (const auto& t : files)
    for (const auto& s : t.segments)
      out += fmt::format("{}\t{}\t{:.2f}\t{:.2f}\n", field(t.file, '\t'), field(s.instrument, '\t'),
                         s.start_s, s.end_s);
  return out;
}

}  // namespace tutti::infer
