// The VGGish network of the AudioSet release (Hershey et al. 2017, tensorflow/models
// research/audioset/vggish) in LibTorch, with the parameter names of its PyTorch port
// (harritaylor/torchvggish), and the post-processing that made the released 8-bit embeddings.
//
//   auto model = tutti::embed::VggishModel::load("vggish.tutti-embedder");  // import-vggish output
//   std::vector<std::uint8_t> e = model.embed(examples, n);   // [n, 96, 64] log-mel -> [n, 128]
//
// Network ([n, 1, 96, 64] -> [n, 128]): six 3x3 convolutions (64, 128, 256, 256, 512, 512
// channels, stride 1, padding 1, ReLU), 2x2 max-pool after the 1st, 2nd, 4th and 6th;
// [n, 512, 6, 4] is flattened channels-last ([n, 6, 4, 512], as TensorFlow and torchvggish do);
// fully connected 12288 -> 4096 -> 4096 -> 128 with a ReLU after each, the last included (the
// 2018 release applies it). State-dict keys: features.{0,3,6,8,11,13}.{weight,bias},
// embeddings.{0,2,4}.{weight,bias}.
//
// Post-processing (vggish_postprocess.Postprocessor.postprocess): pca_eigen_vectors [128, 128]
// (rows are eigenvectors) times (embedding - pca_means), clipped to [-2, 2], mapped linearly to
// [0, 255], then cast to uint8 by truncation (numpy .astype(np.uint8)). Computed in float64 as
// numpy does with the float64 PCA parameters. (torchvggish rounds instead of truncating; tutti
// follows the TensorFlow release, which produced the AudioSet and OpenMIC features.)
#pragma once

#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tutti::embed {

inline constexpr std::int64_t kVggishFrames = 96;
inline constexpr std::int64_t kVggishBands = 64;
inline constexpr std::int64_t kVggishDim = 128;
inline constexpr std::int64_t kVggishFlat = 512 * 6 * 4;  // flattened output of the convolutions
inline constexpr double kVggishQuantizeMin = -2.0;
inline constexpr double kVggishQuantizeMax = 2.0;

struct VggishNetImpl : torch::nn::Module {
  VggishNetImpl();
  // [n, 1, 96, 64] (or [n, 96, 64]) float log-mel -> [n, 128] embeddings (after the last ReLU).
  torch::Tensor forward(torch::Tensor x);

  torch::nn::Sequential features{nullptr};
  torch::nn::Sequential embeddings{nullptr};
};
TORCH_MODULE(VggishNet);

// The torchvggish state-dict keys with their shapes, in the module's order.
std::vector<std::pair<std::string, std::vector<std::int64_t>>> vggish_state_dict_shapes();

struct VggishPca {
  std::vector<double> eigen_vectors;  // [128, 128] row-major, rows are eigenvectors
  std::vector<double> means;          // [128]
};

// PCA, clip and scale of embeddings [n, 128]: the floats just before the uint8 cast, [n, 128]
// in [0, 255].
std::vector<double> vggish_pca_scaled(const VggishPca& pca, std::span<const float> embeddings,
                                      std::size_t n);
// The uint8 cast of vggish_pca_scaled's output (truncation toward zero, as .astype(np.uint8)).
std::vector<std::uint8_t> vggish_quantize(std::span<const double> scaled);

// Network + PCA, loaded from a .tutti-embedder file. Const methods are thread-safe: inference
// reads tensors that nothing mutates, under NoGradGuard.
//
// Inference does not run the VggishNet module: the convolution weights are reordered once into
// oneDNN's blocked layout and the activations stay in it from the first convolution to the last
// pool (one reorder in, one out), instead of LibTorch's default path, which reorders weights and
// activations around every convolution. Same oneDNN kernels, so the same floats (the tests hold
// them to PyTorch's eager output).
class VggishModel {
 public:
  // Takes the module's parameters.
  VggishModel(VggishNet net, VggishPca pca);
  // Parameters by torchvggish state-dict key (every key of vggish_state_dict_shapes(), float32,
  // contiguous). They may view memory that `keep_alive` owns (a read-only file mapping,
  // `mapped`): the fully connected weights are used in place, the convolution weights are copied
  // (reordered). Pages of `mapped` that the model has read are given back to the page cache
  // (madvise MADV_DONTNEED) so that the process holds only the weights in use.
  VggishModel(const std::map<std::string, torch::Tensor>& params, VggishPca pca,
              std::shared_ptr<const void> keep_alive = {}, std::span<const std::byte> mapped = {});
  // Throws tutti::Error naming the file for anything but a valid tutti-embedder file of "vggish"
  // (format version 1, a torch::save archive, or 2, raw float32 tensors read by mapping the file).
  static VggishModel load(const std::filesystem::path& file);

  // examples [n, 96, 64] -> [n, 128] float embeddings (before PCA): the convolutions in passes
  // of batch_size examples, the fully connected layers on all n at once, in windows of weight
  // rows spread over `parallel` threads.
  std::vector<float> raw_embeddings(std::span<const float> examples, std::size_t n) const;
  // examples [n, 96, 64] -> [n, 128] uint8, the released form.
  std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const;

  const VggishPca& pca() const { return pca_; }
  // Examples per convolution pass (bounds memory: ~3 MB per example). 8 or 16 run faster per
  // example than 32 or 64 on this network (the activations of a pass stay in cache); 8 holds
  // half the memory of 16.
  std::size_t batch_size = 8;
  // One call's passes and its windows of fully connected weights run on this many threads (each
  // with LibTorch's intra-op threads). On 2 cores, two single-threaded passes outrun one 2-thread
  // pass: the convolutions scale with the batch split but not as well within one pass
  // (bench/bench_vggish, BM_VggishSplit; docs/benchmarks.md). The fully connected layers read
  // their 270 MB of weights once per call: callers give many examples per call.
  int parallel = 1;

 private:
  // [b, 1, 96, 64] float -> [b, 12288], the convolutions' output flattened channels-last.
  torch::Tensor forward_features(const torch::Tensor& x) const;
  // Gives the whole pages of [p, p + bytes) back to the page cache when they lie in the mapped
  // file (no-op for weights the model owns).
  void release_pages(const void* p, std::size_t bytes) const;

  std::vector<torch::Tensor> conv_w_, conv_b_;  // 6 layers, oneDNN layout
  std::vector<torch::Tensor> fc_w_, fc_b_;      // 3 layers, dense [out, in], [out]
  VggishPca pca_;
  std::shared_ptr<const void> keep_alive_;
  std::span<const std::byte> mapped_;
};

}  // namespace tutti::embed
