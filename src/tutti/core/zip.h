// Zip archives through libzip: the container of .npz datasets, .tutti model files, .pth weights
// and .tutti-embedder files. Reads stored and deflated entries and zip64; writes stored
// (uncompressed) entries atomically.
//
// Reading is bounded: the sizes in a zip's headers are claims, so before anything is allocated
// for an entry they are checked against the archive's real size and a decompression-ratio limit
// (ZipLimits). A hostile or corrupt directory claiming gigabytes is refused with
// "<file>: entry '<name>': <problem>" instead of being allocated.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <string>
#include <vector>

struct zip;

namespace tutti::core {

// Sizes from the central directory (before reading).
struct ZipEntryInfo {
  std::uint64_t size = 0;             // uncompressed bytes
  std::uint64_t compressed_size = 0;  // bytes in the archive
  bool stored = false;                // no compression
};

// What one entry may cost. Memory for an entry is at most
// max(ratio_free_bytes, max_ratio * compressed bytes), and compressed bytes never exceed the
// archive's size.
struct ZipLimits {
  // Largest uncompressed entry accepted (callers with a budget set it lower).
  std::uint64_t max_entry_bytes = std::numeric_limits<std::uint64_t>::max();
  // A compressed entry may expand to at most max_ratio times its compressed size. Deflate itself
  // reaches ~1032:1 on constant bytes, which only bombs (or all-zero arrays) approach; real data
  // (embeddings, weights, JSON, pickles) stays far below 100:1.
  std::uint64_t max_ratio = 256;
  // Entries up to this size are exempt from the ratio limit: they cost little either way.
  std::uint64_t ratio_free_bytes = std::uint64_t{16} << 20;
};

// Why an entry with these header sizes must not be read from an archive of `archive_bytes`
// bytes under `limits` ("" when it may). Pure, so that the bounds can be tested on sizes no test
// could allocate. The reasons: compressed bytes beyond the archive, a stored entry whose two
// sizes differ, a size above max_entry_bytes, a ratio above max_ratio.
std::string zip_entry_problem(const ZipEntryInfo& entry, std::uint64_t archive_bytes,
                              const ZipLimits& limits);

class ZipReader {
 public:
  // Throws tutti::Error naming the file when it is missing or not a valid zip archive. Every
  // read() is checked against `limits` (zip_entry_problem) before it allocates.
  explicit ZipReader(std::filesystem::path path, ZipLimits limits = {});
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // The entry's uncompressed bytes. Throws "<file>: entry '<name>': <problem>" when it is
  // missing, its sizes break the limits, or it is truncated, longer than recorded or fails its CRC.
  std::vector<std::uint8_t> read(const std::string& name) const { return read(name, limits_); }
  // Same under other limits (an entry that needs tighter bounds than the archive's others).
  std::vector<std::uint8_t> read(const std::string& name, const ZipLimits& limits) const;

  // Sizes from the central directory. Throws when the entry is missing.
  using EntryInfo = ZipEntryInfo;
  EntryInfo info(const std::string& name) const;
  std::uint64_t archive_bytes() const { return archive_bytes_; }

 private:
  std::filesystem::path path_;
  ZipLimits limits_;
  std::uint64_t archive_bytes_ = 0;
  ::zip* za_ = nullptr;
};

// Collects entries and writes the archive atomically on commit(); nothing is written before.
class ZipWriter {
 public:
  explicit ZipWriter(std::filesystem::path path);
  ~ZipWriter();
  ZipWriter(const ZipWriter&) = delete;
  ZipWriter& operator=(const ZipWriter&) = delete;

  // Adds an entry (stored, no compression). The bytes are copied.
  void add(const std::string& name, std::vector<std::uint8_t> bytes);
  void commit();

 private:
  std::filesystem::path path_;
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> entries_;
};

}  // namespace tutti::core
