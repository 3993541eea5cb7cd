#include "tutti/data/tfrecord.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "tutti/core/error.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <nmmintrin.h>
#define TUTTI_CRC32C_SSE42 1
#endif

namespace tutti::data {

namespace {

constexpr std::uint32_t kPoly = 0x82f63b78u;  // reflected Castagnoli polynomial

// tables[k][b]: crc of byte b followed by k zero bytes (slice-by-8).
struct Tables {
  std::array<std::array<std::uint32_t, 256>, 8> t{};
  constexpr Tables() {
    for (std::uint32_t b = 0; b < 256; ++b) {
      std::uint32_t c = b;
      for (int i = 0; i < 8; ++i) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
      t[0][b] = c;
    }
    for (std::uint32_t b = 0; b < 256; ++b) {
      for (int k = 1; k < 8; ++k) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xff];
    }
  }
};
constexpr Tables kTables;

std::uint32_t crc32c_sw(const std::uint8_t* p, std::size_t n, std::uint32_t c) {
  const auto& t = kTables.t;
  while (n >= 8) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= c;
    c = t[7][lo & 0xff] ^ t[6][(lo >> 8) & 0xff] ^ t[5][(lo >> 16) & 0xff] ^ t[4][lo >> 24] ^
        t[3][hi & 0xff] ^ t[2][(hi >> 8) & 0xff] ^ t[1][(hi >> 16) & 0xff] ^ t[0][hi >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) c = t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return c;
}

#ifdef TUTTI_CRC32C_SSE42
__attribute__((target("sse4.2"))) std::uint32_t crc32c_hw(const std::uint8_t* p, std::size_t n,
                                                          std::uint32_t c) {
  std::uint64_t c64 = c;
  while (n >= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c64 = _mm_crc32_u64(c64, v);
    p += 8;
    n -= 8;
  }
  c = static_cast<std::uint32_t>(c64);
  while (n--) c = _mm_crc32_u8(c, *p++);
  return c;
}
bool detect_sse42() {
  __builtin_cpu_init();  // needed when called from a static initializer (GCC manual)
  return __builtin_cpu_supports("sse4.2");
}
const bool kHaveSse42 = detect_sse42();
#else
const bool kHaveSse42 = false;
#endif

}  // namespace

std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc) {
  return ~crc32c_sw(data.data(), data.size(), ~crc);
}

std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc) {
#ifdef TUTTI_CRC32C_SSE42
  if (kHaveSse42) return ~crc32c_hw(data.data(), data.size(), ~crc);
#endif
  return crc32c_portable(data, crc);
}

bool crc32c_hardware() { return kHaveSse42; }

void read_file_into(const std::filesystem::path& path, std::vector<std::uint8_t>& buf) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "{}: cannot open for reading: {}", path.string(), std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  check(::fstat(fd, &st) == 0, "{}: cannot stat: {}", path.string(), std::strerror(errno));
  check(S_ISREG(st.st_mode), "{}: not a regular file", path.string());
  buf.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < buf.size()) {  // one read() for a regular file; loop for short reads
    const ssize_t n = ::read(fd, buf.data() + done, buf.size() - done);
    if (n < 0 && errno == EINTR) continue;
    check(n >= 0, "{}: read error: {}", path.string(), std::strerror(errno));
    check(n > 0, "{}: file shrank while reading ({} of {} bytes)", path.string(), done, buf.size());
    done += static_cast<std::size_t>(n);
  }
}

bool TfRecordReader::next(std::span<const std::uint8_t>& record) {
  const std::uint64_t size = stream_.size();
  if (pos_ == size) return false;
  ++index_;
  record_offset_ = pos_;
  const std::uint8_t* p = stream_.data() + pos_;
  const std::uint64_t left = size - pos_;
  check(left >= 12, "tfrecord: {}: record {} at byte {}: truncated header ({} of 12 bytes)", name_,
        index_, record_offset_, left);
  std::uint64_t length;
  std::uint32_t length_crc;
  std::memcpy(&length, p, 8);
  std::memcpy(&length_crc, p + 8, 4);
  if (verify_crc_) {
    const std::uint32_t want = masked_crc32c({p, 8});
    check(length_crc == want,
          "tfrecord: {}: record {} at byte {}: length crc mismatch (stored {:#010x}, computed "
          "{:#010x})",
          name_, index_, record_offset_, length_crc, want);
  }
  check(length <= left - 12 && left - 12 - length >= 4,
        "tfrecord: {}: record {} at byte {}: truncated record (length {} but {} bytes follow "
        "the header)",
        name_, index_, record_offset_, length, left - 12);
  record = {p + 12, static_cast<std::size_t>(length)};
  if (verify_crc_) {
    std::uint32_t data_crc;
    std::memcpy(&data_crc, p + 12 + length, 4);
    const std::uint32_t want = masked_crc32c(record);
    check(data_crc == want,
          "tfrecord: {}: record {} at byte {}: data crc mismatch (stored {:#010x}, computed "
          "{:#010x})",
          name_, index_, record_offset_, data_crc, want);
  }
  pos_ += 16 + length;
  return true;
}

void append_tfrecord(std::string_view record, std::string& out) {
  const std::uint64_t length = record.size();
  std::uint8_t header[8];
  std::memcpy(header, &length, 8);
  const std::uint32_t length_crc = masked_crc32c(header);
  const std::uint32_t data_crc =
      masked_crc32c({reinterpret_cast<const std::uint8_t*>(record.data()), record.size()});
  out.append(reinterpret_cast<const char*>(header), 8);
  out.append(reinterpret_cast<const char*>(&length_crc), 4);
  out.append(record);
  out.append(reinterpret_cast<const char*>(&data_crc), 4);
}

}  // namespace tutti::data
