// VGGish network, post-processing and .tutti-embedder loading. References:
// tensorflow/models research/audioset/vggish/{vggish_slim.py, vggish_postprocess.py},
// harritaylor/torchvggish torchvggish/vggish.py (layer order, parameter names, flatten order).
#include "tutti/embed/vggish.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <functional>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/core/work_pool.h"
#include "tutti/core/zip.h"
#include "tutti/embed/vggish_import.h"

namespace tutti::embed {
namespace {

namespace nn = torch::nn;

constexpr const char* kConvKeys[] = {"features.0", "features.3",  "features.6",
                                     "features.8", "features.11", "features.13"};
constexpr const char* kFcKeys[] = {"embeddings.0", "embeddings.2", "embeddings.4"};
// The convolutions after which a 2x2 max-pool follows (make_features()).
constexpr bool kPoolAfter[] = {true, true, false, true, false, true};

// In place, as torchvggish's ReLU(inplace=True): a new [32, 64, 96, 64] activation per layer
// (50 MB) would cost an allocation and its page faults on every forward pass.
nn::ReLU relu_inplace() { return nn::ReLU(nn::ReLUOptions().inplace(true)); }

// torchvggish make_layers(): [64, M, 128, M, 256, 256, M, 512, 512, M]; conv indices 0, 3, 6, 8,
// 11, 13 in the Sequential, as in the state dict.
nn::Sequential make_features() {
  nn::Sequential s;
  std::int64_t in = 1;
  const std::int64_t M = -1;
  for (std::int64_t v : {std::int64_t{64}, M, std::int64_t{128}, M, std::int64_t{256},
                         std::int64_t{256}, M, std::int64_t{512}, std::int64_t{512}, M}) {
    if (v == M) {
      s->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    } else {
      s->push_back(nn::Conv2d(nn::Conv2dOptions(in, v, 3).stride(1).padding(1)));
      s->push_back(relu_inplace());
      in = v;
    }
  }
  return s;
}

}  // namespace

VggishNetImpl::VggishNetImpl() {
  features = register_module("features", make_features());
  embeddings =
      register_module("embeddings", nn::Sequential(nn::Linear(kVggishFlat, 4096), relu_inplace(),
                                                   nn::Linear(4096, 4096), relu_inplace(),
                                                   nn::Linear(4096, kVggishDim), relu_inplace()));
}

torch::Tensor VggishNetImpl::forward(torch::Tensor x) {
  if (x.dim() == 3) x = x.unsqueeze(1);                 // [n, 96, 64] -> [n, 1, 96, 64]
  x = features->forward(x);                             // -> [n, 512, 6, 4]
  x = x.permute({0, 2, 3, 1}).contiguous();             // channels-last: [n, 6, 4, 512]
  return embeddings->forward(x.view({x.size(0), -1}));  // [n, 12288] -> [n, 128]
}

std::vector<std::pair<std::string, std::vector<std::int64_t>>> vggish_state_dict_shapes() {
  // Derived from the layer table, not by building a VggishNet: that would initialize 289 MB of
  // random weights on every load (the test checks this table against the module).
  static const auto shapes = [] {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> out;
    const std::int64_t channels[] = {64, 128, 256, 256, 512, 512};
    std::int64_t in = 1;
    for (std::size_t l = 0; l < std::size(kConvKeys); ++l) {
      out.emplace_back(std::string(kConvKeys[l]) + ".weight",
                       std::vector<std::int64_t>{channels[l], in, 3, 3});
      out.emplace_back(std::string(kConvKeys[l]) + ".bias", std::vector<std::int64_t>{channels[l]});
      in = channels[l];
    }
    const std::int64_t fc[][2] = {{4096, kVggishFlat}, {4096, 4096}, {kVggishDim, 4096}};
    for (std::size_t l = 0; l < std::size(kFcKeys); ++l) {
      out.emplace_back(std::string(kFcKeys[l]) + ".weight",
                       std::vector<std::int64_t>{fc[l][0], fc[l][1]});
      out.emplace_back(std::string(kFcKeys[l]) + ".bias", std::vector<std::int64_t>{fc[l][0]});
    }
    return out;
  }();
  return shapes;
}

std::vector<double> vggish_pca_scaled(const VggishPca& pca, std::span<const float> embeddings,
                                      std::size_t n) {
  const std::size_t d = static_cast<std::size_t>(kVggishDim);
  check(embeddings.size() == n * d, "vggish: {} embedding values for {} examples",
        embeddings.size(), n);
  std::vector<double> out(n * d);
  std::vector<double> centered(d);
  const double scale = 255.0 / (kVggishQuantizeMax - kVggishQuantizeMin);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < d; ++k) centered[k] = embeddings[i * d + k] - pca.means[k];
    for (std::size_t r = 0; r < d; ++r) {
      const double* row = pca.eigen_vectors.data() + r * d;
      double acc = 0;
      for (std::size_t k = 0; k < d; ++k) acc += row[k] * centered[k];
      const double clipped = std::clamp(acc, kVggishQuantizeMin, kVggishQuantizeMax);
      out[i * d + r] = (clipped - kVggishQuantizeMin) * scale;
    }
  }
  return out;
}

