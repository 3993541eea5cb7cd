// Reading whole files and writing files atomically (temporary file in the same folder + rename),
// so that an interrupted run never leaves a broken model or dataset behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tutti::core {

// Reads a whole file; throws tutti::Error naming the file when it cannot be opened or read.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);
std::string read_file_text(const std::filesystem::path& path);

// A temporary file next to `target` that becomes `target` on commit(). If the object is
// destroyed without commit() (an exception, a crash of the writer), the temporary is removed and
// `target` is untouched.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Where to write the content (a unique name in the target's folder).
  const std::filesystem::path& temp_path() const { return temp_; }
  const std::filesystem::path& target() const { return target_; }
  // fsyncs the temporary and renames it over the target.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  bool committed_ = false;
};

// Writes `data` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, std::string_view data);

// Lower-case hex MD5 of a file's content (streamed), as md5sum prints it.
std::string md5_file_hex(const std::filesystem::path& path);

}  // namespace tutti::core
