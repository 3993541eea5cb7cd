#include "tutti/embed/embed_files.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include "tutti/core/error.h"
#include "tutti/core/text.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/csv.h"

namespace tutti::embed {

namespace fs = std::filesystem;

const std::vector<std::string>& audio_extensions() {
  static const std::vector<std::string> kExt = {".wav",  ".flac", ".ogg", ".oga", ".opus",
                                                ".mp3",  ".m4a",  ".aac", ".aif", ".aiff",
                                                ".aifc", ".wma",  ".caf", ".w64", ".mp4"};
  return kExt;
}

// ---- one file -----------------------------------------------------------------------------------

namespace {

// Thrown inside the front end's callback to unwind it when the network side has stopped.
struct Stopped {};

}  // namespace

// Two stages: a front-end thread decodes, resamples and computes the log-mel examples of the next
// batch while the calling thread runs the embedder on the previous one, so that one long file
// keeps a second core busy. The queue holds at most kQueued full batches: memory stays bounded
// whatever the file's length.
features::FileExamples embed_file_batches(const Embedder& embedder, const fs::path& path,
                                          std::size_t batch_size, const BatchCallback& on_batch,
                                          const features::ReadWindow& window) {
  check<UsageError>(batch_size >= 1, "embed: batch size must be >= 1, got {}", batch_size);
  constexpr std::size_t kQueued = 2;
  const features::LogMelConfig cfg;
  const std::size_t ex_size = cfg.example_size();

  std::mutex mu;
  std::condition_variable changed;
  std::deque<std::vector<float>> full;  // batches of examples ready for the embedder
  bool produced = false;                // the front end has finished (or failed)
  bool stop = false;                    // the embedder side has failed: the front end stops
  std::exception_ptr front_error;
  features::FileExamples summary;

  auto push = [&](std::vector<float>&& batch) {
    std::unique_lock lock(mu);
    changed.wait(lock, [&] { return full.size() < kQueued || stop; });
    if (stop) throw Stopped{};
    full.push_back(std::move(batch));
    changed.notify_all();
  };
  std::thread front([&] {
    try {
      std::vector<float> batch;
      batch.reserve(batch_size * ex_size);
      summary = features::for_each_example_in_file(
          path, cfg,
          [&](std::size_t, std::span<const float> ex) {
            batch.insert(batch.end(), ex.begin(), ex.end());
            if (batch.size() == batch_size * ex_size) {
              push(std::move(batch));
              batch = {};
              batch.reserve(batch_size * ex_size);
            }
          },
          window);
      if (!batch.empty()) push(std::move(batch));
    } catch (const Stopped&) {
    } catch (...) {
      front_error = std::current_exception();
    }
    std::lock_guard lock(mu);
    produced = true;
    changed.notify_all();
  });

  std::size_t first = 0;
  try {
    for (;;) {
      std::vector<float> batch;
      {
        std::unique_lock lock(mu);
        changed.wait(lock, [&] { return !full.empty() || produced; });
        if (full.empty()) break;
        batch = std::move(full.front());
        full.pop_front();
        changed.notify_all();
      }
      const std::size_t count = batch.size() / ex_size;
      const auto f = embedder.embed(batch, count);
      on_batch(first, count, f);
      first += count;
    }
  } catch (...) {
    {
      std::lock_guard lock(mu);
      stop = true;
      changed.notify_all();
    }
    front.join();
    throw;
  }
  front.join();
  if (front_error) std::rethrow_exception(front_error);
  return summary;
}

FileEmbedding embed_file(const Embedder& embedder, const fs::path& path, std::int64_t max_instances,
                         std::size_t batch_size, const features::ReadWindow& window) {
  FileEmbedding out;
  out.dim = embedder.info().dim;
  const std::size_t d = static_cast<std::size_t>(out.dim);
  const std::size_t cap =
      max_instances > 0 ? static_cast<std::size_t>(max_instances) : static_cast<std::size_t>(-1);
  const auto summary = embed_file_batches(
      embedder, path, batch_size,
      [&](std::size_t first, std::size_t count, std::span<const std::uint8_t> f) {
        if (first >= cap) return;
        const std::size_t keep = std::min(count, cap - first);
        out.features.insert(out.features.end(), f.begin(), f.begin() + keep * d);
      },
      window);
  out.total_examples = summary.count;
  out.count = out.features.size() / d;
  out.duration_s = summary.duration_s();
  out.bad_frames = summary.bad_frames;
  out.padded = summary.padded;
  return out;
}

// ---- many files ---------------------------------------------------------------------------------

namespace {

bool is_audio_name(const fs::path& p) {
  const auto& ext = audio_extensions();
  return std::find(ext.begin(), ext.end(), core::ascii_lower(p.extension().string())) != ext.end();
}

}  // namespace

std::vector<InputFile> collect_audio_files(std::span<const fs::path> inputs) {
  std::vector<InputFile> out;
  std::map<std::string, std::string> seen;  // key -> path
  auto add = [&](const fs::path& path, std::string key) {
    auto [it, inserted] = seen.emplace(key, path.string());
    check<UsageError>(inserted,
                      "embed: two inputs give the same key '{}' ({} and {}); embed them in "
                      "separate runs or name the files directly",
                      key, it->second, path.string());
    out.push_back({path, std::move(key)});
  };
  for (const fs::path& in : inputs) {
    std::error_code ec;
    const auto st = fs::status(in, ec);
    check<UsageError>(fs::exists(st), "embed: {}: no such file or folder", in.string());
    if (!fs::is_directory(st)) {
      add(in, in.generic_string());
      continue;
    }
    std::vector<fs::path> found;
    for (auto it = fs::recursive_directory_iterator(
             in, fs::directory_options::follow_directory_symlink |
                     fs::directory_options::skip_permission_denied);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_regular_file(ec) && is_audio_name(it->path())) found.push_back(it->path());
    }
    check<UsageError>(!found.empty(), "embed: {}: folder holds no audio file ({})", in.string(),
                      fmt::join(audio_extensions(), " "));
    std::sort(found.begin(), found.end());
    for (const auto& p : found) add(p, p.lexically_relative(in).generic_string());
  }
  return out;
}