std::vector<std::uint8_t> vggish_quantize(std::span<const double> scaled) {
  std::vector<std::uint8_t> out(scaled.size());
  for (std::size_t j = 0; j < scaled.size(); ++j)
    out[j] = static_cast<std::uint8_t>(std::clamp(scaled[j], 0.0, 255.0));  // truncates
  return out;
}

namespace {

std::map<std::string, torch::Tensor> parameters_of(const VggishNet& net) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : net->named_parameters()) out.emplace(p.key(), p.value().detach());
  return out;
}

}  // namespace

VggishModel::VggishModel(VggishNet net, VggishPca pca)
    : VggishModel(parameters_of(net), std::move(pca)) {}

VggishModel::VggishModel(const std::map<std::string, torch::Tensor>& params, VggishPca pca,
                         std::shared_ptr<const void> keep_alive, std::span<const std::byte> mapped)
    : pca_(std::move(pca)), keep_alive_(std::move(keep_alive)), mapped_(mapped) {
  torch::NoGradGuard no_grad;
  for (const auto& [key, shape] : vggish_state_dict_shapes()) {
    const auto it = params.find(key);
    check(it != params.end() && it->second.sizes() == torch::IntArrayRef(shape) &&
              it->second.scalar_type() == torch::kFloat32 && it->second.is_contiguous(),
          "embedder vggish: parameter {} is missing or not float32 of its shape", key);
  }
  for (const char* k : kConvKeys) {
    const std::string key(k);
    conv_w_.push_back(at::mkldnn_reorder_conv2d_weight(params.at(key + ".weight").to_mkldnn(),
                                                       {1, 1}, {1, 1}, {1, 1}, 1));
    conv_b_.push_back(params.at(key + ".bias").to_mkldnn());
    const auto& w = params.at(key + ".weight");  // copied: its mapped pages are not read again
    release_pages(w.data_ptr(), w.nbytes());
  }
  for (const char* k : kFcKeys) {
    const std::string key(k);
    fc_w_.push_back(params.at(key + ".weight"));
    fc_b_.push_back(params.at(key + ".bias"));
  }
}

torch::Tensor VggishModel::forward_features(const torch::Tensor& x) const {
  auto y = x.to_mkldnn();  // [b, 1, 96, 64]
  for (std::size_t l = 0; l < conv_w_.size(); ++l) {
    y = at::mkldnn_convolution(y, conv_w_[l], conv_b_[l], {1, 1}, {1, 1}, {1, 1}, 1);
    y = at::relu_(y);
    if (kPoolAfter[l]) y = at::mkldnn_max_pool2d(y, {2, 2}, {2, 2});
  }
  // [b, 512, 6, 4] -> channels-last [b, 6, 4, 512] -> [b, 12288], as TensorFlow and torchvggish
  y = y.to_dense().permute({0, 2, 3, 1}).contiguous();
  return y.view({y.size(0), -1});
}

