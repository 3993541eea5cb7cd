// NumPy .npy arrays and .npz archives (numpy.save / numpy.savez format, versions 1.0-3.0).
//
// Supported dtypes are exactly the ones numpy writes for tutti's arrays: '|u1', '<f4', '<f8',
// '|b1', '<i4', '<i8', '<U<n>' (UTF-32LE fixed width), C order. Anything else (Fortran order,
// big-endian, object arrays, pickles) is rejected with a message naming the array and the dtype.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tutti::data {

struct NpyArray {
  std::string descr;                // numpy dtype string, e.g. "<f4", "|u1", "<U12"
  std::vector<std::int64_t> shape;  // C order
  std::vector<std::uint8_t> data;   // raw little-endian payload, product(shape) * itemsize bytes

  std::int64_t numel() const;
  std::size_t itemsize() const;

  // Typed copies; throw tutti::Error naming `what` when the dtype does not match.
  std::vector<std::uint8_t> as_u8(const std::string& what) const;     // '|u1' or '|b1'
  std::vector<float> as_f32(const std::string& what) const;           // '<f4' or '<f8'
  std::vector<std::int64_t> as_i64(const std::string& what) const;    // '<i4' or '<i8'
  std::vector<std::string> as_strings(const std::string& what) const; // '<U*' -> UTF-8

  static NpyArray from_u8(std::vector<std::int64_t> shape, const std::vector<std::uint8_t>& v,
                          bool as_bool = false);
  static NpyArray from_f32(std::vector<std::int64_t> shape, const std::vector<float>& v);
  static NpyArray from_i32(std::vector<std::int64_t> shape, const std::vector<std::int32_t>& v);
  static NpyArray from_i64(std::vector<std::int64_t> shape, const std::vector<std::int64_t>& v);
  static NpyArray from_strings(const std::vector<std::string>& v);  // 1-D '<U<maxlen>'
};

// Parses one .npy byte stream; `what` names it in errors ("<file>:<array>").
NpyArray parse_npy(const std::uint8_t* data, std::size_t size, const std::string& what);
std::vector<std::uint8_t> serialize_npy(const NpyArray& a);

NpyArray read_npy(const std::filesystem::path& path);
void write_npy(const std::filesystem::path& path, const NpyArray& a);  // atomic

// Reads every array of an .npz (stored or deflated entries, zip64). Keys without ".npy".
std::map<std::string, NpyArray> read_npz(const std::filesystem::path& path);
// Writes stored entries atomically.
void write_npz(const std::filesystem::path& path, const std::map<std::string, NpyArray>& arrays);

}  // namespace tutti::data
