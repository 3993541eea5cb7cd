// .npy/.npz reading against files written by real numpy (tools/fixtures/make_npz_fixtures.py);
// expected values come from numpy via tests/fixtures/npz/expected.json.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/zip_test_util.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/data/npz.h"

namespace tutti::data {
namespace {

using namespace std::string_literals;
using tutti::testing::error_of;
using tutti::testing::fixture;
using tutti::testing::TempDir;

std::filesystem::path npz_fixture(const std::string& name) { return fixture("npz/" + name); }

const core::Json& expected() {
  static const core::Json j = core::read_json_file(npz_fixture("expected.json"));
  return j;
}

// Asserts that `a` holds exactly what numpy wrote (dtype, shape, every value).
void expect_matches_numpy(const NpyArray& a, const core::Json& e, const std::string& what) {
  SCOPED_TRACE(what);
  const std::string dtype = e.at("dtype");
  std::vector<std::int64_t> shape = e.at("shape");
  EXPECT_EQ(a.shape, shape);
  const auto& values = e.at("values");
  ASSERT_EQ(a.numel(), static_cast<std::int64_t>(values.size()));
  if (dtype == "|O" || dtype.rfind("<U", 0) == 0) {
    EXPECT_EQ(a.descr.substr(0, 2), "<U");
    const auto s = a.as_strings(what);
    for (std::size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], values[i].get<std::string>()) << i;
    return;
  }
  EXPECT_EQ(a.descr, dtype);
  if (dtype == "|u1" || dtype == "|b1") {
    const auto v = a.as_u8(what);
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], values[i].get<int>()) << i;
  } else if (dtype == "<f4") {
    const auto v = a.as_f32(what);
    for (std::size_t i = 0; i < v.size(); ++i)
      ASSERT_EQ(v[i], static_cast<float>(values[i].get<double>())) << i;
  } else if (dtype == "<f8") {
    ASSERT_EQ(a.descr, "<f8");
    for (std::size_t i = 0; i < values.size(); ++i) {
      double d;
      std::memcpy(&d, a.data.data() + 8 * i, 8);
      ASSERT_EQ(d, values[i].get<double>()) << i;  // bit-exact: JSON keeps numpy's repr
    }
  } else if (dtype == "<i4" || dtype == "<i8") {
    const auto v = a.as_i64(what);
    for (std::size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], values[i].get<std::int64_t>()) << i;
  } else {
    FAIL() << "unexpected dtype in expected.json: " << dtype;
  }
}

TEST(Npy, ReadsEveryDtypeNumpyWrites) {
  for (const char* name :
       {"dtype_u1.npy", "dtype_b1.npy", "dtype_f4.npy", "dtype_f8.npy", "dtype_i4.npy",
        "dtype_i8.npy", "dtype_U.npy", "scalar_f4.npy", "empty_f4.npy"}) {
    const NpyArray a = read_npy(npz_fixture(name));
    expect_matches_numpy(a, expected().at(name).at("a"), name);
  }
}

TEST(Npy, ScalarAndEmptyShapes) {
  EXPECT_TRUE(read_npy(npz_fixture("scalar_f4.npy")).shape.empty());
  EXPECT_EQ(read_npy(npz_fixture("scalar_f4.npy")).numel(), 1);
  EXPECT_EQ(read_npy(npz_fixture("empty_f4.npy")).numel(), 0);
  EXPECT_EQ(read_npy(npz_fixture("empty_f4.npy")).shape_str(), "(0, 3)");
}

TEST(Npy, ReadsHeaderVersions2And3) {
  for (const char* name : {"version_2.npy", "version_3.npy"})
    expect_matches_numpy(read_npy(npz_fixture(name)), expected().at(name).at("a"), name);
}

TEST(Npy, DecodesObjectArrayOfStringsWithoutExecutingIt) {
  const NpyArray a = read_npy(npz_fixture("object_strings.npy"));
  EXPECT_EQ(a.descr, "<U11");
  expect_matches_numpy(a, expected().at("object_strings.npy").at("a"), "object_strings.npy");
}