void EmbedOptions::validate() const {
  check<UsageError>(threads >= 0, "embed: threads must be >= 0 (0 = all cores), got {}", threads);
  check<UsageError>(max_instances >= 0, "embed: max instances must be >= 0 (0 = no bound), got {}",
                    max_instances);
  check<UsageError>(batch_size >= 1, "embed: batch size must be >= 1, got {}", batch_size);
  window.validate();
}

EmbedResult embed_files(std::span<const InputFile> files, const Embedder& embedder,
                        const EmbedOptions& options, const FileProgress& progress) {
  options.validate();
  check<UsageError>(!files.empty(), "embed: no input files");
  const std::size_t n = files.size();
  std::vector<std::optional<FileEmbedding>> done(n);
  // A file that fails is recorded with its message and the others go on.
  const auto errors = core::parallel_for_each(
      n, options.threads,
      [&](std::size_t i) {
        done[i] = embed_file(embedder, files[i].path, options.max_instances, options.batch_size,
                             options.window);
        if (options.on_audio) options.on_audio(done[i]->duration_s);
      },
      progress);

  EmbedResult r;
  std::int64_t k = 1;  // at least one slot, so a dataset of short files is still valid
  for (std::size_t i = 0; i < n; ++i)
    if (done[i]) k = std::max<std::int64_t>(k, static_cast<std::int64_t>(done[i]->count));
  const std::int64_t d = embedder.info().dim;
  std::vector<std::size_t> good;
  for (std::size_t i = 0; i < n; ++i) {
    if (!done[i]) {
      r.failures.push_back({files[i].path.string(), errors[i]});
      continue;
    }
    good.push_back(i);
    const auto& f = *done[i];
    if (f.bad_frames > 0)
      r.warnings.push_back(fmt::format("{}: {} damaged audio frames were skipped",
                                       files[i].path.string(), f.bad_frames));
    if (f.padded)
      r.warnings.push_back(fmt::format(
          "{}: {:.3f} s of audio is shorter than one 0.96 s example: padded with silence to one",
          files[i].path.string(), f.duration_s));
    else if (f.total_examples == 0)
      r.warnings.push_back(fmt::format(
          "{}: {:.3f} s of audio is shorter than one 0.96 s example: kept with 0 instances",
          files[i].path.string(), f.duration_s));
    else if (f.count < f.total_examples)
      r.warnings.push_back(fmt::format("{}: {} instances ({:.1f} s), kept the first {}",
                                       files[i].path.string(), f.total_examples, f.duration_s,
                                       f.count));
  }
  data::BagDataset& ds = r.dataset;
  ds = data::BagDataset::zeros(static_cast<std::int64_t>(good.size()), k, d, {},
                               data::FeatureType::kUint8);
  ds.embedder = embedder.info().name;
  const std::size_t row = static_cast<std::size_t>(k * d);
  for (std::size_t j = 0; j < good.size(); ++j) {
    const auto& f = *done[good[j]];
    std::copy(f.features.begin(), f.features.end(), ds.x_u8.begin() + j * row);
    ds.n_instances[j] = static_cast<std::int32_t>(f.count);
    ds.keys[j] = files[good[j]].key;
    r.paths.push_back(files[good[j]].path);
    r.durations_s.push_back(f.duration_s);
  }
  return r;
}

