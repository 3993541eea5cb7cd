// `tutti models import-vggish`: the released VGGish weights -> one .tutti-embedder file.
//
//   tutti::embed::VggishImportOptions o;
//   o.weights = "vggish-10086976.pth";              // torchvggish state dict (zip or legacy)
//   o.pca = "vggish_pca_params-970ea276.pth";       // or tensorflow/models' vggish_pca_params.npz
//   o.output = "vggish.tutti-embedder";
//   tutti::embed::import_vggish(o);
//
// The .tutti-embedder file (written atomically), version 2: raw tensors that the loader maps
// into memory and uses in place (loading costs no copy of the 289 MB of weights):
//   bytes 0-7     "TUTTIEMB"
//   bytes 8-15    M, the length of the JSON header (unsigned 64-bit little-endian)
//   M bytes       meta.json: {"format": "tutti-embedder", "version": 2, "name": "vggish",
//                 "dim": 128, "sources": {"weights": {file, bytes, sha256, md5}, "pca": {...}},
//                 "tutti_version": ..., "data_offset": D,
//                 "tensors": [{"name", "dtype" ("float32" | "float64"), "shape", "offset"}]}
//   zero bytes up to D (a multiple of 4096)
//   tensor data   each tensor little-endian, row-major, at D + offset (offsets multiples of 64):
//                 the module's parameters (torchvggish names, float32) and the float64
//                 pca_eigen_vectors [128, 128] and pca_means [128].
// Version 1 (still read): a zip with meta.json (as above, without data_offset and tensors) and
// vggish.pt, a torch::save archive of the same tensors.
// Torch-free header.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "tutti/core/json.h"

namespace tutti::embed {

inline constexpr std::string_view kEmbedderFormat = "tutti-embedder";
inline constexpr int kEmbedderFormatVersion = 2;                // written; version 1 is still read
inline constexpr std::string_view kEmbedderMagic = "TUTTIEMB";  // a version 2 file's first bytes

// The TensorFlow release's vggish_pca_params.npz (storage.googleapis.com/audioset/).
inline constexpr std::string_view kVggishPcaNpzSha256 =
    "4d878af3e306defbfb37095365aa7e5a6cecb86bad13e859e626151c4e6a8b9d";
inline constexpr std::uint64_t kVggishPcaNpzBytes = 73020;

struct VggishImportOptions {
  std::filesystem::path weights;  // .pth state dict with the torchvggish keys
  std::filesystem::path pca;      // .pth (pca_eigen_vectors, pca_means) or the release's .npz
  std::filesystem::path output;   // the .tutti-embedder file to write
  // Expected sha256 of an .npz PCA file; tests pass the hash of a generated file.
  std::string npz_sha256 = std::string(kVggishPcaNpzSha256);
  void validate() const;  // UsageError for empty paths
};

// Reads, checks (every key, every shape, finite values) and writes; returns meta.json's content.
// Throws tutti::Error "vggish import: <file>: <problem>" naming the key for a missing key or a
// wrong shape, and refusing an .npz whose sha256 is not npz_sha256.
core::Json import_vggish(const VggishImportOptions& options);

struct EmbedderFileHeader {
  core::Json meta;
  bool zip = false;  // a version 1 zip (else the version 2 layout)
};
// meta.json of a .tutti-embedder file of either layout (a version 1 zip of any embedder, or the
// version 2 raw-tensor file), unchecked beyond being a JSON object. Throws tutti::Error
// "embedder: <file>: <problem>" for a missing file, a file that is neither layout, a truncated
// header or invalid JSON.
EmbedderFileHeader read_embedder_header(const std::filesystem::path& file);

// Lower-case hex SHA-256 of a file (streamed).
std::string sha256_file_hex(const std::filesystem::path& file);

}  // namespace tutti::embed
