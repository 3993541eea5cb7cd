#include "tutti/core/zip.h"

#include <zip.h>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::core {

namespace {
std::string zip_error_text(int code) {
  zip_error_t err;
  zip_error_init_with_code(&err, code);
  std::string s = zip_error_strerror(&err);
  zip_error_fini(&err);
  return s;
}
}  // namespace

std::string zip_entry_problem(const ZipEntryInfo& e, std::uint64_t archive_bytes,
                              const ZipLimits& limits) {
  if (e.compressed_size > archive_bytes)
    return fmt::format("claims {} compressed bytes in an archive of {} (corrupt sizes)",
                       e.compressed_size, archive_bytes);
  if (e.stored && e.size != e.compressed_size)
    return fmt::format("stored entry claims {} bytes but occupies {} (corrupt sizes)", e.size,
                       e.compressed_size);
  if (e.size > limits.max_entry_bytes)
    return fmt::format("entry of {} bytes exceeds the limit of {}", e.size, limits.max_entry_bytes);
  // size > ratio * compressed, without overflow: (size - 1) / ratio >= compressed.
  if (!e.stored && e.size > limits.ratio_free_bytes && limits.max_ratio > 0 &&
      (e.size - 1) / limits.max_ratio >= e.compressed_size)
    return fmt::format(
        "{} bytes from {} compressed exceeds the decompression ratio limit of {}:1 (a zip bomb "
        "or corrupt sizes)",
        e.size, e.compressed_size, limits.max_ratio);
  return {};
}

ZipReader::ZipReader(std::filesystem::path path, ZipLimits limits)
    : path_(std::move(path)), limits_(limits) {
  check(std::filesystem::exists(path_), "{}: no such file", path_.string());
  std::error_code ec;
  archive_bytes_ = std::filesystem::file_size(path_, ec);
  check(!ec, "{}: cannot read the file size: {}", path_.string(), ec.message());
  int code = 0;
  za_ = zip_open(path_.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &code);
  if (!za_) fail("{}: not a valid zip/npz archive ({})", path_.string(), zip_error_text(code));
}

ZipReader::~ZipReader() {
  if (za_) zip_discard(za_);
}

std::vector<std::string> ZipReader::names() const {
  std::vector<std::string> out;
  const zip_int64_t n = zip_get_num_entries(za_, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    const char* name = zip_get_name(za_, static_cast<zip_uint64_t>(i), 0);
    if (name) out.emplace_back(name);
  }
  return out;
}

bool ZipReader::contains(const std::string& name) const {
  return zip_name_locate(za_, name.c_str(), 0) >= 0;
}

std::vector<std::uint8_t> ZipReader::read(const std::string& name, const ZipLimits& limits) const {
  const EntryInfo e = info(name);
  const std::string problem = zip_entry_problem(e, archive_bytes_, limits);
  check(problem.empty(), "{}: entry '{}': {}", path_.string(), name, problem);
  std::unique_ptr<zip_file_t, decltype(&zip_fclose)> f(zip_fopen(za_, name.c_str(), 0),
                                                       &zip_fclose);
  if (!f) fail("{}: entry '{}': cannot open: {}", path_.string(), name, zip_strerror(za_));
  std::vector<std::uint8_t> bytes(e.size);
  zip_uint64_t got = 0;
  while (got < e.size) {
    const zip_int64_t n = zip_fread(f.get(), bytes.data() + got, e.size - got);
    if (n < 0)
      fail("{}: entry '{}' is corrupt: {}", path_.string(), name, zip_file_strerror(f.get()));
    if (n == 0) break;
    got += static_cast<zip_uint64_t>(n);
  }
  check(got == e.size, "{}: entry '{}' is truncated ({} of {} bytes)", path_.string(), name, got,
        e.size);
  // libzip checks the CRC only when a read reaches the end of the entry: read once more.
  std::uint8_t extra = 0;
  const zip_int64_t tail = zip_fread(f.get(), &extra, 1);
  if (tail < 0)
    fail("{}: entry '{}' is corrupt: {}", path_.string(), name, zip_file_strerror(f.get()));
  check(tail == 0, "{}: entry '{}' is longer than its recorded size", path_.string(), name);
  return bytes;
}

ZipReader::EntryInfo ZipReader::info(const std::string& name) const {
  zip_stat_t st;
  zip_stat_init(&st);
  check(zip_stat(za_, name.c_str(), 0, &st) == 0, "{}: archive has no entry '{}'", path_.string(),
        name);
  check((st.valid & ZIP_STAT_SIZE) && (st.valid & ZIP_STAT_COMP_SIZE),
        "{}: entry '{}': has no size", path_.string(), name);
  EntryInfo out;
  out.size = st.size;
  out.compressed_size = st.comp_size;
  out.stored = (st.valid & ZIP_STAT_COMP_METHOD) && st.comp_method == ZIP_CM_STORE;
  return out;
}

ZipWriter::ZipWriter(std::filesystem::path path) : path_(std::move(path)) {}
ZipWriter::~ZipWriter() = default;

void ZipWriter::add(const std::string& name, std::vector<std::uint8_t> bytes) {
  entries_.emplace_back(name, std::move(bytes));
}

void ZipWriter::commit() {
  AtomicFile out(path_);
  int code = 0;
  ::zip* za = zip_open(out.temp_path().c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!za) fail("{}: cannot create archive ({})", path_.string(), zip_error_text(code));
  for (auto& [name, bytes] : entries_) {
    zip_source_t* src = zip_source_buffer(za, bytes.data(), bytes.size(), 0);
    zip_int64_t idx = src ? zip_file_add(za, name.c_str(), src, ZIP_FL_OVERWRITE) : -1;
    if (idx < 0) {
      if (src) zip_source_free(src);
      std::string msg = zip_strerror(za);
      zip_discard(za);
      fail("{}: cannot add entry '{}': {}", path_.string(), name, msg);
    }
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_STORE, 0);
  }
  if (zip_close(za) != 0) {
    std::string msg = zip_strerror(za);
    zip_discard(za);
    fail("{}: cannot write archive: {}", path_.string(), msg);
  }
  out.commit();
}

}  // namespace tutti::core