EmbedResult embed_paths(std::span<const fs::path> inputs, const Embedder& embedder,
                        const EmbedOptions& options, const FileProgress& progress) {
  const auto files = collect_audio_files(inputs);
  return embed_files(files, embedder, options, progress);
}

// ---- labels -------------------------------------------------------------------------------------

namespace {

struct Table {
  std::string what;
  std::vector<data::CsvRow> rows;  // data rows
  std::map<std::string, std::size_t> col;
};

Table read_table(const fs::path& csv, std::span<const char* const> required,
                 std::span<const char* const> optional) {
  Table t;
  t.what = csv.string();
  std::error_code ec;
  check(fs::is_regular_file(csv, ec), "{}: no such file", t.what);
  auto rows = data::read_csv(csv);
  check(!rows.empty(), "{}: the file is empty (expected a header: {})", t.what,
        fmt::join(required, ","));
  const auto& header = rows.front();
  for (std::size_t j = 0; j < header.fields.size(); ++j) {
    const std::string& name = header.fields[j];
    const bool known = std::find_if(required.begin(), required.end(),
                                    [&](const char* s) { return name == s; }) != required.end() ||
                       std::find_if(optional.begin(), optional.end(),
                                    [&](const char* s) { return name == s; }) != optional.end();
    check(known, "{}:{}: unknown column '{}' (expected {}{}{})", t.what, header.line, name,
          fmt::join(required, ","), optional.empty() ? "" : ", optionally ",
          fmt::join(optional, ","));
    check(t.col.emplace(name, j).second, "{}:{}: column '{}' appears twice", t.what, header.line,
          name);
  }
  for (const char* r : required)
    check(t.col.count(r) != 0, "{}:{}: missing column '{}' (header: {})", t.what, header.line, r,
          fmt::join(header.fields, ","));
  for (std::size_t i = 1; i < rows.size(); ++i) {
    check(rows[i].fields.size() == header.fields.size(), "{}:{}: {} fields, the header has {}",
          t.what, rows[i].line, rows[i].fields.size(), header.fields.size());
    t.rows.push_back(std::move(rows[i]));
  }
  return t;
}

const std::string& field(const Table& t, const data::CsvRow& row, const char* name) {
  return row.fields[t.col.at(name)];
}

fs::path canonical_or_self(const fs::path& p) {
  std::error_code ec;
  auto c = fs::weakly_canonical(p, ec);
  return ec ? p.lexically_normal() : c;
}

// Maps the distinct `file` values of a CSV to clip indices (see attach_weak_labels for the levels).
class FileMatcher {
 public:
  FileMatcher(const data::BagDataset& ds, std::span<const fs::path> paths, fs::path csv_dir,
              std::string what)
      : ds_(ds), csv_dir_(std::move(csv_dir)), what_(std::move(what)) {
    const std::size_t n = static_cast<std::size_t>(ds.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (i < paths.size() && !paths.empty())
        by_path_[canonical_or_self(paths[i]).string()].push_back(i);
      const fs::path key = ds.keys[i];
      by_key_[ds.keys[i]].push_back(i);
      const fs::path name = i < paths.size() ? paths[i].filename() : key.filename();
      by_name_[name.string()].push_back(i);
      by_stem_[name.stem().string()].push_back(i);
    }
  }

