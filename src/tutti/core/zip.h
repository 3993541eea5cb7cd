// Zip archives through libzip: the container of .npz datasets and .tutti model files.
// Reads stored and deflated entries and zip64; writes stored (uncompressed) entries atomically.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

struct zip;

namespace tutti::core {

class ZipReader {
 public:
  // Throws tutti::Error naming the file when it is missing or not a valid zip archive.
  explicit ZipReader(std::filesystem::path path);
  ~ZipReader();
  ZipReader(const ZipReader&) = delete;
  ZipReader& operator=(const ZipReader&) = delete;

  const std::filesystem::path& path() const { return path_; }
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  // The entry's uncompressed bytes; throws when missing, truncated or failing its CRC.
  std::vector<std::uint8_t> read(const std::string& name) const;

  // Sizes from the central directory (before reading), so callers can refuse absurd entries
  // (zip bombs, corrupt sizes) before allocating. Throws when the entry is missing.
  struct EntryInfo {
    std::uint64_t size = 0;             // uncompressed bytes
    std::uint64_t compressed_size = 0;  // bytes in the archive
    bool stored = false;                // no compression
  };
  EntryInfo info(const std::string& name) const;

 private:
  std::filesystem::path path_;
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