struct BadNpy {
  const char* file;
  const char* message;
};

TEST(Npy, RejectsWhatTuttiDoesNotRead) {
  const BadNpy cases[] = {
      {"bad_fortran.npy", "fortran_order=True arrays are not supported"},
      {"bad_bigendian.npy", "big-endian dtype '>f4'"},
      {"bad_object.npy", "only arrays of str are supported"},
      {"bad_complex.npy", "unsupported dtype '<c8'"},
      {"bad_structured.npy", "structured dtypes are not supported"},
      {"bad_truncated.npy", "payload has 37 bytes, but shape (10,) of dtype '<f4' needs 40"},
      {"bad_extra.npy", "payload has 44 bytes"},
      {"bad_negative_shape.npy", "negative dimension"},
      {"bad_header.npy", "malformed npy header"},
      {"bad_missing_key.npy", "needs 'descr', 'fortran_order' and 'shape'"},
      {"bad_version.npy", "unsupported npy format version 4.0"},
      {"bad_overflow_shape.npy", "is too large"},
      {"bad_magic.npy", "bad magic"},
  };
  for (const auto& c : cases) {
    const auto path = npz_fixture(c.file);
    const std::string msg = error_of([&] { read_npy(path); });
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.file << ": " << msg;
  }
}

TEST(Npy, EveryTruncationOfAValidFileThrowsCleanly) {
  for (const char* name : {"dtype_i8.npy", "dtype_U.npy", "object_strings.npy"}) {
    const auto bytes = core::read_file_bytes(npz_fixture(name));
    for (std::size_t n = 0; n < bytes.size(); ++n)
      EXPECT_THROW(parse_npy(bytes.data(), n, name), tutti::Error) << name << " cut at " << n;
    EXPECT_NO_THROW(parse_npy(bytes.data(), bytes.size(), name));
  }
}

TEST(Npy, EverySingleByteFlipInAPickleIsHandled) {
  // Not a proof of robustness (the fuzzer does that), but a deterministic sweep in every build.
  const auto bytes = core::read_file_bytes(npz_fixture("object_strings.npy"));
  int accepted = 0;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    auto copy = bytes;
    copy[i] ^= 0x5A;
    try {
      parse_npy(copy.data(), copy.size(), "flip");
      ++accepted;
    } catch (const tutti::Error&) {
    }
  }
  EXPECT_LT(accepted, static_cast<int>(bytes.size()));
}

TEST(Npy, RejectsHandMadeMaliciousPickles) {
  auto npy_with = [](const std::string& pickle) {
    std::string header = "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }\n";
    std::string s = "\x93NUMPY\x01";
    s.push_back('\0');
    s.push_back(static_cast<char>(header.size()));
    s.push_back('\0');
    s += header + pickle;
    return std::vector<std::uint8_t>(s.begin(), s.end());
  };
  const std::pair<std::string, const char*> cases[] = {
      {"\x80\x02h\x07.", "unknown memo key 7"},
      {"\x80\x02t.", "no MARK"},
      {"\x80\x02"
       "a.",
       "stack underflow"},
      {"\x80\x02]].", "malformed pickle at STOP"},
      {"\x80\x02"
       "cos\nsystem\nX\x02\x00\x00\x00lsR."s,
       "REDUCE args"},
      {"\x80\x02"
       "cos\nsystem\nX\x02\x00\x00\x00ls\x85R."s,
       "not a numpy array reduction"},
      {"\x80\x02X\xff\xff\xff\x7f", "truncated"},
      {"\x80\x02\x63"
       "numpy.core.multiarray\n_reconstruct\n)R)b.",
       "unexpected state"},
      {"\x80\x02\x63"
       "numpy.core.multiarray\n_reconstruct\n)R.",
       "not a numpy array reduction"},
      {"\x80\x02N.junk", "unexpected bytes after the pickle"},
      {"\x80\x02\x8a\x01\x01.", "opcode 0x8a"},
  };
  for (const auto& [pickle, message] : cases) {
    const auto bytes = npy_with(pickle);
    const std::string msg = error_of([&] { parse_npy(bytes.data(), bytes.size(), "evil"); });
    EXPECT_NE(msg.find(message), std::string::npos) << msg;
  }
}

