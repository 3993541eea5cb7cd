// Import of the released VGGish weights (see vggish_import.h).
#include "tutti/embed/vggish_import.h"

#include <openssl/evp.h>
#include <torch/torch.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/zip.h"
#include "tutti/data/npz.h"
#include "tutti/embed/pth_reader.h"
#include "tutti/embed/vggish.h"

namespace tutti::embed {
namespace {

std::string shape_str(const std::vector<std::int64_t>& shape) {
  PthTensor t;
  t.shape = shape;
  return t.shape_str();
}

void check_finite(const std::vector<double>& v, const std::string& what) {
  for (double x : v) check(std::isfinite(x), "{}: holds a non-finite value ({})", what, x);
}

// pca_means may be [128] or the column vector [128, 1] (vggish_postprocess reshapes to (-1, 1)).
bool means_shape_ok(const std::vector<std::int64_t>& s) {
  return (s.size() == 1 && s[0] == kVggishDim) ||
         (s.size() == 2 && s[0] == kVggishDim && s[1] == 1);
}

VggishPca pca_from_npz(const std::filesystem::path& file, const std::string& expected_sha256) {
  const std::string what = "vggish import: " + file.string();
  const auto bytes = std::filesystem::file_size(file);
  const std::string sha = sha256_file_hex(file);
  check(sha == expected_sha256,
        "{}: not the released vggish_pca_params.npz (sha256 {}, {} bytes; the release has sha256 "
        "{}, {} bytes). Use the file from https://storage.googleapis.com/audioset/"
        "vggish_pca_params.npz, or torchvggish's vggish_pca_params-970ea276.pth",
        what, sha, bytes, expected_sha256, kVggishPcaNpzBytes);
  const auto arrays = data::read_npz(file);
  VggishPca pca;
  auto get = [&](const std::string& key, bool means) {
    auto it = arrays.find(key);
    check(it != arrays.end(), "{}: array '{}' is missing", what, key);
    const auto& a = it->second;
    const bool shape_ok = means ? means_shape_ok(a.shape)
                                : a.shape == std::vector<std::int64_t>{kVggishDim, kVggishDim};
    check(shape_ok, "{}: array '{}' has shape {}, expected {}", what, key, a.shape_str(),
          means ? "(128,) or (128, 1)" : "(128, 128)");
    std::vector<double> v(static_cast<std::size_t>(a.numel()));
    if (a.descr == "<f8") {
      std::memcpy(v.data(), a.data.data(), v.size() * 8);
    } else {
      const auto f = a.as_f32(what + ": array '" + key + "'");
      v.assign(f.begin(), f.end());
    }
    check_finite(v, what + ": array '" + key + "'");
    return v;
  };
  pca.eigen_vectors = get("pca_eigen_vectors", false);
  pca.means = get("pca_means", true);
  return pca;
}

VggishPca pca_from_pth(const std::filesystem::path& file) {
  const std::string what = "vggish import: " + file.string();
  std::map<std::string, PthTensor> t;
  try {
    t = read_pth_tensors(file);
  } catch (const Error& e) {
    fail("vggish import: {}", e.what());
  }
  VggishPca pca;
  auto get = [&](const std::string& key, bool means) {
    auto it = t.find(key);
    check(it != t.end(), "{}: key '{}' is missing", what, key);
    const auto& a = it->second;
    const bool shape_ok = means ? means_shape_ok(a.shape)
                                : a.shape == std::vector<std::int64_t>{kVggishDim, kVggishDim};
    check(shape_ok, "{}: key '{}' has shape {}, expected {}", what, key, a.shape_str(),
          means ? "(128,) or (128, 1)" : "(128, 128)");
    auto v = a.to_f64(what + ": key '" + key + "'");
    check_finite(v, what + ": key '" + key + "'");
    return v;
  };
  pca.eigen_vectors = get("pca_eigen_vectors", false);
  pca.means = get("pca_means", true);
  return pca;
}

VggishNet net_from_pth(const std::filesystem::path& file) {
  const std::string what = "vggish import: " + file.string();
  std::map<std::string, PthTensor> t;
  try {
    t = read_pth_tensors(file);
  } catch (const Error& e) {
    fail("vggish import: {}", e.what());
  }
  VggishNet net;
  torch::NoGradGuard no_grad;
  for (auto& p : net->named_parameters()) {
    const std::string& key = p.key();
    auto it = t.find(key);
    check(it != t.end(), "{}: key '{}' is missing (not a torchvggish VGGish state dict?)", what,
          key);
    const auto expected = p.value().sizes().vec();
    check(it->second.shape == expected, "{}: key '{}' has shape {}, expected {}", what, key,
          it->second.shape_str(), shape_str(expected));
    const auto v = it->second.to_f32(what + ": key '" + key + "'");
    for (float x : v) check(std::isfinite(x), "{}: key '{}' holds a non-finite value", what, key);
    std::memcpy(p.value().data_ptr<float>(), v.data(), v.size() * sizeof(float));
    t.erase(it);  // free as we go: the full weights are 288 MB
  }
  return net;
}

core::Json source_json(const std::filesystem::path& file) {
  return {{"file", file.filename().string()},
          {"bytes", std::filesystem::file_size(file)},
          {"sha256", sha256_file_hex(file)},
          {"md5", core::md5_file_hex(file)}};
}

constexpr std::uint64_t kTensorAlign = 64;  // offsets of tensors in the data block
constexpr std::uint64_t kDataAlign = 4096;  // the data block starts on a page

std::uint64_t round_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

// Writes the version 2 layout (vggish_import.h); fills meta's data_offset and tensors.
void write_embedder_file(const std::filesystem::path& out, core::Json& meta,
                         const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  static_assert(std::endian::native == std::endian::little, "the file stores little-endian data");
  core::Json list = core::Json::array();
  std::uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check(t.scalar_type() == torch::kFloat32 || t.scalar_type() == torch::kFloat64,
          "embedder file: tensor {} is neither float32 nor float64", name);
    offset = round_up(offset, kTensorAlign);
    list.push_back({{"name", name},
                    {"dtype", t.scalar_type() == torch::kFloat32 ? "float32" : "float64"},
                    {"shape", t.sizes().vec()},
                    {"offset", offset}});
    offset += t.nbytes();
  }
  meta["tensors"] = list;
  // The header holds the data offset it precedes: grow the offset until the header fits.
  std::string text;
  for (std::uint64_t data = kDataAlign;; data += kDataAlign) {
    meta["data_offset"] = data;
    text = meta.dump(2) + "\n";
    if (16 + text.size() <= data) break;
  }
  const auto data_offset = meta["data_offset"].get<std::uint64_t>();
  core::AtomicFile file(out);
  {
    std::ofstream os(file.temp_path(), std::ios::binary);
    check(static_cast<bool>(os), "embedder file: {}: cannot write", out.string());
    const std::uint64_t m = text.size();
    os.write(kEmbedderMagic.data(), static_cast<std::streamsize>(kEmbedderMagic.size()));
    os.write(reinterpret_cast<const char*>(&m), sizeof m);
    os.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::uint64_t at = 16 + text.size();
    const std::vector<char> zeros(kDataAlign, 0);
    auto pad_to = [&](std::uint64_t to) {
      os.write(zeros.data(), static_cast<std::streamsize>(to - at));
      at = to;
    };
    pad_to(data_offset);
    for (std::size_t j = 0; j < tensors.size(); ++j) {
      pad_to(data_offset + list[j]["offset"].get<std::uint64_t>());
      const auto& t = tensors[j].second;
      os.write(static_cast<const char*>(t.data_ptr()), static_cast<std::streamsize>(t.nbytes()));
      at += t.nbytes();
    }
    os.flush();
    check(static_cast<bool>(os), "embedder file: {}: write failed (disk full?)", out.string());
  }
  file.commit();
}

}  // namespace

