#include "tutti/infer/tag_output.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tutti/core/error.h"

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

std::string events_tsv(std::span<const FileTags> files, EventColumns columns) {
  const bool dcase = columns == EventColumns::kDcase;
  std::string out =
      dcase ? "filename\tonset\toffset\tevent_label\n" : "file\tinstrument\tonset_s\toffset_s\n";
  for (const auto& t : files)
    for (const auto& s : t.segments) {
      if (dcase)
        out += fmt::format("{}\t{:.3f}\t{:.3f}\t{}\n", field(t.file, '\t'), s.start_s, s.end_s,
                           field(s.instrument, '\t'));
      else
        out += fmt::format("{}\t{}\t{:.2f}\t{:.2f}\n", field(t.file, '\t'),
                           field(s.instrument, '\t'), s.start_s, s.end_s);
    }
  return out;
}

std::string sed_scores_tsv(const FileTags& t) {
  std::string out = "onset\toffset";
  for (const auto& c : t.classes) {
    out += '\t';
    out += field(c, '\t');
  }
  out += '\n';
  const std::int64_t n_cls = t.num_classes();
  for (std::int64_t i = 0; i < t.n_instances; ++i) {
    out += fmt::format("{}\t{}", t.instance_start_s(i), t.instance_start_s(i + 1));
    for (std::int64_t c = 0; c < n_cls; ++c) out += fmt::format("\t{}", t.frame_score(i, c));
    out += '\n';
  }
  return out;
}

namespace {
struct FormatName {
  TagFormat format;
  const char* name;
  const char* suffix;
};
constexpr FormatName kFormats[] = {{TagFormat::kTable, "table", ""},
                                   {TagFormat::kJson, "json", ".json"},
                                   {TagFormat::kJsonl, "jsonl", ".jsonl"},
                                   {TagFormat::kCsv, "csv", ".csv"},
                                   {TagFormat::kTsv, "tsv", ".tags.tsv"},
                                   {TagFormat::kSedScores, "sed-scores", ".tsv"},
                                   {TagFormat::kEvents, "events", ".events.tsv"}};
}  // namespace

const std::vector<std::string>& tag_format_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& f : kFormats) v.emplace_back(f.name);
    return v;
  }();
  return names;
}

TagFormat parse_tag_format(const std::string& name) {
  for (const auto& f : kFormats)
    if (name == f.name) return f.format;
  fail<UsageError>("tag: unknown format '{}' (known: {})", name,
                   fmt::join(tag_format_names(), ", "));
}

std::string tag_format_suffix(TagFormat format) {
  check<UsageError>(format != TagFormat::kTable,
                    "tag: the table format has no per-file output; choose another --format");
  for (const auto& f : kFormats)
    if (format == f.format) return f.suffix;
  return "";
}

std::filesystem::path per_file_output(const std::filesystem::path& dir, const std::string& key,
                                      TagFormat format) {
  std::filesystem::path rel;
  for (const auto& part : std::filesystem::path(key).relative_path())
    rel /= part == ".." ? std::filesystem::path("_") : part;
  check<UsageError>(!rel.empty() && rel.has_filename(), "tag: input '{}' has no file name", key);
  rel.replace_extension();
  rel += tag_format_suffix(format);
  return dir / rel;
}

std::string format_tags(TagFormat f, const std::string& model_name, const std::string& embedder,
                        std::span<const FileTags> files, std::span<const TagFailure> failures) {
  switch (f) {
    case TagFormat::kJson:
      return tags_json(model_name, embedder, files, failures).dump(2) + "\n";
    case TagFormat::kJsonl: {
      std::string out;
      for (const auto& t : files) out += t.to_json().dump() + "\n";
      return out;
    }
    case TagFormat::kCsv:
      return tags_table(files, ',');
    case TagFormat::kTsv:
      return tags_table(files, '\t');
    case TagFormat::kSedScores:
      check<UsageError>(files.size() == 1,
                        "tag: sed-scores is one table per file: use --out-dir for {} files",
                        files.size());
      return sed_scores_tsv(files.front());
    case TagFormat::kEvents:
      return events_tsv(files, EventColumns::kDcase);
    case TagFormat::kTable:
      break;
  }
  fail<UsageError>("tag: the table format is printed by the command line, not formatted here");
}

}  // namespace tutti::infer