// A v1.0 .npy with the given header text and payload.
std::vector<std::uint8_t> npy_v1(const std::string& header, const std::string& payload = "") {
  std::string s = "\x93NUMPY\x01";
  s.push_back('\0');
  s.push_back(static_cast<char>(header.size() & 0xFF));
  s.push_back(static_cast<char>(header.size() >> 8));
  s += header + payload;
  return {s.begin(), s.end()};
}

TEST(Npy, HeaderDictEdgeCases) {
  const std::pair<std::string, const char*> bad[] = {
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", "unexpected key 'x'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}",
       "key 'descr' repeated"},
      {"{'descr': '<f4', 'fortran_order': Nope, 'shape': (1,)}", "expected True or False"},
      {"{'descr': '<\\f4', 'fortran_order': False, 'shape': (1,)}", "escape sequences"},
      {"{'descr': '" + std::string(80, 'x') + "', 'fortran_order': False, 'shape': (1,)}",
       "string too long"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2)}", "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (a,)}", "expected a dimension"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
       "dimension too large"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::string(33 * 2, ' ') + ")}",
       ""},  // empty shape with padding: a valid scalar header, but no payload
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} trailing", "after the closing"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}", "expected ',' or '}'"},
      {"{'descr': '<U99999999999', 'fortran_order': False, 'shape': (1,)}",
       "unsupported string dtype"},
      {"{'descr': '<U0', 'fortran_order': False, 'shape': (1099511627776,)}",
       "zero-width elements"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,", "unexpected end"},
  };
  for (const auto& [header, message] : bad) {
    const auto bytes = npy_v1(header);
    const std::string msg = error_of([&] { parse_npy(bytes.data(), bytes.size(), "h.npy"); });
    EXPECT_NE(msg.find(message), std::string::npos) << header << " -> " << msg;
  }
  std::string dims = "(";
  for (int i = 0; i < 33; ++i) dims += "1,";
  const auto many = npy_v1("{'descr': '<f4', 'fortran_order': False, 'shape': " + dims + ")}");
  EXPECT_NE(error_of([&] { parse_npy(many.data(), many.size(), "h"); }).find("too many dim"),
            std::string::npos);
  // Python 2 era headers: "L" suffixes, double quotes, no trailing comma.
  const auto old = npy_v1("{\"descr\": \"<i4\", \"fortran_order\": False, \"shape\": (2L,)}",
                          std::string("\x01\0\0\0\x02\0\0\0", 8));
  EXPECT_EQ(parse_npy(old.data(), old.size(), "old").as_i64("old"),
            (std::vector<std::int64_t>{1, 2}));
}

