// Zip directory reference: PKWARE APPNOTE.TXT 6.3, sections 4.3.7 (local file header), 4.3.12
// (central directory header), 4.3.14-4.3.16 (zip64 end of central directory record, locator, end
// of central directory record) and 4.5.3 (zip64 extended information extra field).
#include "tutti/data/shards.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/random.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/merge.h"
#include "tutti/data/npz.h"

namespace fs = std::filesystem;

namespace tutti::data {

namespace {

std::uint64_t le(const std::uint8_t* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct Member {
  std::uint64_t offset = 0;  // of the entry's data in the file
  std::uint64_t size = 0;
};

// The stored entries of the zip held in [base, base + size), by name. Deflated entries are an
// error naming the file: a mapping can only serve bytes as they are.
std::map<std::string, Member> stored_members(const std::uint8_t* base, std::uint64_t size,
                                             const std::string& file) {
  auto bad = [&](const char* why) { fail("{}: not a readable zip archive ({})", file, why); };
  if (size < 22) bad("too short");
  // End of central directory: the last signature within the final 22 + 65535 bytes.
  std::uint64_t eocd = size - 22;
  const std::uint64_t lowest = size >= 22 + 65535 ? size - 22 - 65535 : 0;
  while (le(base + eocd, 4) != 0x06054b50) {
    if (eocd == lowest) bad("no end of central directory");
    --eocd;
  }
  std::uint64_t entries = le(base + eocd + 10, 2);
  std::uint64_t cd_size = le(base + eocd + 12, 4);
  std::uint64_t cd_offset = le(base + eocd + 16, 4);
  if (eocd >= 20 && le(base + eocd - 20, 4) == 0x07064b50) {  // zip64 locator
    const std::uint64_t z = le(base + eocd - 20 + 8, 8);
    if (z > size - 56 || le(base + z, 4) != 0x06064b50) bad("bad zip64 end record");
    entries = le(base + z + 32, 8);
    cd_size = le(base + z + 40, 8);
    cd_offset = le(base + z + 48, 8);
  }
  if (cd_offset > size || cd_size > size - cd_offset) bad("central directory beyond the file");
  std::map<std::string, Member> out;
  std::uint64_t p = cd_offset;
  for (std::uint64_t e = 0; e < entries; ++e) {
    if (p + 46 > cd_offset + cd_size || le(base + p, 4) != 0x02014b50) bad("bad directory entry");
    const auto method = le(base + p + 10, 2);
    std::uint64_t csize = le(base + p + 20, 4), usize = le(base + p + 24, 4);
    const auto name_len = le(base + p + 28, 2), extra_len = le(base + p + 30, 2),
               comment_len = le(base + p + 32, 2);
    std::uint64_t local = le(base + p + 42, 4);
    if (p + 46 + name_len + extra_len + comment_len > cd_offset + cd_size)
      bad("directory entry beyond the directory");
    const std::string name(reinterpret_cast<const char*>(base + p + 46), name_len);
    // The zip64 extra field holds, in this order, the fields whose 32-bit value is 0xFFFFFFFF.
    for (std::uint64_t x = p + 46 + name_len; x + 4 <= p + 46 + name_len + extra_len;) {
      const auto id = le(base + x, 2), len = le(base + x + 2, 2);
      if (x + 4 + len > p + 46 + name_len + extra_len) bad("bad extra field");
      if (id == 0x0001) {
        std::uint64_t at = x + 4;
        auto take = [&](std::uint64_t& v) {
          if (v != 0xFFFFFFFF) return;
          if (at + 8 > x + 4 + len) bad("short zip64 field");
          v = le(base + at, 8);
          at += 8;
        };
        take(usize);
        take(csize);
        take(local);
      }
      x += 4 + len;
    }
    p += 46 + name_len + extra_len + comment_len;
    if (local > size - 30 || le(base + local, 4) != 0x04034b50) bad("bad local header");
    const std::uint64_t data = local + 30 + le(base + local + 26, 2) + le(base + local + 28, 2);
    check(method == 0,
          "{}: entry '{}' is compressed; streamed shards need stored entries (write "
          "them with tutti or numpy.savez, not numpy.savez_compressed)",
          file, name);
    if (csize != usize || data > size || usize > size - data) bad("entry beyond the file");
    out[name] = {data, usize};
  }
  return out;
}

FeatureType feature_type_of(const std::string& descr, const std::string& what) {
  if (descr == "|u1") return FeatureType::kUint8;
  if (descr == "<f4") return FeatureType::kFloat32;
  fail("{}: has dtype '{}'; streamed shards need '|u1' or '<f4'", what, descr);
}

}  // namespace

// ---- shard list ---------------------------------------------------------------------------------

std::vector<fs::path> resolve_shards(const std::string& spec) {
  const fs::path p(spec);
  std::vector<fs::path> out;
  if (p.extension() == ".json") {
    check<UsageError>(fs::is_regular_file(p), "{}: no such manifest", spec);
    for (const auto& s : read_shard_manifest(p).shards) {
      const fs::path f = p.parent_path() / s.file;
      check<UsageError>(fs::is_regular_file(f), "{}: shard {} is missing", spec, f.string());
      out.push_back(f);
    }
    check<UsageError>(!out.empty(), "{}: the manifest lists no shard", spec);
    return out;
  }
  const std::string pattern = p.filename().string();
  if (pattern.find_first_of("*?") == std::string::npos) {
    check<UsageError>(fs::is_regular_file(p), "{}: no such file", spec);
    return {p};
  }
  const fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
  check<UsageError>(fs::is_directory(dir), "{}: no such folder {}", spec, dir.string());
  // '*' any run of characters, '?' one character (the shell's rules for one path component).
  auto matches = [&](const std::string& s) {
    std::size_t i = 0, j = 0, star = std::string::npos, mark = 0;
    while (i < s.size()) {
      if (j < pattern.size() && (pattern[j] == '?' || pattern[j] == s[i])) {
        ++i;
        ++j;
      } else if (j < pattern.size() && pattern[j] == '*') {
        star = j++;
        mark = i;
      } else if (star != std::string::npos) {
        j = star + 1;
        i = ++mark;
      } else {
        return false;
      }
    }
    while (j < pattern.size() && pattern[j] == '*') ++j;
    return j == pattern.size();
  };
  for (const auto& e : fs::directory_iterator(dir))
    if (e.is_regular_file() && matches(e.path().filename().string())) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  check<UsageError>(!out.empty(), "{}: no file matches", spec);
  return out;
}

// ---- one mapped shard ---------------------------------------------------------------------------

MappedShard::MappedShard(const fs::path& path) {
  const std::string file = path.string();
  header_.path = path;
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "{}: cannot open: {}", file, std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    fail("{}: cannot read (empty or unreadable file)", file);
  }
  map_bytes_ = static_cast<std::size_t>(st.st_size);
  header_.bytes = map_bytes_;
  map_ = ::mmap(nullptr, map_bytes_, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);  // the mapping keeps the file
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    fail("{}: cannot map: {}", file, std::strerror(errno));
  }
  const auto* base = static_cast<const std::uint8_t*>(map_);
  const auto members = stored_members(base, map_bytes_, file);
  auto find = [&](const std::string& name) -> const Member* {
    auto it = members.find(name + ".npy");
    return it == members.end() ? nullptr : &it->second;
  };
  auto view = [&](const std::string& name) {
    const Member* m = find(name);
    check(m != nullptr, "{}: missing array '{}'", file, name);
    return view_npy(base + m->offset, m->size, fmt::format("{}: array '{}'", file, name));
  };
  auto expect = [&](const NpyView& v, const std::string& name,
                    const std::vector<std::int64_t>& shape) {
    NpyArray a, b;
    a.shape = v.shape;
    b.shape = shape;
    check(v.shape == shape, "{}: array '{}' has shape {}, expected {}", file, name, a.shape_str(),
          b.shape_str());
  };
  const NpyView x = view("X");
  check(x.shape.size() == 3, "{}: array 'X' has {} dimensions, expected (N, K, D)", file,
        x.shape.size());
  header_.n = x.shape[0];
  header_.k = x.shape[1];
  header_.d = x.shape[2];
  header_.feature_type = feature_type_of(x.descr, file + ": array 'X'");
  if (header_.feature_type == FeatureType::kUint8)
    x_u8_ = x.data;
  else
    x_f32_ = reinterpret_cast<const float*>(x.data);  // numpy pads headers to 64 bytes: aligned
  const std::int64_t n = header_.n;
  // The item size of array `name` when its dtype is one of `dtypes` (a shard's arrays are read
  // as they are: no conversion of the payload).
  auto item_size = [&](const NpyView& v, const std::string& name,
                       std::initializer_list<const char*> dtypes) {
    for (const char* d : dtypes)
      if (v.descr == d) return static_cast<int>(NpyArray{v.descr, {}, {}}.itemsize());
    fail("{}: array '{}' has dtype '{}', expected '{}'", file, name, v.descr,
         fmt::join(dtypes, "' or '"));
  };
  const NpyView yt = view("Y_true");
  check(yt.shape.size() == 2 && yt.shape[0] == n,
        "{}: array 'Y_true' has a shape other than ({}, C)", file, n);
  c_ = yt.shape[1];
  y_true_ = yt.data;
  y_true_size_ = item_size(yt, "Y_true", {"<f4", "<f8"});
  const NpyView ym = view("Y_mask");
  expect(ym, "Y_mask", {n, c_});
  item_size(ym, "Y_mask", {"|b1", "|u1"});
  y_mask_ = ym.data;
  if (find("n_instances")) {
    const NpyView ni = view("n_instances");
    expect(ni, "n_instances", {n});
    n_inst_ = ni.data;
    n_inst_size_ = item_size(ni, "n_instances", {"<i4", "<i8"});
  }
  if (find("classes")) {
    const NpyView cl = view("classes");
    expect(cl, "classes", {c_});
    NpyArray a{cl.descr, cl.shape, std::vector<std::uint8_t>(cl.data, cl.data + cl.bytes)};
    header_.classes = a.as_strings(file + ": array 'classes'");
  } else {
    for (std::int64_t j = 0; j < c_; ++j) header_.classes.push_back(fmt::format("class_{}", j));
  }
  if (find("embedder")) {
    const NpyView e = view("embedder");
    NpyArray a{e.descr, e.shape, std::vector<std::uint8_t>(e.data, e.data + e.bytes)};
    const auto v = a.as_strings(file + ": array 'embedder'");
    header_.embedder = v.empty() ? "" : v.front();
  }
}