  // Clips of the CSV value `file`.
  std::vector<std::size_t> clips_of(const std::string& file) {
    if (auto it = cache_.find(file); it != cache_.end()) return it->second;
    std::vector<std::size_t> r;
    const fs::path f(file);
    auto take = [&](const std::map<std::string, std::vector<std::size_t>>& m,
                    const std::string& k) {
      if (!r.empty()) return;
      if (auto it = m.find(k); it != m.end()) r = it->second;
    };
    if (!by_path_.empty()) take(by_path_, canonical_or_self(csv_dir_ / f).string());
    take(by_key_, file);
    take(by_name_, f.filename().string());
    take(by_stem_, f.filename().stem().string());
    cache_[file] = r;
    return r;
  }

  // After all rows: checks that no clip was claimed by two different `file` values.
  void claim(std::size_t clip, const std::string& file, std::int64_t line) {
    auto [it, inserted] = owner_.emplace(clip, file);
    check(inserted || it->second == file,
          "{}:{}: '{}' and '{}' both match the clip {} (name the files by their path relative to "
          "the CSV's folder)",
          what_, line, it->second, file, ds_.keys[clip]);
  }

 private:
  const data::BagDataset& ds_;
  fs::path csv_dir_;
  std::string what_;
  std::map<std::string, std::vector<std::size_t>> by_path_, by_key_, by_name_, by_stem_;
  std::map<std::string, std::vector<std::size_t>> cache_;
  std::map<std::size_t, std::string> owner_;
};

}  // namespace

LabelReport attach_weak_labels(data::BagDataset& ds, std::span<const fs::path> paths,
                               const fs::path& labels_csv,
                               const std::vector<std::string>& classes) {
  static constexpr const char* kRequired[] = {"file", "instrument", "relevance"};
  const Table t = read_table(labels_csv, kRequired, {});
  const std::string& what = t.what;

  for (const auto& row : t.rows) {
    check(!field(t, row, "file").empty(), "{}:{}: empty file name", what, row.line);
    check(!field(t, row, "instrument").empty(), "{}:{}: empty instrument", what, row.line);
  }
  std::vector<std::string> cls = classes;
  if (cls.empty()) {
    std::set<std::string> names;
    for (const auto& row : t.rows) names.insert(field(t, row, "instrument"));
    cls.assign(names.begin(), names.end());
  }
  std::map<std::string, std::size_t> class_index;
  for (std::size_t c = 0; c < cls.size(); ++c)
    check<UsageError>(class_index.emplace(cls[c], c).second, "labels: class '{}' is listed twice",
                      cls[c]);
  check(!cls.empty(), "{}: no label rows", what);

  const std::size_t n = static_cast<std::size_t>(ds.size()), c = cls.size();
  std::vector<float> y_true(n * c, 0.0f);
  std::vector<std::uint8_t> y_mask(n * c, 0);
  std::vector<std::uint8_t> has_row(n, 0);
  FileMatcher matcher(ds, paths, labels_csv.parent_path(), what);
  LabelReport rep;
  std::set<std::string> unmatched;
  for (const auto& row : t.rows) {
    const std::string& file = field(t, row, "file");
    const std::string& inst = field(t, row, "instrument");
    const std::string& rel = field(t, row, "relevance");
    check(!file.empty(), "{}:{}: empty file name", what, row.line);
    check(!inst.empty(), "{}:{}: empty instrument", what, row.line);
    const double v = data::parse_number_field(rel, what, row.line, "relevance");
    check(v >= 0.0 && v <= 1.0, "{}:{}: relevance {} is outside [0, 1]", what, row.line, rel);
    const auto ci = class_index.find(inst);
    check(ci != class_index.end(), "{}:{}: instrument '{}' is not one of the classes ({})", what,
          row.line, inst, fmt::join(cls, ", "));
    const auto clips = matcher.clips_of(file);
    if (clips.empty()) {
      ++rep.unmatched_rows;
      unmatched.insert(file);
      continue;
    }
    for (std::size_t i : clips) {
      matcher.claim(i, file, row.line);
      const std::size_t at = i * c + ci->second;
      check(!y_mask[at] || y_true[at] == static_cast<float>(v),
            "{}:{}: '{}' has two relevances for '{}' ({} and {})", what, row.line, file, inst,
            y_true[at], rel);
      y_true[at] = static_cast<float>(v);
      y_mask[at] = 1;
      has_row[i] = 1;
    }
  }
  for (std::size_t i = 0; i < n; ++i)
    if (!has_row[i]) rep.unlabeled.push_back(ds.keys[i]);
  for (const auto& f : unmatched) {
    if (rep.unmatched_files.size() == 20) break;
    rep.unmatched_files.push_back(f);
  }
  // Instance truth is per class: it no longer fits once the classes change.
  if (ds.classes != cls) ds.y_instance.clear();
  ds.classes = std::move(cls);
  ds.y_true = std::move(y_true);
  ds.y_mask = std::move(y_mask);
  return rep;
}

