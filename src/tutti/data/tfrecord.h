// TFRecord files: the framing TensorFlow writes around serialized protos.
//
// Each record: uint64 length (little-endian), uint32 masked crc32c of those 8 length bytes, the
// `length` data bytes, uint32 masked crc32c of the data. masked(crc) =
// ((crc >> 15) | (crc << 17)) + 0xa282ead8. Reference: tensorflow/core/lib/io/record_writer.cc.
//
//   std::vector<std::uint8_t> buf;
//   tutti::data::read_file_into("x.tfrecord", buf);           // one read
//   tutti::data::TfRecordReader r(buf, "x.tfrecord");
//   std::span<const std::uint8_t> rec;
//   while (r.next(rec)) parse(rec);                            // rec points into buf
//
// Failures throw tutti::Error "tfrecord: <name>: record <i> at byte <offset>: ..." for a crc
// mismatch (length or data), a truncated header, data or footer.
//
// crc32c: Debian bookworm packages no crc32c library (no libcrc32c-dev), so this is our own:
// SSE4.2 crc32 instructions when the CPU has them (checked at run time), otherwise slice-by-8
// tables (Intel's "slicing-by-8"; same results, tested against the RFC 3720 vectors).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tutti::data {

// CRC-32C (Castagnoli, reflected polynomial 0x82f63b78) of `data`, continuing from `crc` (the
// value returned for the preceding bytes; 0 to start).
std::uint32_t crc32c(std::span<const std::uint8_t> data, std::uint32_t crc = 0);
// The portable slice-by-8 implementation (crc32c() uses it when SSE4.2 is absent); for tests.
std::uint32_t crc32c_portable(std::span<const std::uint8_t> data, std::uint32_t crc = 0);
// True when crc32c() uses the SSE4.2 instructions on this CPU.
bool crc32c_hardware();

inline std::uint32_t mask_crc(std::uint32_t crc) {
  return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}
inline std::uint32_t masked_crc32c(std::span<const std::uint8_t> data) {
  return mask_crc(crc32c(data));
}

// Reads the whole file into `buf` (resized; its capacity is reused across calls) with one read.
// Throws tutti::Error naming the file when it cannot be opened or read.
void read_file_into(const std::filesystem::path& path, std::vector<std::uint8_t>& buf);

// Walks the records of a TFRecord stream held in memory.
class TfRecordReader {
 public:
  // `name` (usually the file name) prefixes error messages. verify_crc=false skips both checks
  // (fuzzing the parser behind it); the framing is still checked.
  TfRecordReader(std::span<const std::uint8_t> stream, std::string_view name,
                 bool verify_crc = true)
      : stream_(stream), name_(name), verify_crc_(verify_crc) {}

  // Sets `record` to the next record's data (a view into the stream); false at the clean end of
  // the stream. Throws tutti::Error on a crc mismatch or a truncated record.
  bool next(std::span<const std::uint8_t>& record);

  // Index and byte offset of the record last returned by next() (for error messages).
  std::int64_t index() const { return index_; }
  std::uint64_t offset() const { return record_offset_; }
  std::string_view name() const { return name_; }

 private:
  std::span<const std::uint8_t> stream_;
  std::string_view name_;
  bool verify_crc_;
  std::uint64_t pos_ = 0;
  std::uint64_t record_offset_ = 0;
  std::int64_t index_ = -1;
};

// Appends one framed record (length, masked crcs) to `out`; for tests, fixtures and writers.
void append_tfrecord(std::string_view record, std::string& out);

}  // namespace tutti::data