MappedShard::~MappedShard() {
  if (map_) {
    drop_pages();
    ::munmap(map_, map_bytes_);
  }
}

void MappedShard::drop_pages() const {
  if (map_) ::madvise(map_, map_bytes_, MADV_DONTNEED);
}

std::int32_t MappedShard::n_instances(std::int64_t i) const {
  if (n_inst_size_ == 0) return static_cast<std::int32_t>(header_.k);
  const auto v = static_cast<std::int64_t>(le(n_inst_ + i * n_inst_size_, n_inst_size_));
  check(v >= 0 && v <= header_.k, "{}: array 'n_instances' holds {} for clip {}, outside [0, {}]",
        header_.path.string(), v, i, header_.k);
  return static_cast<std::int32_t>(v);
}

float MappedShard::y_true(std::int64_t i, std::int64_t c) const {
  const std::uint8_t* p = y_true_ + (i * c_ + c) * y_true_size_;
  if (y_true_size_ == 4) {
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  double d;
  std::memcpy(&d, p, 8);
  return static_cast<float>(d);
}

// ---- the stream ---------------------------------------------------------------------------------

ShardStream::ShardStream(std::vector<fs::path> paths, int window_shards)
    : window_shards_(window_shards) {
  check<UsageError>(window_shards >= 1, "shards: window of {} shards; needs at least 1",
                    window_shards);
  check<UsageError>(!paths.empty(), "shards: no shard given");
  for (const auto& p : paths) shards_.push_back(MappedShard(p).header());
  const ShardHeader& first = shards_.front();
  std::int64_t k = 0;
  for (const auto& s : shards_) {
    const std::string f = s.path.string(), f0 = first.path.string();
    check(s.classes == first.classes,
          "{}: classes differ from {}'s ({} vs {} classes, or in "
          "names or order)",
          f, f0, s.classes.size(), first.classes.size());
    check(s.d == first.d, "{}: feature dimension D = {} differs from {}'s D = {}", f, s.d, f0,
          first.d);
    check(s.feature_type == first.feature_type, "{}: feature type ({}) differs from {}'s", f,
          s.feature_type == FeatureType::kUint8 ? "uint8" : "float32", f0);
    check(s.embedder == first.embedder, "{}: embedder '{}' differs from {}'s '{}'", f, s.embedder,
          f0, first.embedder);
    k = std::max(k, s.k);
  }
  like_ = BagDataset::zeros(0, k, first.d, first.classes, first.feature_type);
  like_.embedder = first.embedder;
}

std::int64_t ShardStream::clips() const {
  std::int64_t n = 0;
  for (const auto& s : shards_) n += s.n;
  return n;
}

std::vector<std::vector<std::size_t>> ShardStream::epoch_windows(std::uint64_t seed,
                                                                 int epoch) const {
  std::vector<std::size_t> ids(shards_.size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = i;
  std::mt19937_64 g(core::derive_seed(seed, static_cast<std::uint64_t>(epoch), kShardOrderStream));
  core::shuffle(ids.begin(), ids.end(), g);
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t s = 0; s < ids.size(); s += static_cast<std::size_t>(window_shards_))
    out.emplace_back(ids.begin() + static_cast<std::ptrdiff_t>(s),
                     ids.begin() + static_cast<std::ptrdiff_t>(std::min(
                                       ids.size(), s + static_cast<std::size_t>(window_shards_))));
  return out;
}

std::string ShardStream::digest() const {
  std::string s = fmt::format("window {}", window_shards_);
  for (const auto& h : shards_)
    s += fmt::format("; {} {} bytes {} clips", h.path.filename().string(), h.bytes, h.n);
  return s;
}

// ---- one window ---------------------------------------------------------------------------------

StreamWindow::StreamWindow(const ShardStream& stream, std::span<const std::size_t> shard_ids)
    : stream_(stream) {
  for (std::size_t id : shard_ids) {
    check(id < stream.shards().size(), "shards: window names shard {} of {}", id,
          stream.shards().size());
    const ShardHeader& h = stream.shards()[id];
    shards_.push_back(std::make_unique<MappedShard>(h.path));
    check(shards_.back()->header().n == h.n && shards_.back()->header().bytes == h.bytes,
          "{}: changed while training (was {} clips, {} bytes)", h.path.string(), h.n, h.bytes);
    const auto si = static_cast<std::uint32_t>(shards_.size() - 1);
    for (std::int64_t r = 0; r < h.n; ++r)
      if (shards_.back()->n_instances(r) > 0) rows_.push_back({si, r});
  }
}

StreamWindow::~StreamWindow() = default;  // each MappedShard drops its pages and unmaps

std::int32_t StreamWindow::n_instances(std::int64_t i) const {
  const Row& r = rows_[static_cast<std::size_t>(i)];
  return shards_[r.shard]->n_instances(r.row);
}

std::int64_t StreamWindow::known_labels(std::span<const std::int64_t> rows) const {
  std::int64_t n = 0;
  for (std::int64_t i : rows) {
    const Row& r = rows_.at(static_cast<std::size_t>(i));
    for (std::int64_t c = 0; c < stream_.like().num_classes(); ++c)
      n += shards_[r.shard]->y_mask(r.row, c) ? 1 : 0;
  }
  return n;
}

BagDataset StreamWindow::gather(std::span<const std::int64_t> rows) const {
  const BagDataset& like = stream_.like();
  const std::int64_t k = like.max_instances, d = like.dim, c = like.num_classes();
  BagDataset out = BagDataset::zeros(static_cast<std::int64_t>(rows.size()), k, d, like.classes,
                                     like.feature_type);
  out.embedder = like.embedder;
  for (std::size_t j = 0; j < rows.size(); ++j) {
    check(rows[j] >= 0 && rows[j] < size(), "shards: row {} outside the window's {}", rows[j],
          size());
    const Row& r = rows_[static_cast<std::size_t>(rows[j])];
    const MappedShard& s = *shards_[r.shard];
    const std::int64_t ni = s.n_instances(r.row), sk = s.header().k;
    const auto from = static_cast<std::size_t>(r.row * sk * d),
               to = j * static_cast<std::size_t>(k * d);
    const auto cells = static_cast<std::size_t>(ni * d);
    if (like.feature_type == FeatureType::kUint8)
      std::memcpy(out.x_u8.data() + to, s.x_u8() + from, cells);
    else
      std::memcpy(out.x_f32.data() + to, s.x_f32() + from, cells * sizeof(float));
    out.n_instances[j] = ni;
    for (std::int64_t q = 0; q < c; ++q) {
      const float y = s.y_true(r.row, q);
      check(y >= 0.0f && y <= 1.0f, "{}: Y_true[{}, {}] = {} is outside [0, 1]",
            s.header().path.string(), r.row, q, y);
      out.y_true[j * static_cast<std::size_t>(c) + q] = y;
      out.y_mask[j * static_cast<std::size_t>(c) + q] = s.y_mask(r.row, q) ? 1 : 0;
    }
    out.keys[j] = fmt::format("{}:{}", s.header().path.filename().string(), r.row);
  }
  return out;
}

BagDataset pad_instances(const BagDataset& ds, std::int64_t k) {
  check(k >= ds.max_instances, "pad_instances: K = {} is below the dataset's K = {}", k,
        ds.max_instances);
  BagDataset out = BagDataset::zeros(ds.size(), k, ds.dim, ds.classes, ds.feature_type);
  out.embedder = ds.embedder;
  out.n_instances = ds.n_instances;
  out.y_true = ds.y_true;
  out.y_mask = ds.y_mask;
  out.keys = ds.keys;
  const auto d = static_cast<std::size_t>(ds.dim), c = static_cast<std::size_t>(ds.num_classes()),
             k0 = static_cast<std::size_t>(ds.max_instances), k1 = static_cast<std::size_t>(k);
  if (ds.has_instance_labels())
    out.y_instance.assign(static_cast<std::size_t>(ds.size()) * k1 * c, 0);
  for (std::size_t i = 0; i < static_cast<std::size_t>(ds.size()); ++i) {
    if (ds.feature_type == FeatureType::kUint8)
      std::copy_n(ds.x_u8.begin() + i * k0 * d, k0 * d, out.x_u8.begin() + i * k1 * d);
    else
      std::copy_n(ds.x_f32.begin() + i * k0 * d, k0 * d, out.x_f32.begin() + i * k1 * d);
    if (ds.has_instance_labels())
      std::copy_n(ds.y_instance.begin() + i * k0 * c, k0 * c, out.y_instance.begin() + i * k1 * c);
  }
  return out;
}

// ---- manifest -----------------------------------------------------------------------------------

std::int64_t ShardManifest::clips() const {
  std::int64_t n = 0;
  for (const auto& s : shards) n += s.clips;
  return n;
}

core::Json ShardManifest::to_json() const {
  core::Json j;
  j["format"] = "tutti-shards";
  j["version"] = 1;
  j["embedder"] = embedder;
  j["classes"] = classes;
  j["dim"] = dim;
  j["clips"] = clips();
  core::Json list = core::Json::array();
  for (const auto& s : shards)
    list.push_back({{"file", s.file},
                    {"clips", s.clips},
                    {"max_instances", s.max_instances},
                    {"bytes", s.bytes},
                    {"md5", s.md5}});
  j["shards"] = list;
  return j;
}

ShardManifest ShardManifest::from_json(const core::Json& j, const std::string& what) {
  check(j.is_object() && j.value("format", "") == "tutti-shards",
        "{}: not a tutti shard manifest (no \"format\": \"tutti-shards\")", what);
  check(j.value("version", 0) == 1, "{}: manifest version {} (tutti reads 1)", what,
        j.value("version", 0));
  ShardManifest m;
  try {
    m.embedder = j.at("embedder").get<std::string>();
    m.classes = j.at("classes").get<std::vector<std::string>>();
    m.dim = j.at("dim").get<std::int64_t>();
    for (const auto& s : j.at("shards")) {
      ShardEntry e;
      e.file = s.at("file").get<std::string>();
      e.clips = s.at("clips").get<std::int64_t>();
      e.max_instances = s.at("max_instances").get<std::int64_t>();
      e.bytes = s.at("bytes").get<std::uint64_t>();
      e.md5 = s.at("md5").get<std::string>();
      check(!e.file.empty() && fs::path(e.file).filename() == fs::path(e.file),
            "{}: shard file '{}' must be a file name in the manifest's folder", what, e.file);
      m.shards.push_back(std::move(e));
    }
  } catch (const core::Json::exception& e) {
    fail("{}: bad manifest field: {}", what, e.what());
  }
  return m;
}

ShardManifest read_shard_manifest(const fs::path& path) {
  return ShardManifest::from_json(core::read_json_file(path), path.string());
}

void write_shard_manifest(const fs::path& path, const ShardManifest& m) {
  core::write_json_file(path, m.to_json());
}

std::string shard_file_name(int rank, int world) {
  return fmt::format("shard-{:05d}-of-{:05d}.npz", rank, world);
}

std::pair<std::size_t, std::size_t> rank_slice(std::size_t n, int rank, int world) {
  check<UsageError>(world >= 1 && rank >= 0 && rank < world, "rank_slice: rank {} of world {}",
                    rank, world);
  const auto r = static_cast<std::size_t>(rank), w = static_cast<std::size_t>(world);
  return {n * r / w, n * (r + 1) / w};
}

namespace {

fs::path record_path(const fs::path& shard) {
  return shard.parent_path() / (shard.filename().string() + ".json");
}

}  // namespace

void write_shard_record(const fs::path& shard, const std::string& inputs) {
  const MappedShard m(shard);
  const ShardHeader& h = m.header();
  ShardManifest rec;
  rec.embedder = h.embedder;
  rec.classes = h.classes;
  rec.dim = h.d;
  rec.shards.push_back({shard.filename().string(), h.n, h.k, h.bytes, core::md5_file_hex(shard)});
  core::Json j = rec.to_json();
  j["inputs"] = inputs;
  core::write_json_file(record_path(shard), j);
}

std::optional<ShardManifest> completed_shard(const fs::path& shard, const std::string& inputs) {
  const fs::path rec = record_path(shard);
  if (!fs::is_regular_file(rec) || !fs::is_regular_file(shard)) return std::nullopt;
  const core::Json j = core::read_json_file(rec);
  if (j.value("inputs", "") != inputs) return std::nullopt;
  ShardManifest m = ShardManifest::from_json(j, rec.string());
  if (m.shards.size() != 1 || m.shards[0].file != shard.filename().string() ||
      fs::file_size(shard) != m.shards[0].bytes || core::md5_file_hex(shard) != m.shards[0].md5)
    return std::nullopt;
  return m;
}

ShardManifest manifest_from_records(const fs::path& dir, const std::vector<std::string>& files) {
  ShardManifest out;
  std::string first;
  for (const auto& f : files) {
    const fs::path rec = record_path(dir / f);
    if (!fs::is_regular_file(rec)) continue;
    const ShardManifest m = ShardManifest::from_json(core::read_json_file(rec), rec.string());
    check(m.shards.size() == 1, "{}: a shard record lists {} shards, expected 1", rec.string(),
          m.shards.size());
    if (first.empty()) {
      first = f;
      out.embedder = m.embedder;
      out.classes = m.classes;
      out.dim = m.dim;
    }
    check(m.classes == out.classes && m.dim == out.dim && m.embedder == out.embedder,
          "{}: classes, feature dimension or embedder differ from {}'s", (dir / f).string(), first);
    out.shards.push_back(m.shards[0]);
  }
  return out;
}

BagDataset merge_shards(const fs::path& manifest) {
  const ShardManifest m = read_shard_manifest(manifest);
  check(!m.shards.empty(), "{}: the manifest lists no shard", manifest.string());
  std::vector<BagDataset> parts;
  std::vector<std::string> names;
  for (const auto& e : m.shards) {
    const fs::path f = manifest.parent_path() / e.file;
    check(fs::is_regular_file(f), "{}: shard {} is missing", manifest.string(), f.string());
    check(fs::file_size(f) == e.bytes, "{}: has {} bytes, the manifest says {}", f.string(),
          fs::file_size(f), e.bytes);
    check(core::md5_file_hex(f) == e.md5, "{}: MD5 differs from the manifest's", f.string());
    parts.push_back(load_bags(f));
    const BagDataset& p = parts.back();
    check(p.classes == m.classes, "{}: classes differ from the manifest's", f.string());
    check(p.dim == m.dim || p.size() == 0, "{}: D = {} differs from the manifest's {}", f.string(),
          p.dim, m.dim);
    names.push_back(f.string());
  }
  // The manifest's embedder names the merged data even where a shard was written without one.
  for (auto& p : parts) p.embedder = m.embedder;
  return merge_datasets(std::move(parts), names);
}

}  // namespace tutti::data