void VggishImportOptions::validate() const {
  check<UsageError>(!weights.empty(), "vggish import: --weights FILE.pth is required");
  check<UsageError>(!pca.empty(), "vggish import: --pca FILE(.pth|.npz) is required");
  check<UsageError>(!output.empty(), "vggish import: an output file is required");
}

EmbedderFileHeader read_embedder_header(const std::filesystem::path& file) {
  const std::string what = file.string();
  std::ifstream in(file, std::ios::binary);
  check(static_cast<bool>(in), "embedder: {}: no such file or not readable", what);
  char magic[8] = {};
  in.read(magic, sizeof magic);
  EmbedderFileHeader h;
  std::string text;
  if (in.gcount() == 8 && std::string_view(magic, 8) == kEmbedderMagic) {
    std::uint64_t m = 0;
    in.read(reinterpret_cast<char*>(&m), sizeof m);
    const auto size = std::filesystem::file_size(file);
    check(in.gcount() == 8 && m <= size - 16 && m <= (std::uint64_t{1} << 24),
          "embedder: {}: truncated or corrupt header (header length {})", what, m);
    text.resize(m);
    in.read(text.data(), static_cast<std::streamsize>(m));
    check(static_cast<std::uint64_t>(in.gcount()) == m, "embedder: {}: truncated header", what);
  } else {
    h.zip = true;
    try {
      core::ZipReader zip(file);
      check(zip.contains("meta.json"), "embedder: {}: not a .tutti-embedder file (no meta.json)",
            what);
      const auto b = zip.read("meta.json");
      text.assign(b.begin(), b.end());
    } catch (const Error& e) {
      const std::string msg = e.what();
      if (msg.rfind("embedder: ", 0) == 0) throw;
      fail("embedder: {}: not a .tutti-embedder file ({})", what, msg);
    }
  }
  try {
    h.meta = core::Json::parse(text);
  } catch (const std::exception& e) {
    fail("embedder: {}: meta.json is not valid JSON: {}", what, e.what());
  }
  check(h.meta.is_object(), "embedder: {}: meta.json is not a JSON object", what);
  return h;
}