void VggishModel::release_pages(const void* p, std::size_t bytes) const {
  const auto* begin = static_cast<const std::byte*>(p);
  if (mapped_.empty() || begin < mapped_.data() || begin + bytes > mapped_.data() + mapped_.size())
    return;
  // Whole pages only: a page shared with a neighbour stays (dropping it would only cost a fault).
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto first = (reinterpret_cast<std::uintptr_t>(begin) + page - 1) / page * page;
  const auto last = reinterpret_cast<std::uintptr_t>(begin + bytes) / page * page;
  // A read-only private mapping: the pages go back to the page cache, unchanged, and a later read
  // maps them again.
  if (last > first) ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

namespace {

VggishModel load_v1(const std::filesystem::path& file) {
  const std::string what = file.string();
  core::ZipReader zip(file);
  const auto weights = zip.read("vggish.pt");
  VggishNet net;
  torch::Tensor eig, means;
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(reinterpret_cast<const char*>(weights.data()), weights.size());
    net->load(ar);
    ar.read("pca_eigen_vectors", eig, /*is_buffer=*/true);
    ar.read("pca_means", means, /*is_buffer=*/true);
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    fail("embedder vggish: {}: vggish.pt cannot be loaded: {}", what,
         msg.substr(0, msg.find('\n')));
  }
  check(eig.sizes() == torch::IntArrayRef({kVggishDim, kVggishDim}) &&
            means.sizes() == torch::IntArrayRef({kVggishDim}),
        "embedder vggish: {}: PCA parameters have the wrong shape", what);
  eig = eig.to(torch::kFloat64).contiguous();
  means = means.to(torch::kFloat64).contiguous();
  VggishPca pca;
  pca.eigen_vectors.assign(eig.data_ptr<double>(), eig.data_ptr<double>() + eig.numel());
  pca.means.assign(means.data_ptr<double>(), means.data_ptr<double>() + means.numel());
  return VggishModel(std::move(net), std::move(pca));
}

// Version 2: the file is mapped read-only and the tensors view the mapping, which the model keeps
// alive; pages are read from the page cache as the first forward pass touches them.
VggishModel load_v2(const std::filesystem::path& file, const core::Json& meta) {
  static_assert(std::endian::native == std::endian::little, "the file stores little-endian data");
  const std::string what = file.string();
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  check(fd >= 0, "embedder vggish: {}: cannot open: {}", what, std::strerror(errno));
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  void* base =
      stat_ok && size > 0 ? ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  ::close(fd);  // the mapping stays valid
  check(base != MAP_FAILED, "embedder vggish: {}: cannot map the file: {}", what,
        std::strerror(errno));
  std::shared_ptr<const void> mapping(
      base, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  ::madvise(base, size, MADV_WILLNEED);  // start reading ahead what is not cached yet

  std::map<std::string, torch::Tensor> tensors;
  try {
    const auto data = meta.at("data_offset").get<std::uint64_t>();
    check(data <= size, "embedder vggish: {}: data offset {} beyond the file's {} bytes", what,
          data, size);
    for (const auto& t : meta.at("tensors")) {
      const auto name = t.at("name").get<std::string>();
      const auto dtype = t.at("dtype").get<std::string>();
      const auto shape = t.at("shape").get<std::vector<std::int64_t>>();
      const auto offset = t.at("offset").get<std::uint64_t>();
      check(dtype == "float32" || dtype == "float64",
            "embedder vggish: {}: tensor {} has dtype '{}'", what, name, dtype);
      std::uint64_t bytes = dtype == "float32" ? 4 : 8;
      for (auto d : shape) {
        check(d >= 0 && d <= (std::int64_t{1} << 32),
              "embedder vggish: {}: tensor {} has shape "
              "dimension {}",
              what, name, d);
        bytes *= static_cast<std::uint64_t>(d);
      }
      check(offset % 64 == 0 && offset <= size - data && bytes <= size - data - offset,
            "embedder vggish: {}: tensor {} ({} bytes at {}) lies outside the file's {} bytes "
            "(truncated?)",
            what, name, bytes, data + offset, size);
      // from_blob needs a non-const pointer; nothing writes to the weights.
      tensors[name] = torch::from_blob(static_cast<char*>(base) + data + offset, shape,
                                       dtype == "float32" ? torch::kFloat32 : torch::kFloat64);
    }
  } catch (const core::Json::exception& e) {
    fail("embedder vggish: {}: meta.json lacks or garbles the tensor table: {}", what, e.what());
  }
  for (const auto& [key, shape] : vggish_state_dict_shapes()) {
    const auto it = tensors.find(key);
    check(it != tensors.end(), "embedder vggish: {}: tensor {} is missing", what, key);
    check(it->second.sizes() == torch::IntArrayRef(shape) &&
              it->second.scalar_type() == torch::kFloat32,
          "embedder vggish: {}: tensor {} is not float32 of its shape", what, key);
  }
  auto f64 = [&](const char* key, std::vector<std::int64_t> shape) {
    const auto it = tensors.find(key);
    check(it != tensors.end() && it->second.sizes() == torch::IntArrayRef(shape) &&
              it->second.scalar_type() == torch::kFloat64,
          "embedder vggish: {}: PCA parameters have the wrong shape", what);
    const double* p = it->second.data_ptr<double>();
    return std::vector<double>(p, p + it->second.numel());
  };
  VggishPca pca;
  pca.eigen_vectors = f64("pca_eigen_vectors", {kVggishDim, kVggishDim});
  pca.means = f64("pca_means", {kVggishDim});
  return VggishModel(tensors, std::move(pca), std::move(mapping),
                     {static_cast<const std::byte*>(base), size});
}

}  // namespace

VggishModel VggishModel::load(const std::filesystem::path& file) {
  const std::string what = file.string();
  check(std::filesystem::exists(file), "embedder vggish: {}: no such file", what);
  const auto header = read_embedder_header(file);
  const core::Json& meta = header.meta;
  check(meta.value("format", "") == kEmbedderFormat,
        "embedder vggish: {}: meta.json format is not \"{}\"", what, kEmbedderFormat);
  const int version = meta.value("version", 0);
  check(version == (header.zip ? 1 : 2),
        "embedder vggish: {}: format version {} in a {} (this tutti reads version 1 zip files and "
        "version {} files)",
        what, version, header.zip ? "zip" : "raw tensor file", kEmbedderFormatVersion);
  check(meta.value("name", "") == "vggish", "embedder vggish: {}: holds embedder '{}'", what,
        meta.value("name", ""));
  return header.zip ? load_v1(file) : load_v2(file, meta);
}

std::vector<float> VggishModel::raw_embeddings(std::span<const float> examples,
                                               std::size_t n) const {
  const auto per = static_cast<std::size_t>(kVggishFrames * kVggishBands);
  check(examples.size() == n * per, "embedder vggish: {} values for {} examples of 96 x 64",
        examples.size(), n);
  std::vector<float> out(n * static_cast<std::size_t>(kVggishDim));
  if (n == 0) return out;
  const std::size_t threads = static_cast<std::size_t>(std::max(1, parallel));
  // Runs f(k) for k in [0, count) on up to `threads` threads.
  auto spread = [&](std::size_t count, const std::function<void(std::size_t)>& f) {
    auto run = [&](std::size_t k) {
      torch::NoGradGuard no_grad;  // thread-local: set in every thread
      // OpenMP's thread count is per thread: a new worker would otherwise run LibTorch's kernels
      // on every core, each of the workers, oversubscribing them.
      at::init_num_threads();
      f(k);
    };
    if (threads == 1 || count == 1)
      for (std::size_t k = 0; k < count; ++k) run(k);
    else
      core::parallel_for(count, static_cast<int>(std::min(threads, count)), run);
  };
  // Convolutions in passes of batch_size examples: their activations (1.5 MB per example after
  // the first layer) stay in cache-sized pieces, and the passes spread over the threads.
  const std::size_t batch = std::max<std::size_t>(1, batch_size);
  const std::size_t passes = std::max((n + batch - 1) / batch, std::min(threads, n));
  const std::size_t size = (n + passes - 1) / passes;
  const auto flat = static_cast<std::size_t>(kVggishFlat);
  std::vector<float> features(n * flat);  // [n, 12288]
  spread(passes, [&](std::size_t k) {
    const std::size_t i = k * size;
    if (i >= n) return;
    const std::size_t b = std::min(size, n - i);
    // from_blob needs a non-const pointer; the forward pass only reads the input.
    auto x = torch::from_blob(const_cast<float*>(examples.data() + i * per),
                              {static_cast<std::int64_t>(b), 1, kVggishFrames, kVggishBands},
                              torch::kFloat32);
    auto y = forward_features(x);
    std::copy_n(y.data_ptr<float>(), y.numel(), features.data() + i * flat);
  });
  // Fully connected layers over all rows of the call, in windows of 256 weight rows (12 MB of
  // the first layer) spread over the threads: each window is read once per call, for all the
  // examples (OpenBLAS packs it once), and its mapped pages are then given back, so the process
  // holds a window per thread instead of the 270 MB of weights, whatever the call's size.
  constexpr std::int64_t kWindow = 256;
  auto x = torch::from_blob(features.data(), {static_cast<std::int64_t>(n), kVggishFlat},
                            torch::kFloat32);
  for (std::size_t l = 0; l < fc_w_.size(); ++l) {
    const auto& w = fc_w_[l];  // [out, in]
    const std::int64_t out_rows = w.size(0);
    auto y = torch::empty({static_cast<std::int64_t>(n), out_rows}, torch::kFloat32);
    const auto windows = static_cast<std::size_t>((out_rows + kWindow - 1) / kWindow);
    spread(windows, [&](std::size_t k) {
      const std::int64_t r = static_cast<std::int64_t>(k) * kWindow;
      const std::int64_t rows = std::min(kWindow, out_rows - r);
      const auto wk = w.narrow(0, r, rows);
      auto part = at::linear(x, wk, fc_b_[l].narrow(0, r, rows));
      y.narrow(1, r, rows).copy_(at::relu_(part));
      release_pages(wk.data_ptr(), wk.nbytes());
    });
    x = y;
  }
  std::copy_n(x.data_ptr<float>(), x.numel(), out.data());
  return out;
}

std::vector<std::uint8_t> VggishModel::embed(std::span<const float> examples, std::size_t n) const {
  if (n == 0) return {};
  const auto raw = raw_embeddings(examples, n);
  return vggish_quantize(vggish_pca_scaled(pca_, raw, n));
}

}  // namespace tutti::embed