LabelReport attach_weak_labels(EmbedResult& r, const fs::path& labels_csv,
                               const std::vector<std::string>& classes, bool note_unmatched) {
  LabelReport rep = attach_weak_labels(r.dataset, r.paths, labels_csv, classes);
  const std::string what = labels_csv.string();
  if (!rep.unlabeled.empty())
    r.warnings.push_back(fmt::format(
        "{}: {} of {} files have no label row (all their labels unknown): {}{}", what,
        rep.unlabeled.size(), r.dataset.size(),
        fmt::join(rep.unlabeled.begin(),
                  rep.unlabeled.begin() + std::min<std::size_t>(rep.unlabeled.size(), 5), ", "),
        rep.unlabeled.size() > 5 ? ", ..." : ""));
  if (note_unmatched && rep.unmatched_rows > 0)
    r.warnings.push_back(fmt::format(
        "{}: {} label rows name files that were not embedded: {}{}", what, rep.unmatched_rows,
        fmt::join(
            rep.unmatched_files.begin(),
            rep.unmatched_files.begin() + std::min<std::size_t>(rep.unmatched_files.size(), 5),
            ", "),
        rep.unmatched_files.size() > 5 ? ", ..." : ""));
  return rep;
}

InstanceTruthReport attach_instance_truth(data::BagDataset& ds, const fs::path& instances_csv,
                                          std::span<const fs::path> paths) {
  static constexpr const char* kRequired[] = {"file", "instance", "instrument"};
  static constexpr const char* kOptional[] = {"onset_s", "offset_s"};
  const Table t = read_table(instances_csv, kRequired, kOptional);
  const std::string& what = t.what;

  if (ds.classes.empty()) {
    std::set<std::string> names;
    for (const auto& row : t.rows) names.insert(field(t, row, "instrument"));
    ds.classes.assign(names.begin(), names.end());
    const std::size_t nc = static_cast<std::size_t>(ds.size()) * ds.classes.size();
    ds.y_true.assign(nc, 0.0f);
    ds.y_mask.assign(nc, 0);
  }
  std::map<std::string, std::size_t> class_index;
  for (std::size_t c = 0; c < ds.classes.size(); ++c) class_index.emplace(ds.classes[c], c);
  const std::size_t c = ds.classes.size(), k = static_cast<std::size_t>(ds.max_instances);
  std::vector<std::uint8_t> yi(static_cast<std::size_t>(ds.size()) * k * c, 0);
  FileMatcher matcher(ds, paths, instances_csv.parent_path(), what);
  InstanceTruthReport rep;
  for (const auto& row : t.rows) {
    ++rep.rows;
    const std::string& file = field(t, row, "file");
    const std::string& inst = field(t, row, "instance");
    const std::string& name = field(t, row, "instrument");
    check(!file.empty(), "{}:{}: empty file name", what, row.line);
    const double v = data::parse_number_field(inst, what, row.line, "instance");
    check(v >= 0 && v == std::floor(v) && v < 1e9,
          "{}:{}: instance '{}' is not a non-negative integer", what, row.line, inst);
    const auto ci = class_index.find(name);
    check(ci != class_index.end(), "{}:{}: instrument '{}' is not one of the classes ({})", what,
          row.line, name, fmt::join(ds.classes, ", "));
    const auto clips = matcher.clips_of(file);
    if (clips.empty()) {
      ++rep.unmatched_rows;
      continue;
    }
    const auto ti = static_cast<std::size_t>(v);
    for (std::size_t i : clips) {
      matcher.claim(i, file, row.line);
      if (ti >= static_cast<std::size_t>(ds.n_instances[i])) {
        ++rep.dropped_beyond_clip;
        continue;
      }
      std::uint8_t& cell = yi[(i * k + ti) * c + ci->second];
      if (!cell) ++rep.set;
      cell = 1;
    }
  }
  ds.y_instance = std::move(yi);
  return rep;
}

}  // namespace tutti::embed
