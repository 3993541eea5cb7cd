// TFRecord framing, crc32c and the protobuf wire-format reader.
#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/protobuf.h"
#include "tutti/data/tfrecord.h"

namespace tutti::data {
namespace {

namespace pb = protobuf;
using tutti::testing::fixture;

std::span<const std::uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

core::Json expected() { return core::read_json_file(fixture("audioset/expected.json")); }

TEST(Crc32c, MatchesReferenceVectors) {
  // RFC 3720 B.4 check value and vectors; the others computed by the bitwise Python crc32c in
  // tools/fixtures/make_tfrecord_fixtures.py.
  const auto e = expected()["crc32c"];
  std::vector<std::uint8_t> zeros(32, 0), ones(32, 0xff), inc(32);
  for (int i = 0; i < 32; ++i) inc[i] = static_cast<std::uint8_t>(i);
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(as_bytes("123456789")), e["123456789"].get<std::uint32_t>());
  EXPECT_EQ(crc32c(zeros), 0x8A9136AAu);  // RFC 3720 B.4
  EXPECT_EQ(crc32c(ones), 0x62A8AB43u);
  EXPECT_EQ(crc32c(inc), 0x46DD794Eu);
  EXPECT_EQ(crc32c(zeros), e["zeros32"].get<std::uint32_t>());
  EXPECT_EQ(crc32c(inc), e["inc32"].get<std::uint32_t>());
  EXPECT_EQ(crc32c({}), 0u);
}

TEST(Crc32c, PortableAndHardwareAgreeOnAllLengthsAndSplits) {
  std::vector<std::uint8_t> data(300);
  std::uint32_t s = 12345;
  for (auto& b : data) b = static_cast<std::uint8_t>((s = s * 1103515245u + 12345u) >> 24);
  for (std::size_t n = 0; n <= data.size(); n += 7) {
    const std::span<const std::uint8_t> d(data.data(), n);
    const auto whole = crc32c_portable(d);
    EXPECT_EQ(crc32c(d), whole) << n;
    // Continuing a crc over a split gives the crc of the whole.
    EXPECT_EQ(crc32c(d.subspan(n / 3), crc32c(d.first(n / 3))), whole) << n;
    EXPECT_EQ(crc32c_portable(d.subspan(n / 2), crc32c_portable(d.first(n / 2))), whole) << n;
  }
  RecordProperty("crc32c_hardware", crc32c_hardware() ? "yes" : "no");
}

TEST(Crc32c, MaskIsTheTensorFlowMask) {
  EXPECT_EQ(mask_crc(0), 0xa282ead8u);
  EXPECT_EQ(mask_crc(0x00008000u), 0xa282ead9u);  // bit 15 rotates to bit 0
}

TEST(TfRecord, AppendedRecordsReadBack) {
  std::string stream;
  append_tfrecord("hello", stream);
  append_tfrecord("", stream);
  append_tfrecord(std::string(1000, 'x'), stream);
  EXPECT_EQ(stream.size(), 5 + 0 + 1000 + 3 * 16u);
  TfRecordReader r(as_bytes(stream), "mem");
  std::span<const std::uint8_t> rec;
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(std::string(rec.begin(), rec.end()), "hello");
  EXPECT_EQ(r.offset(), 0u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_TRUE(rec.empty());
  EXPECT_EQ(r.offset(), 21u);
  ASSERT_TRUE(r.next(rec));
  EXPECT_EQ(rec.size(), 1000u);
  EXPECT_EQ(r.index(), 2);
  EXPECT_FALSE(r.next(rec));
  EXPECT_FALSE(r.next(rec));
}

TEST(TfRecord, RealShardCrcsVerify) {
  std::vector<std::uint8_t> buf;
  read_file_into(fixture("audioset/good/part2.tfrecord"), buf);
  TfRecordReader r(buf, "part2");
  std::span<const std::uint8_t> rec;
  int n = 0;
  while (r.next(rec)) ++n;
  EXPECT_EQ(n, 3);
  // The stored crc32c of a real record equals the reference one.
  read_file_into(fixture("audioset/good/part1.tfrecord"), buf);
  TfRecordReader r1(buf, "part1");
  ASSERT_TRUE(r1.next(rec));
  EXPECT_EQ(crc32c(rec), expected()["crc32c"]["guitar_record"].get<std::uint32_t>());
}

// Reads a bad fixture through the framing only and returns the error message ("" if none).
std::string framing_error(const std::string& name, bool verify_crc = true) {
  std::vector<std::uint8_t> buf;
  read_file_into(fixture("audioset/bad/" + name), buf);
  TfRecordReader r(buf, name, verify_crc);
  std::span<const std::uint8_t> rec;
  try {
    while (r.next(rec)) {
    }
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(TfRecord, LengthCrcMismatchNamesRecordAndOffset) {
  const auto msg = framing_error("bad_length_crc.tfrecord");
  const auto off = expected()["guitar_framed_bytes"].get<int>();
  EXPECT_NE(msg.find("bad_length_crc.tfrecord"), std::string::npos) << msg;
  EXPECT_NE(msg.find(fmt::format("record 1 at byte {}", off)), std::string::npos) << msg;
  EXPECT_NE(msg.find("length crc mismatch"), std::string::npos) << msg;
  EXPECT_EQ(framing_error("bad_length_crc.tfrecord", false), "");  // the framing itself is fine
}

TEST(TfRecord, DataCrcMismatch) {
  const auto msg = framing_error("bad_data_crc.tfrecord");
  EXPECT_NE(msg.find("bad_data_crc.tfrecord: record 0 at byte 0: data crc mismatch"),
            std::string::npos)
      << msg;
}

TEST(TfRecord, TruncatedDataAndHeader) {
  auto msg = framing_error("truncated_data.tfrecord");
  EXPECT_NE(msg.find("record 0 at byte 0: truncated record"), std::string::npos) << msg;
  EXPECT_NE(framing_error("truncated_data.tfrecord", false).find("truncated"), std::string::npos);
  msg = framing_error("truncated_header.tfrecord");
  EXPECT_NE(msg.find("record 1 at byte 1539: truncated header (5 of 12 bytes)"), std::string::npos)
      << msg;
}

TEST(TfRecord, HugeLengthIsTruncationNotOverflow) {
  std::string s(8, '\xff');  // length 2^64-1
  s += std::string(8, '\0');
  TfRecordReader r(as_bytes(s), "mem", /*verify_crc=*/false);
  std::span<const std::uint8_t> rec;
  EXPECT_THROW(r.next(rec), Error);
}

TEST(TfRecord, MissingFileIsAnError) {
  std::vector<std::uint8_t> buf;
  try {
    read_file_into(fixture("audioset/nope.tfrecord"), buf);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.tfrecord"), std::string::npos);
  }
}

// ---- protobuf --------------------------------------------------------------------------------

TEST(Protobuf, ReadsEveryWireType) {
  std::string m;
  pb::write_tag(1, pb::WireType::kVarint, m);
  pb::write_varint(300, m);  // 0xac 0x02, the encoding guide's example
  pb::write_tag(2, pb::WireType::kFixed64, m);
  const double d = 2.5;
  m.append(reinterpret_cast<const char*>(&d), 8);
  pb::write_tag(3, pb::WireType::kFixed32, m);
  const float f = -1.25f;
  m.append(reinterpret_cast<const char*>(&f), 4);
  pb::write_bytes_field(4, "abc", m);
  pb::write_tag(100000, pb::WireType::kVarint, m);
  pb::write_varint(std::numeric_limits<std::uint64_t>::max(), m);  // 10 bytes
  EXPECT_EQ(m.substr(0, 3), std::string("\x08\xac\x02"));

  pb::Reader r(as_bytes(m));
  pb::Field fl;
  ASSERT_TRUE(r.next(fl));
  EXPECT_EQ(fl.number, 1u);
  EXPECT_EQ(fl.value, 300u);
  ASSERT_TRUE(r.next(fl));
  EXPECT_EQ(fl.wire_type, pb::WireType::kFixed64);
  EXPECT_EQ(fl.as_double(), 2.5);
  ASSERT_TRUE(r.next(fl));
  EXPECT_EQ(fl.as_float(), -1.25f);
  ASSERT_TRUE(r.next(fl));
  EXPECT_EQ(fl.as_string(), "abc");
  EXPECT_EQ(fl.offset, 1u + 2 + 1 + 8 + 1 + 4);
  ASSERT_TRUE(r.next(fl));
  EXPECT_EQ(fl.number, 100000u);
  EXPECT_EQ(fl.as_int64(), -1);
  EXPECT_FALSE(r.next(fl));
}

TEST(Protobuf, PackedRepeated) {
  std::string p;
  for (std::uint64_t v : {1ull, 150ull, 0ull, 1ull << 40}) pb::write_varint(v, p);
  std::vector<std::uint64_t> got;
  pb::for_each_packed_varint(as_bytes(p), [&](std::uint64_t v) { got.push_back(v); });
  EXPECT_EQ(got, (std::vector<std::uint64_t>{1, 150, 0, 1ull << 40}));
  const float fs[3] = {1.0f, -2.0f, 0.5f};
  std::vector<float> gf;
  pb::for_each_packed_fixed32(
      std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(fs), 12),
      [&](std::uint32_t b) { gf.push_back(std::bit_cast<float>(b)); });
  EXPECT_EQ(gf, (std::vector<float>{1.0f, -2.0f, 0.5f}));
  EXPECT_THROW(pb::for_each_packed_fixed32(as_bytes("abcde"), [](std::uint32_t) {}),
               pb::ParseError);
  EXPECT_THROW(pb::for_each_packed_fixed64(as_bytes("abcd"), [](std::uint64_t) {}), pb::ParseError);
  EXPECT_THROW(pb::for_each_packed_varint(as_bytes("\x96"), [](std::uint64_t) {}), pb::ParseError);
  EXPECT_EQ(pb::zigzag_decode(3), -2);
  EXPECT_EQ(pb::zigzag_decode(4), 2);
}

std::string parse_error(std::string_view bytes) {
  pb::Reader r(as_bytes(bytes));
  pb::Field f;
  try {
    while (r.next(f)) {
    }
  } catch (const pb::ParseError& e) {
    return e.what();
  }
  return "";
}

TEST(Protobuf, MalformedInputsThrow) {
  using namespace std::string_literals;
  EXPECT_NE(parse_error("\x08"s).find("varint at byte 1 runs past the end"), std::string::npos);
  EXPECT_NE(parse_error("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"s).find("longer than 10"),
            std::string::npos);
  EXPECT_NE(parse_error("\x0a\x05"
                        "abc"s)
                .find("has length 5 but only 3 bytes are left"),
            std::string::npos);
  EXPECT_NE(parse_error("\x09\x01\x02"s).find("fixed64"), std::string::npos);
  EXPECT_NE(parse_error("\x0d\x01"s).find("fixed32"), std::string::npos);
  EXPECT_NE(parse_error("\x0b"s).find("wire type 3"), std::string::npos);  // groups
  EXPECT_NE(parse_error("\x0e"s).find("wire type 6"), std::string::npos);
  EXPECT_NE(parse_error("\x00\x01"s).find("field number 0"), std::string::npos);
  EXPECT_EQ(parse_error(""), "");  // an empty message is valid
}

}  // namespace
}  // namespace tutti::data
