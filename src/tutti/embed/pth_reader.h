// Reading PyTorch state-dict files (`torch.save(module.state_dict(), "x.pth")`) without Python.
//
//   auto t = tutti::embed::read_pth_tensors("vggish-10086976.pth");   // {"features.0.weight": ...}
//   std::vector<float> w = t.at("features.0.weight").to_f32();         // C order
//
// Why not torch::pickle_load: LibTorch 1.13's unpickler turns the OrderedDict that every
// state_dict() is into None (pytorch/pytorch#100741, fixed only in 2024) and does not read the
// pre-1.6 ("legacy") file format in which older releases such as torchvggish's were saved.
//
// Both formats are read: the zip format of PyTorch >= 1.6 (<name>/data.pkl + <name>/data/<key>)
// and the legacy format (magic-number pickle, protocol, sys_info, the object, the storage keys,
// then each storage as int64 element count + raw bytes). The object pickle is interpreted by a
// small reader that executes no code and imports nothing: it knows exactly the globals a state
// dict needs (collections.OrderedDict, torch._utils._rebuild_tensor[_v2], _rebuild_parameter,
// torch.<Type>Storage) and refuses any other. Tensor views (storage offset, strides, storages
// shared between entries) are resolved into C-contiguous copies. Every size, offset and stride is
// checked against the storage it refers to before any copy. Torch-free.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace tutti::embed {

struct PthTensor {
  std::string dtype;                // "float32", "float64", "float16", "int64", "int32", "uint8", ...
  std::vector<std::int64_t> shape;  // empty = scalar
  std::vector<std::uint8_t> data;   // C-contiguous, little-endian, numel() * itemsize bytes

  std::int64_t numel() const;
  std::string shape_str() const;  // "(128, 128)", as PyTorch/numpy print shapes
  // Copies converted to float / double; throw tutti::Error naming `what` unless the dtype is
  // float32 or float64.
  std::vector<float> to_f32(const std::string& what) const;
  std::vector<double> to_f64(const std::string& what) const;
};

// The top-level string -> tensor entries of a dict saved with torch.save (OrderedDict or dict;
// entries whose value is not a tensor are skipped). Throws tutti::Error "<file>: <problem>" for a
// missing or unreadable file, a file that is not a torch.save file, a pickle that is not a dict,
// unsupported globals or dtypes, and storages too small for the tensors that use them.
std::map<std::string, PthTensor> read_pth_tensors(const std::filesystem::path& file);

}  // namespace tutti::embed
