// A small reader for the protocol buffers wire format (no libprotobuf, no generated code).
//
// Enough to walk any message by field number: varints, 64-bit and 32-bit fixed fields,
// length-delimited fields (strings, bytes, sub-messages, packed repeated scalars). Nothing is
// allocated: fields hold spans into the caller's buffer, which must outlive them.
//
//   tutti::data::protobuf::Reader r(bytes);
//   tutti::data::protobuf::Field f;
//   while (r.next(f)) {
//     if (f.number == 1 && f.wire_type == WireType::kLengthDelimited) use(f.bytes);
//   }
//
// Failures (a varint longer than 10 bytes or running past the end, a length past the end, a
// group or an unknown wire type, field number 0) throw protobuf::ParseError, a tutti::Error whose
// message says what and at which byte of the message; callers add the file and record.
// Reference: https://protobuf.dev/programming-guides/encoding/
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>

#include "tutti/core/error.h"

namespace tutti::data::protobuf {

class ParseError : public Error {
 public:
  using Error::Error;
};

enum class WireType : std::uint8_t {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,  // deprecated groups: rejected
  kEndGroup = 4,
  kFixed32 = 5,
};

using Bytes = std::span<const std::uint8_t>;

// Decodes one varint at `p` (at most 10 bytes, not past `end`) and advances `p`.
// `base` is the start of the message, only used to report the byte offset on failure.
std::uint64_t read_varint(const std::uint8_t*& p, const std::uint8_t* end,
                          const std::uint8_t* base);

// One field of a message. Which members are meaningful depends on wire_type.
struct Field {
  std::uint32_t number = 0;
  WireType wire_type = WireType::kVarint;
  std::uint64_t value = 0;  // kVarint: the varint; kFixed64/kFixed32: the little-endian bits
  Bytes bytes;              // kLengthDelimited: the payload
  std::size_t offset = 0;   // byte offset of the tag within the message

  std::int64_t as_int64() const { return static_cast<std::int64_t>(value); }
  float as_float() const { return std::bit_cast<float>(static_cast<std::uint32_t>(value)); }
  double as_double() const { return std::bit_cast<double>(value); }
  std::string_view as_string() const {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  }
};

// Walks the fields of one message in wire order.
class Reader {
 public:
  explicit Reader(Bytes message)
      : base_(message.data()), p_(message.data()), end_(message.data() + message.size()) {}

  // Reads the next field into `field`; false at the end of the message. Throws ParseError.
  bool next(Field& field);
  // Byte offset of the next unread field.
  std::size_t position() const { return static_cast<std::size_t>(p_ - base_); }

 private:
  const std::uint8_t* base_;
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

// Packed repeated scalars (a length-delimited payload). Each calls fn(value) per element and
// throws ParseError when the payload is not a whole number of elements.
template <typename Fn>
void for_each_packed_varint(Bytes payload, Fn&& fn) {
  const std::uint8_t* p = payload.data();
  const std::uint8_t* end = p + payload.size();
  while (p < end) fn(read_varint(p, end, payload.data()));
}

void check_packed_size(Bytes payload, std::size_t element_size);

template <typename Fn>
void for_each_packed_fixed32(Bytes payload, Fn&& fn) {
  check_packed_size(payload, 4);
  for (std::size_t i = 0; i < payload.size(); i += 4) {
    std::uint32_t v;
    std::memcpy(&v, payload.data() + i, 4);
    fn(v);  // wire order is little-endian, as is every host tutti builds on
  }
}

template <typename Fn>
void for_each_packed_fixed64(Bytes payload, Fn&& fn) {
  check_packed_size(payload, 8);
  for (std::size_t i = 0; i < payload.size(); i += 8) {
    std::uint64_t v;
    std::memcpy(&v, payload.data() + i, 8);
    fn(v);
  }
}

// Zigzag decoding of sint32/sint64.
inline std::int64_t zigzag_decode(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// Writing, for tests and fixtures: appends encoded pieces to `out`.
void write_varint(std::uint64_t value, std::string& out);
void write_tag(std::uint32_t number, WireType type, std::string& out);
void write_bytes_field(std::uint32_t number, std::string_view payload, std::string& out);

static_assert(std::endian::native == std::endian::little, "tutti assumes a little-endian host");

}  // namespace tutti::data::protobuf
