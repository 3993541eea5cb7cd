// NumPy .npy arrays and .npz archives (numpy.save / numpy.savez format, versions 1.0-3.0).
//
//   auto arrays = tutti::data::read_npz("bags.npz");          // {"X": NpyArray, ...}
//   std::vector<float> y = arrays.at("Y_true").as_f32("bags.npz: array 'Y_true'");
//   tutti::data::write_npz("out.npz", {{"x", NpyArray::from_f32({2, 3}, values)}});
//
// Supported dtypes are exactly the ones numpy writes for tutti's arrays: '|u1', '<f4', '<f8',
// '|b1', '<i4', '<i8', '<U<n>' (UTF-32LE fixed width), C order. Anything else (Fortran order,
// big-endian, complex, structured dtypes, pickled objects) is rejected with a message naming the
// array and the problem. One exception, for the official openmic-2018.npz (whose sample_key was
// saved as a numpy object array): a '|O' array whose pickle holds nothing but a flat list of str
// is decoded by a small pickle *reader* (no code is executed, no module imported) and returned as
// '<U<n>'. Any other object array is rejected.
//
// Parsing is robust to arbitrary bytes (fuzzed with ASan/UBSan): every size is checked before it
// is used, and no allocation exceeds what the input can justify.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

namespace tutti::data {

struct NpyArray {
  std::string descr;                // numpy dtype string, e.g. "<f4", "|u1", "<U12"
  std::vector<std::int64_t> shape;  // C order; empty = 0-d scalar
  std::vector<std::uint8_t> data;   // raw little-endian payload, product(shape) * itemsize bytes

  std::int64_t numel() const;
  std::size_t itemsize() const;
  // "(5, 20)", as numpy prints shapes.
  std::string shape_str() const;

  // Typed copies; throw tutti::Error naming `what` when the dtype does not match. The rvalue
  // overload of as_u8 moves the payload out instead of copying it (large X arrays).
  std::vector<std::uint8_t> as_u8(const std::string& what) const&;  // '|u1' or '|b1'
  std::vector<std::uint8_t> as_u8(const std::string& what) &&;
  std::vector<float> as_f32(const std::string& what) const;            // '<f4' or '<f8'
  std::vector<std::int64_t> as_i64(const std::string& what) const;     // '<i4' or '<i8'
  std::vector<std::string> as_strings(const std::string& what) const;  // '<U*' -> UTF-8

  static NpyArray from_u8(std::vector<std::int64_t> shape, const std::vector<std::uint8_t>& v,
                          bool as_bool = false);
  static NpyArray from_f32(std::vector<std::int64_t> shape, const std::vector<float>& v);
  static NpyArray from_f64(std::vector<std::int64_t> shape, const std::vector<double>& v);
  static NpyArray from_i32(std::vector<std::int64_t> shape, const std::vector<std::int32_t>& v);
  static NpyArray from_i64(std::vector<std::int64_t> shape, const std::vector<std::int64_t>& v);
  // 1-D '<U<maxlen>' (maxlen in code points, at least 1). Throws on invalid UTF-8.
  static NpyArray from_strings(const std::vector<std::string>& v);
};

// Parses one .npy byte stream; `what` names it in errors (e.g. "<file>: array 'X'").
NpyArray parse_npy(const std::uint8_t* data, std::size_t size, const std::string& what);
// Same, reusing the buffer for the payload (no copy of large arrays).
NpyArray parse_npy(std::vector<std::uint8_t>&& bytes, const std::string& what);
// A borrowed view of one .npy stream's payload, without a copy (memory-mapped shards, shards.h).
struct NpyView {
  std::string descr;
  std::vector<std::int64_t> shape;
  const std::uint8_t* data = nullptr;  // payload, product(shape) * itemsize bytes
  std::size_t bytes = 0;
};
// Checks the header of the .npy bytes [data, data + size) as parse_npy does and points at the
// payload. Object arrays are refused (their payload is a pickle to decode: use parse_npy).
NpyView view_npy(const std::uint8_t* data, std::size_t size, const std::string& what);
// Version 1.0 (2.0 when the header needs it), header padded to 64 bytes as numpy does.
std::vector<std::uint8_t> serialize_npy(const NpyArray& a);

NpyArray read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& a);  // atomic

inline constexpr std::uint64_t kNoSizeLimit = std::numeric_limits<std::uint64_t>::max();

// Reads every array of an .npz (stored or deflated entries, zip64). Keys without ".npy"; entries
// not ending in ".npy" are ignored, as numpy lists them but tutti has no use for them. An entry
// whose uncompressed size exceeds `max_entry_bytes`, or whose sizes break core::ZipLimits (a zip
// bomb or corrupt directory), is refused before allocating.
std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path,
                                         std::uint64_t max_entry_bytes = kNoSizeLimit);
// Writes stored entries atomically.
void write_npz(const std::filesystem::path& path, const std::map<std::string, NpyArray>& arrays);

}  // namespace tutti::data
