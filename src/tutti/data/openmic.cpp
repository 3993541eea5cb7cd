#include "tutti/data/openmic.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/progress.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/csv.h"
#include "tutti/data/npz.h"

namespace tutti::data {

namespace fs = std::filesystem;

namespace {

// Keys of a partition file with the line each came from.
std::vector<std::pair<std::string, std::int64_t>> read_keys_with_lines(const fs::path& path) {
  const std::string what = path.string();
  std::vector<std::pair<std::string, std::int64_t>> out;
  std::unordered_map<std::string, std::int64_t> seen;
  for (auto& row : read_csv(path)) {
    check(row.fields.size() == 1, "{}:{}: expected one sample key per line, found {} fields", what,
          row.line, row.fields.size());
    std::string& key = row.fields[0];
    check(!key.empty(), "{}:{}: empty sample key", what, row.line);
    auto [it, fresh] = seen.emplace(key, row.line);
    check(fresh, "{}:{}: sample key '{}' repeats line {}", what, row.line, key, it->second);
    out.emplace_back(std::move(key), row.line);
  }
  return out;
}

bool parse_double(const std::string& s, double& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

bool parse_int(const std::string& s, std::int64_t& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end;
}

std::string key_prefix(const std::string& key) {
  return key.substr(0, std::min<std::size_t>(3, key.size()));
}

}  // namespace

std::vector<std::string> openmic_classes() {
  return {"accordion", "banjo",   "bass",    "cello",     "clarinet",
          "cymbals",   "drums",   "flute",   "guitar",    "mallet_percussion",
          "mandolin",  "organ",   "piano",   "saxophone", "synthesizer",
          "trombone",  "trumpet", "ukulele", "violin",    "voice"};
}

std::vector<std::string> read_class_map(const fs::path& path) {
  const std::string what = path.string();
  const core::Json j = core::read_json_file(path);
  check(j.is_object() && !j.empty(), "{}: expected a JSON object {{\"class\": index, ...}}", what);
  std::vector<std::string> names(j.size());
  for (const auto& [name, v] : j.items()) {
    check(v.is_number_integer(), "{}: index of class '{}' is not an integer", what, name);
    const auto idx = v.get<std::int64_t>();
    check(idx >= 0 && idx < static_cast<std::int64_t>(names.size()),
          "{}: class '{}' has index {}, expected 0..{}", what, name, idx, names.size() - 1);
    auto& slot = names[static_cast<std::size_t>(idx)];
    check(slot.empty(), "{}: index {} is used by both '{}' and '{}'", what, idx, slot, name);
    check(!name.empty(), "{}: empty class name", what);
    slot = name;
  }
  return names;
}

std::vector<std::string> read_key_list(const fs::path& path) {
  std::vector<std::string> keys;
  for (auto& [key, line] : read_keys_with_lines(path)) keys.push_back(std::move(key));
  return keys;
}

BagDataset read_openmic_release(const fs::path& root, const std::string& split,
                                const std::string& partition) {
  if (split != "all" && split != "train" && split != "test")
    fail<UsageError>("openmic: unknown split '{}' (expected train, test or all)", split);
  const fs::path npz = root / "openmic-2018.npz";
  const fs::path class_map = root / "class-map.json";
  const bool have_map = fs::exists(class_map);
  const auto classes = have_map ? read_class_map(class_map) : openmic_classes();
  BagDataset ds = load_bags(npz, classes);
  ds.embedder = "vggish";  // the released OpenMIC-2018 VGGish features
  check(ds.classes == classes, "{}: its classes differ from those of {}", npz.string(),
        have_map ? class_map.string() : std::string("the OpenMIC-2018 class list"));
  std::unordered_map<std::string, std::int64_t> row_of;
  row_of.reserve(ds.keys.size());
  for (std::size_t i = 0; i < ds.keys.size(); ++i) {
    auto [it, fresh] = row_of.emplace(ds.keys[i], static_cast<std::int64_t>(i));
    check(fresh, "{}: sample key '{}' appears in rows {} and {}", npz.string(), ds.keys[i],
          it->second, i);
  }
  if (split == "all") return ds;

  const fs::path csv = root / "partitions" / (partition + "_" + split + ".csv");
  std::vector<std::int64_t> rows;
  for (const auto& [key, line] : read_keys_with_lines(csv)) {
    auto it = row_of.find(key);
    check(it != row_of.end(), "{}:{}: sample key '{}' is not in {}", csv.string(), line, key,
          npz.string());
    rows.push_back(it->second);
  }
  std::sort(rows.begin(), rows.end());  // keep the npz order
  return ds.subset(rows);
}

TrainValIndices read_train_val_indices(const fs::path& path, std::int64_t num_train_rows) {
  const std::string file = path.string();
  auto arrays = read_npz(path);
  TrainValIndices out;
  std::vector<std::uint8_t> owner(
      static_cast<std::size_t>(std::max<std::int64_t>(num_train_rows, 0)), 0);
  for (const char* name : {"train", "val"}) {
    auto it = arrays.find(name);
    check(it != arrays.end(), "{}: missing array '{}'", file, name);
    check(it->second.shape.size() == 1, "{}: array '{}' has shape {}, expected (n,)", file, name,
          it->second.shape_str());
    auto v = it->second.as_i64(fmt::format("{}: array '{}'", file, name));
    const std::uint8_t tag = name[0] == 't' ? 1 : 2;
    for (std::size_t i = 0; i < v.size(); ++i) {
      check(v[i] >= 0 && v[i] < num_train_rows,
            "{}: array '{}' holds index {} at position {}, outside [0, {})", file, name, v[i], i,
            num_train_rows);
      auto& o = owner[static_cast<std::size_t>(v[i])];
      check(o != tag, "{}: array '{}' repeats index {}", file, name, v[i]);
      check(o == 0, "{}: index {} is in both 'train' and 'val'", file, v[i]);
      o = tag;
    }
    (tag == 1 ? out.train : out.val) = std::move(v);
  }
  return out;
}

// --- per-clip ---------------------------------------------------------------------------------

VggishClip parse_vggish_json(std::string_view text, const std::string& what) {
  core::Json j;
  try {
    j = core::Json::parse(text.begin(), text.end());
  } catch (const core::Json::exception& e) {
    fail("{}: invalid JSON: {}", what, e.what());
  }
  check(j.is_object(), "{}: expected a JSON object with 'features' and 'time_points'", what);
  auto f = j.find("features");
  check(f != j.end() && f->is_array(), "{}: missing 'features' list", what);
  auto t = j.find("time_points");
  check(t != j.end() && t->is_array(), "{}: missing 'time_points' list", what);
  VggishClip clip;
  clip.frames = static_cast<std::int64_t>(f->size());
  for (std::size_t r = 0; r < f->size(); ++r) {
    const auto& row = (*f)[r];
    check(row.is_array(), "{}: features[{}] is not a list", what, r);
    if (r == 0) {
      clip.dim = static_cast<std::int64_t>(row.size());
      clip.features.reserve(f->size() * row.size());
    }
    check(static_cast<std::int64_t>(row.size()) == clip.dim,
          "{}: features[{}] has {} values, features[0] has {}", what, r, row.size(), clip.dim);
    for (std::size_t d = 0; d < row.size(); ++d) {
      const auto& v = row[d];
      const bool ok =
          (v.is_number_unsigned() && v.get<std::uint64_t>() <= 255) ||
          (v.is_number_integer() && v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= 255);
      check(ok, "{}: features[{}][{}] = {} is not an integer in [0, 255]", what, r, d, v.dump());
      clip.features.push_back(static_cast<std::uint8_t>(v.get<std::int64_t>()));
    }
  }
  check(t->size() == f->size(), "{}: {} time_points for {} feature rows", what, t->size(),
        f->size());
  for (std::size_t r = 0; r < t->size(); ++r) {
    check((*t)[r].is_number(), "{}: time_points[{}] is not a number", what, r);
    clip.time_points_s.push_back((*t)[r].get<double>());
  }
  return clip;
}

VggishClip read_vggish_json(const fs::path& path) {
  return parse_vggish_json(core::read_file_text(path), path.string());
}

fs::path openmic_vggish_path(const fs::path& root, const std::string& key) {
  return root / "vggish" / key_prefix(key) / (key + ".json");
}

fs::path openmic_audio_path(const fs::path& root, const std::string& key) {
  return root / "audio" / key_prefix(key) / (key + ".ogg");
}

std::vector<AggregatedLabel> parse_aggregated_labels(std::string_view text,
                                                     const std::string& what) {
  const auto rows = parse_csv(text, what);
  check(!rows.empty(), "{}: empty file (expected a header sample_key,instrument,relevance,...)",
        what);
  const auto& header = rows[0].fields;
  auto column = [&](const char* name) {
    auto it = std::find(header.begin(), header.end(), name);
    check(it != header.end(), "{}:{}: header has no '{}' column", what, rows[0].line, name);
    return static_cast<std::size_t>(it - header.begin());
  };
  const std::size_t c_key = column("sample_key"), c_inst = column("instrument"),
                    c_rel = column("relevance"), c_num = column("num_responses");
  std::vector<AggregatedLabel> out;
  out.reserve(rows.size() - 1);
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    check(row.fields.size() == header.size(), "{}:{}: {} fields, the header has {}", what, row.line,
          row.fields.size(), header.size());
    AggregatedLabel l;
    l.line = row.line;
    l.key = row.fields[c_key];
    l.instrument = row.fields[c_inst];
    check(!l.key.empty(), "{}:{}: empty sample_key", what, row.line);
    check(!l.instrument.empty(), "{}:{}: empty instrument", what, row.line);
    double rel = 0;
    check(parse_double(row.fields[c_rel], rel), "{}:{}: relevance '{}' is not a number", what,
          row.line, row.fields[c_rel]);
    check(std::isfinite(rel) && rel >= 0.0 && rel <= 1.0, "{}:{}: relevance {} is outside [0, 1]",
          what, row.line, row.fields[c_rel]);
    l.relevance = static_cast<float>(rel);
    check(parse_int(row.fields[c_num], l.num_responses) && l.num_responses >= 0,
          "{}:{}: num_responses '{}' is not a non-negative integer", what, row.line,
          row.fields[c_num]);
    out.push_back(std::move(l));
  }
  return out;
}

std::vector<AggregatedLabel> read_aggregated_labels(const fs::path& path) {
  return parse_aggregated_labels(core::read_file_text(path), path.string());
}

BagDataset read_openmic_clips(const fs::path& root, std::int64_t max_instances, ClipCuts* cuts) {
  check<UsageError>(max_instances >= 0,
                    "openmic: max instances must be >= 0 (0 = keep every frame), got {}",
                    max_instances);
  const fs::path csv = root / "openmic-2018-aggregated-labels.csv";
  const std::string csv_name = csv.string();
  const auto labels = read_aggregated_labels(csv);
  const fs::path class_map = root / "class-map.json";
  const bool have_map = fs::exists(class_map);
  std::vector<std::string> classes;
  if (have_map) {
    classes = read_class_map(class_map);
  } else {
    std::set<std::string> seen;
    for (const auto& l : labels) seen.insert(l.instrument);
    classes.assign(seen.begin(), seen.end());
  }
  std::unordered_map<std::string, std::int64_t> class_of;
  for (std::size_t c = 0; c < classes.size(); ++c)
    class_of[classes[c]] = static_cast<std::int64_t>(c);

  // One row per labeled key, sorted (np.unique order, as the release's helper script did).
  std::map<std::string, std::int64_t> first_line;
  for (const auto& l : labels) first_line.emplace(l.key, l.line);
  std::vector<std::string> keys;
  for (const auto& [k, line] : first_line) keys.push_back(k);

  std::vector<VggishClip> clips;
  clips.reserve(keys.size());
  std::int64_t max_frames = 0, dim = -1;
  {
    core::Progress progress("reading VGGish JSON", static_cast<std::int64_t>(keys.size()));
    std::string first_file;
    for (const auto& key : keys) {
      const fs::path p = openmic_vggish_path(root, key);
      check(fs::exists(p), "{}:{}: sample key '{}' has no VGGish file {}", csv_name,
            first_line[key], key, p.string());
      clips.push_back(read_vggish_json(p));
      auto& clip = clips.back();
      if (max_instances > 0 && clip.frames > max_instances) {
        if (cuts) cuts->add(p.string(), key, clip.frames);
        clip.frames = max_instances;
        clip.time_points_s.resize(static_cast<std::size_t>(max_instances));
        clip.features.resize(static_cast<std::size_t>(max_instances * clip.dim));
      }
      if (clip.frames > 0) {
        if (dim < 0) {
          dim = clip.dim;
          first_file = p.string();
        }
        check(clip.dim == dim, "{}: features have dimension {}, but {} has {}", p.string(),
              clip.dim, first_file, dim);
      }
      max_frames = std::max(max_frames, clip.frames);
      progress.advance();
    }
  }
  if (dim < 0) dim = 0;

  const auto n = static_cast<std::int64_t>(keys.size());
  BagDataset ds = BagDataset::zeros(n, max_frames, dim, classes, FeatureType::kUint8);
  ds.embedder = "vggish";  // the per-clip VGGish features of the release
  ds.keys = keys;
  std::fill(ds.y_true.begin(), ds.y_true.end(), 0.5f);
  const auto kd = static_cast<std::size_t>(max_frames * dim);
  for (std::size_t i = 0; i < clips.size(); ++i) {
    std::copy(clips[i].features.begin(), clips[i].features.end(), ds.x_u8.begin() + i * kd);
    ds.n_instances[i] = static_cast<std::int32_t>(clips[i].frames);
  }
  std::unordered_map<std::string, std::int64_t> row_of;
  for (std::size_t i = 0; i < keys.size(); ++i) row_of[keys[i]] = static_cast<std::int64_t>(i);
  const auto c = static_cast<std::size_t>(ds.num_classes());
  std::unordered_map<std::string, std::int64_t> pair_line;
  for (const auto& l : labels) {
    auto it = class_of.find(l.instrument);
    check(it != class_of.end(), "{}:{}: unknown instrument '{}' (not in {})", csv_name, l.line,
          l.instrument, class_map.string());
    auto [p, fresh] = pair_line.emplace(l.key + '\n' + l.instrument, l.line);
    check(fresh, "{}:{}: ({}, {}) is labeled again (first on line {})", csv_name, l.line, l.key,
          l.instrument, p->second);
    const auto cell =
        static_cast<std::size_t>(row_of[l.key]) * c + static_cast<std::size_t>(it->second);
    ds.y_true[cell] = l.relevance;
    ds.y_mask[cell] = 1;
  }
  ds.validate(root.string());
  return ds;
}

// --- verify -----------------------------------------------------------------------------------

std::vector<ChecksumEntry> read_checksum_list(const fs::path& path) {
  const std::string what = path.string();
  const auto rows = read_csv(path);
  check(!rows.empty() && rows[0].fields.size() == 2 && rows[0].fields[1] == "md5",
        "{}:1: expected the header ',md5'", what);
  std::vector<ChecksumEntry> out;
  std::unordered_set<std::string> seen;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    check(row.fields.size() == 2, "{}:{}: expected '<key>,<md5>', found {} fields", what, row.line,
          row.fields.size());
    ChecksumEntry e{row.fields[0], row.fields[1]};
    check(!e.key.empty(), "{}:{}: empty key", what, row.line);
    std::transform(e.md5.begin(), e.md5.end(), e.md5.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    check(e.md5.size() == 32 &&
              std::all_of(e.md5.begin(), e.md5.end(),
                          [](char ch) { return std::isxdigit(static_cast<unsigned char>(ch)); }),
          "{}:{}: '{}' is not an md5 (32 hex digits)", what, row.line, row.fields[1]);
    check(seen.insert(e.key).second, "{}:{}: key '{}' is listed twice", what, row.line, e.key);
    out.push_back(std::move(e));
  }
  return out;
}

VerifyReport verify_openmic_release(const fs::path& root, const fs::path& checksum_csv,
                                    OpenmicFiles kind) {
  check(fs::is_directory(root), "{}: not a folder", root.string());
  const auto list = read_checksum_list(checksum_csv);
  VerifyReport rep;
  rep.listed = static_cast<std::int64_t>(list.size());
  std::unordered_set<std::string> listed;
  {
    core::Progress progress("verifying md5", rep.listed);
    for (const auto& e : list) {
      listed.insert(e.key);
      const fs::path p = kind == OpenmicFiles::kVggish ? openmic_vggish_path(root, e.key)
                                                       : openmic_audio_path(root, e.key);
      if (!fs::is_regular_file(p)) {
        rep.missing.push_back(e.key);
      } else {
        ++rep.checked;
        std::string md5 = core::md5_file_hex(p);
        if (md5 != e.md5) rep.mismatched.push_back({e.key, p, e.md5, std::move(md5)});
      }
      progress.advance();
    }
  }
  const fs::path dir = root / (kind == OpenmicFiles::kVggish ? "vggish" : "audio");
  const char* ext = kind == OpenmicFiles::kVggish ? ".json" : ".ogg";
  if (fs::is_directory(dir)) {
    for (const auto& entry : fs::recursive_directory_iterator(dir)) {
      if (!entry.is_regular_file() || entry.path().extension() != ext) continue;
      if (!listed.contains(entry.path().stem().string())) rep.unlisted.push_back(entry.path());
    }
    std::sort(rep.unlisted.begin(), rep.unlisted.end());
  }
  return rep;
}

}  // namespace tutti::data
