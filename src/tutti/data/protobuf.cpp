#include "tutti/data/protobuf.h"

namespace tutti::data::protobuf {

std::uint64_t read_varint(const std::uint8_t*& p, const std::uint8_t* end,
                          const std::uint8_t* base) {
  // Fast path: one byte (tags, small lengths and most label indices).
  if (p < end && *p < 0x80) return *p++;
  const std::uint8_t* start = p;
  std::uint64_t result = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (p == end) {
      fail<ParseError>("malformed protobuf: varint at byte {} runs past the end of the message",
                       start - base);
    }
    const std::uint8_t b = *p++;
    result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if (b < 0x80) return result;
  }
  fail<ParseError>("malformed protobuf: varint at byte {} is longer than 10 bytes", start - base);
}

bool Reader::next(Field& field) {
  if (p_ == end_) return false;
  field.offset = static_cast<std::size_t>(p_ - base_);
  const std::uint64_t tag = read_varint(p_, end_, base_);
  const std::uint64_t number = tag >> 3;
  check<ParseError>(number != 0 && number <= 0x1fffffff,
                    "malformed protobuf: invalid field number {} at byte {}", number, field.offset);
  field.number = static_cast<std::uint32_t>(number);
  field.wire_type = static_cast<WireType>(tag & 7);
  const auto left = [&] { return static_cast<std::size_t>(end_ - p_); };
  switch (field.wire_type) {
    case WireType::kVarint:
      field.value = read_varint(p_, end_, base_);
      field.bytes = {};
      return true;
    case WireType::kFixed64:
      check<ParseError>(left() >= 8,
                        "malformed protobuf: fixed64 field {} at byte {} runs past the end",
                        field.number, field.offset);
      std::memcpy(&field.value, p_, 8);
      p_ += 8;
      field.bytes = {};
      return true;
    case WireType::kFixed32: {
      check<ParseError>(left() >= 4,
                        "malformed protobuf: fixed32 field {} at byte {} runs past the end",
                        field.number, field.offset);
      std::uint32_t v;
      std::memcpy(&v, p_, 4);
      p_ += 4;
      field.value = v;
      field.bytes = {};
      return true;
    }
    case WireType::kLengthDelimited: {
      const std::uint64_t n = read_varint(p_, end_, base_);
      check<ParseError>(
          n <= left(),
          "malformed protobuf: field {} at byte {} has length {} but only {} bytes are left",
          field.number, field.offset, n, left());
      field.bytes = Bytes(p_, static_cast<std::size_t>(n));
      field.value = n;
      p_ += n;
      return true;
    }
    default:
      fail<ParseError>("malformed protobuf: unsupported wire type {} (field {}) at byte {}",
                       static_cast<int>(tag & 7), field.number, field.offset);
  }
}

void check_packed_size(Bytes payload, std::size_t element_size) {
  check<ParseError>(payload.size() % element_size == 0,
                    "malformed protobuf: packed field of {} bytes is not a multiple of {}",
                    payload.size(), element_size);
}

void write_varint(std::uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void write_tag(std::uint32_t number, WireType type, std::string& out) {
  write_varint((static_cast<std::uint64_t>(number) << 3) | static_cast<std::uint64_t>(type), out);
}

void write_bytes_field(std::uint32_t number, std::string_view payload, std::string& out) {
  write_tag(number, WireType::kLengthDelimited, out);
  write_varint(payload.size(), out);
  out.append(payload);
}

}  // namespace tutti::data::protobuf
