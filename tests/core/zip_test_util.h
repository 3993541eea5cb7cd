// Zip archives written byte by byte (APPNOTE.TXT 4.3), so that tests can make their headers lie:
// an entry that claims more bytes than it holds, zip64 claims of terabytes. Shared by the suites
// of every reader that opens zips (core, data, embed, infer).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace tutti::testing {

struct RawZipEntry {
  std::string name;
  std::vector<std::uint8_t> data;  // the bytes in the archive (already compressed if method 8)
  std::uint16_t method = 0;        // 0 stored, 8 deflated
  // The uncompressed size the headers claim; negative: data.size() (the truth).
  std::int64_t claimed_size = -1;
  // Records the sizes in a zip64 extra field (both header sizes 0xFFFFFFFF).
  bool zip64 = false;
};

inline std::uint32_t crc32_of(const std::vector<std::uint8_t>& bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

// Local header, data, central directory and end record for each entry; local and central headers
// agree (libzip's consistency check passes), whatever they claim.
inline std::vector<std::uint8_t> raw_zip(const std::vector<RawZipEntry>& entries) {
  std::vector<std::uint8_t> out, cd;
  const auto put = [](std::vector<std::uint8_t>& v, std::uint64_t x, int bytes) {
    for (int k = 0; k < bytes; ++k) v.push_back(static_cast<std::uint8_t>(x >> (8 * k)));
  };
  for (const auto& e : entries) {
    const std::uint64_t size =
        e.claimed_size < 0 ? e.data.size() : static_cast<std::uint64_t>(e.claimed_size);
    const std::uint64_t csize = e.data.size();
    const std::uint32_t crc = crc32_of(e.data);
    const std::uint64_t offset = out.size();
    std::vector<std::uint8_t> extra;
    if (e.zip64) {
      put(extra, 0x0001, 2);
      put(extra, 16, 2);
      put(extra, size, 8);
      put(extra, csize, 8);
    }
    const std::uint64_t size32 = e.zip64 ? 0xFFFFFFFFu : size;
    const std::uint64_t csize32 = e.zip64 ? 0xFFFFFFFFu : csize;
    const int version = e.zip64 ? 45 : 20;
    // local header
    put(out, 0x04034b50, 4);
    put(out, version, 2);
    put(out, 0, 2);  // flags
    put(out, e.method, 2);
    put(out, 0, 4);  // time, date
    put(out, crc, 4);
    put(out, csize32, 4);
    put(out, size32, 4);
    put(out, e.name.size(), 2);
    put(out, extra.size(), 2);
    out.insert(out.end(), e.name.begin(), e.name.end());
    out.insert(out.end(), extra.begin(), extra.end());
    out.insert(out.end(), e.data.begin(), e.data.end());
    // central directory header
    put(cd, 0x02014b50, 4);
    put(cd, version, 2);  // made by
    put(cd, version, 2);  // needed
    put(cd, 0, 2);
    put(cd, e.method, 2);
    put(cd, 0, 4);
    put(cd, crc, 4);
    put(cd, csize32, 4);
    put(cd, size32, 4);
    put(cd, e.name.size(), 2);
    put(cd, extra.size(), 2);
    put(cd, 0, 2);  // comment
    put(cd, 0, 2);  // disk
    put(cd, 0, 2);  // internal attributes
    put(cd, 0, 4);  // external attributes
    put(cd, offset, 4);
    cd.insert(cd.end(), e.name.begin(), e.name.end());
    cd.insert(cd.end(), extra.begin(), extra.end());
  }
  const std::uint64_t cd_offset = out.size();
  out.insert(out.end(), cd.begin(), cd.end());
  put(out, 0x06054b50, 4);
  put(out, 0, 4);  // disks
  put(out, entries.size(), 2);
  put(out, entries.size(), 2);
  put(out, cd.size(), 4);
  put(out, cd_offset, 4);
  put(out, 0, 2);
  return out;
}

inline void write_raw_zip(const std::filesystem::path& path,
                          const std::vector<RawZipEntry>& entries) {
  const auto bytes = raw_zip(entries);
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

inline std::vector<std::uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

inline constexpr std::int64_t kGiB = std::int64_t{1} << 30;
inline constexpr std::int64_t kTiB = std::int64_t{1} << 40;

// The lies every zip-reading suite checks, each with a text its error must hold: a ~4 GiB claim
// (the most 32 bits say) on a stored entry, a zip64 claim of 16 GiB (stored) and one of 1 TiB
// (deflated, refused by the ratio limit). `data` is the entry's real content.
inline std::vector<std::pair<RawZipEntry, std::string>> hostile_size_claims(
    const std::string& name, const std::vector<std::uint8_t>& data) {
  return {
      {{.name = name, .data = data, .claimed_size = 4 * kGiB - 16},
       "stored entry claims 4294967280 bytes but occupies " + std::to_string(data.size())},
      {{.name = name, .data = data, .claimed_size = 16 * kGiB, .zip64 = true}, "17179869184"},
      {{.name = name, .data = data, .method = 8, .claimed_size = kTiB, .zip64 = true},
       "decompression ratio limit"},
  };
}

}  // namespace tutti::testing