std::string sha256_file_hex(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  check(static_cast<bool>(in), "{}: cannot open", file.string());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  check(ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1, "sha256: init failed");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0)
      EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<std::size_t>(in.gcount()));
  }
  check(in.eof(), "{}: read error", file.string());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int j = 0; j < len; ++j) {
    out += hex[md[j] >> 4];
    out += hex[md[j] & 15];
  }
  return out;
}

core::Json import_vggish(const VggishImportOptions& options) {
  options.validate();
  for (const auto& f : {options.weights, options.pca}) {
    check(std::filesystem::exists(f), "vggish import: {}: no such file", f.string());
    check(std::filesystem::is_regular_file(f), "vggish import: {}: not a regular file", f.string());
  }
  const bool npz = options.pca.extension() == ".npz";
  const VggishPca pca =
      npz ? pca_from_npz(options.pca, options.npz_sha256) : pca_from_pth(options.pca);
  VggishNet net = net_from_pth(options.weights);

  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& p : net->named_parameters())
    tensors.emplace_back(p.key(), p.value().detach().contiguous());
  tensors.emplace_back(
      "pca_eigen_vectors",
      torch::tensor(pca.eigen_vectors, torch::kFloat64).view({kVggishDim, kVggishDim}));
  tensors.emplace_back("pca_means", torch::tensor(pca.means, torch::kFloat64));

  core::Json meta = {
      {"format", std::string(kEmbedderFormat)},
      {"version", kEmbedderFormatVersion},
      {"name", "vggish"},
      {"dim", kVggishDim},
      {"pca_format", npz ? "npz" : "pth"},
      {"sources", {{"weights", source_json(options.weights)}, {"pca", source_json(options.pca)}}},
      {"tutti_version", TUTTI_VERSION}};
  write_embedder_file(options.output, meta, tensors);
  return meta;
}

}  // namespace tutti::embed
