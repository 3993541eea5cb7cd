// The fuzz targets whose readers take a path: the input bytes go to one scratch file per process
// (in the temporary folder, removed at exit), rewritten for every input.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace tutti::fuzz {

// Writes data[0, size) to the process's scratch file named tutti-fuzz-<tag>-<pid><extension>
// and returns its path.
inline const std::filesystem::path& scratch_file(const std::string& tag,
                                                 const std::string& extension,
                                                 const std::uint8_t* data, std::size_t size) {
  struct Scratch {
    std::filesystem::path path;
    ~Scratch() {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  };
  static const Scratch scratch{
      std::filesystem::temp_directory_path() /
      ("tutti-fuzz-" + tag + "-" + std::to_string(::getpid()) + extension)};
  std::ofstream out(scratch.path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return scratch.path;
}

}  // namespace tutti::fuzz