TEST(Npy, TypedAccessorsCheckTheDtype) {
  const NpyArray f = read_npy(npz_fixture("dtype_f4.npy"));
  EXPECT_NE(error_of([&] { f.as_u8("arr"); }).find("arr: has dtype '<f4', expected '|u1'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { f.as_i64("arr"); }).find("expected '<i4' or '<i8'"), std::string::npos);
  EXPECT_NE(error_of([&] { f.as_strings("arr"); }).find("expected a unicode string"),
            std::string::npos);
  const NpyArray u = read_npy(npz_fixture("dtype_u1.npy"));
  EXPECT_NE(error_of([&] { u.as_f32("arr"); }).find("expected '<f4' or '<f8'"), std::string::npos);
  // f8 -> f32 narrows; i4 -> i64 widens.
  EXPECT_FLOAT_EQ(read_npy(npz_fixture("dtype_f8.npy")).as_f32("x")[3], 3.14159265f);
  EXPECT_EQ(read_npy(npz_fixture("dtype_i4.npy")).as_i64("x")[3], -2147483648LL);
}

TEST(Npy, InvalidCodePointInUnicodeArrayIsRejected) {
  NpyArray a = NpyArray::from_strings({"ab"});
  const std::uint32_t surrogate = 0xD800;
  std::memcpy(a.data.data() + 4, &surrogate, 4);
  EXPECT_NE(error_of([&] { a.as_strings("keys"); }).find("invalid code point U+D800"),
            std::string::npos);
  EXPECT_THROW(NpyArray::from_strings({std::string("\xff\xfe")}), tutti::Error);
}

TEST(Npy, SerializeRoundTripsEveryDtype) {
  for (const char* name :
       {"dtype_u1.npy", "dtype_b1.npy", "dtype_f4.npy", "dtype_f8.npy", "dtype_i4.npy",
        "dtype_i8.npy", "dtype_U.npy", "scalar_f4.npy", "empty_f4.npy", "object_strings.npy"}) {
    const NpyArray a = read_npy(npz_fixture(name));
    const auto bytes = serialize_npy(a);
    const std::size_t header_len = bytes[8] | (bytes[9] << 8);
    EXPECT_EQ((10 + header_len) % 64, 0u) << name;  // numpy's alignment
    const NpyArray b = parse_npy(bytes.data(), bytes.size(), name);
    EXPECT_EQ(a.descr, b.descr) << name;
    EXPECT_EQ(a.shape, b.shape) << name;
    EXPECT_EQ(a.data, b.data) << name;
  }
}

TEST(Npy, FactoriesCheckTheShape) {
  EXPECT_THROW(NpyArray::from_f32({2, 3}, std::vector<float>(5)), tutti::Error);
  EXPECT_NO_THROW(NpyArray::from_f32({2, 3}, std::vector<float>(6)));
  NpyArray bad = NpyArray::from_f32({2}, {1.0f, 2.0f});
  bad.data.pop_back();
  EXPECT_THROW(serialize_npy(bad), tutti::Error);
}

TEST(Npz, ReadsStoredDeflatedAndZip64Archives) {
  for (const char* name :
       {"bags_u8.npz", "bags_f32_deflated.npz", "bags_zip64.npz", "bags_zip64_cd.npz"}) {
    const auto arrays = read_npz(npz_fixture(name));
    const auto& exp = expected().at(name);
    EXPECT_EQ(arrays.size(), exp.size()) << name;
    for (const auto& [key, e] : exp.items()) {
      ASSERT_TRUE(arrays.contains(key)) << name << ": " << key;
      expect_matches_numpy(arrays.at(key), e, std::string(name) + ":" + key);
    }
  }
}

TEST(Npz, BrokenArchivesNameTheFileAndTheProblem) {
  auto msg = error_of([] { read_npz(npz_fixture("bad_zip.npz")); });
  EXPECT_NE(msg.find("bad_zip.npz: not a valid zip/npz archive"), std::string::npos) << msg;
  msg = error_of([] { read_npz(npz_fixture("bad_crc.npz")); });
  EXPECT_NE(msg.find("bad_crc.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("'X.npy' is corrupt"), std::string::npos) << msg;
  msg = error_of([] { read_npz(npz_fixture("no_such_file.npz")); });
  EXPECT_NE(msg.find("no such file"), std::string::npos) << msg;
  msg = error_of([] { read_npz(npz_fixture("bad_x_fortran.npz")); });
  EXPECT_NE(msg.find("bad_x_fortran.npz: array 'X': fortran_order=True"), std::string::npos) << msg;
}

TEST(Npz, RefusesImpossibleEntrySizesBeforeAllocating) {
  const auto msg = error_of([] { read_npz(npz_fixture("bad_sizes.npz")); });
  EXPECT_NE(msg.find("bad_sizes.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2147483647"), std::string::npos) << msg;
}

// The zip layer (core::ZipReader) checks every entry's sizes before allocating: claims of 4 GiB,
// 16 GiB and 1 TiB on a small archive, and a deflate ratio no array reaches.
TEST(Npz, HostileEntrySizesAreRefusedByTheZipReader) {
  TempDir tmp;
  const auto x = serialize_npy(NpyArray::from_f32({2, 2}, {1, 2, 3, 4}));
  for (const auto& [entry, needle] : tutti::testing::hostile_size_claims("X.npy", x)) {
    const auto file = tmp / "hostile.npz";
    tutti::testing::write_raw_zip(file, {entry});
    const auto msg = error_of([&] { read_npz(file); });
    EXPECT_NE(msg.find(file.string() + ": entry 'X.npy': "), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  }
}

TEST(Npz, RefusesDuplicateEntries) {
  const auto msg = error_of([] { read_npz(npz_fixture("bad_duplicate.npz")); });
  EXPECT_NE(msg.find("bad_duplicate.npz"), std::string::npos) << msg;
}

TEST(Npz, RefusesEntriesAboveTheSizeLimit) {
  const auto msg = error_of([] { read_npz(npz_fixture("bags_u8.npz"), 32); });
  EXPECT_NE(msg.find("exceeds the limit of 32"), std::string::npos) << msg;
}

TEST(Npz, WriteThenNumpyReadsTheSameValues) {
  if (std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "numpy not available in /usr/bin/python3";
  TempDir tmp;
  std::map<std::string, NpyArray> arrays;
  arrays["f"] = NpyArray::from_f32({2, 2}, {0.5f, -1.25f, 3e-8f, 1e30f});
  arrays["d"] = NpyArray::from_f64({3}, {0.1, -2.0, 1e-300});
  arrays["i"] = NpyArray::from_i32({2}, {-7, 2147483647});
  arrays["l"] = NpyArray::from_i64({1, 2}, {-9007199254740993LL, 5});
  arrays["b"] = NpyArray::from_u8({3}, {1, 0, 1}, true);
  arrays["u"] = NpyArray::from_u8({2, 1, 2}, {0, 255, 7, 128});
  arrays["s"] = NpyArray::from_strings({"accordion", "", "violín", "音"});
  write_npz(tmp / "w.npz", arrays);
  const std::string script =
      "import numpy as np, sys\n"
      "d = np.load(sys.argv[1])\n"
      "assert d['f'].dtype == np.float32 and d['f'].shape == (2, 2)\n"
      "assert (d['f'] == np.array([[0.5, -1.25], [3e-8, 1e30]], np.float32)).all()\n"
      "assert d['d'].dtype == np.float64 and list(d['d']) == [0.1, -2.0, 1e-300]\n"
      "assert d['i'].dtype == np.int32 and list(d['i']) == [-7, 2147483647]\n"
      "assert d['l'].dtype == np.int64 and d['l'].tolist() == [[-9007199254740993, 5]]\n"
      "assert d['b'].dtype == np.bool_ and d['b'].tolist() == [True, False, True]\n"
      "assert d['u'].dtype == np.uint8 and d['u'].tolist() == [[[0, 255]], [[7, 128]]]\n"
      "assert d['s'].dtype == np.dtype('<U9') and d['s'].tolist() == "
      "['accordion', '', 'violín', '音']\n";
  { std::ofstream(tmp / "check.py") << script; }
  const std::string cmd =
      "/usr/bin/python3 " + (tmp / "check.py").string() + " " + (tmp / "w.npz").string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "numpy disagreed with what tutti wrote";
  // And the same file reads back bit-identically.
  const auto back = read_npz(tmp / "w.npz");
  for (const auto& [k, a] : arrays) {
    EXPECT_EQ(back.at(k).descr, a.descr) << k;
    EXPECT_EQ(back.at(k).data, a.data) << k;
  }
}

TEST(Npz, WriteNpyIsReadBack) {
  TempDir tmp;
  const NpyArray a = NpyArray::from_i64({3}, {1, -2, 3});
  write_npy(tmp / "a.npy", a);
  EXPECT_EQ(read_npy(tmp / "a.npy").as_i64("a"), (std::vector<std::int64_t>{1, -2, 3}));
}

}  // namespace
}  // namespace tutti::data
