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

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace tutti::embed {

inline constexpr std::int64_t kVggishFrames = 96;
inline constexpr std::int64_t kVggishBands = 64;
inline constexpr std::int64_t kVggishDim = 128;
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
// runs under NoGradGuard on a module in eval mode that nothing mutates.
class VggishModel {
 public:
  VggishModel(VggishNet net, VggishPca pca);
  // Throws tutti::Error naming the file for anything but a valid tutti-embedder file of "vggish".
  static VggishModel load(const std::filesystem::path& file);

  // examples [n, 96, 64] -> [n, 128] float embeddings (before PCA), in batches of batch_size.
  std::vector<float> raw_embeddings(std::span<const float> examples, std::size_t n) const;
  // examples [n, 96, 64] -> [n, 128] uint8, the released form.
  std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const;

  const VggishPca& pca() const { return pca_; }
  VggishNet& net() { return net_; }
  std::size_t batch_size = 32;  // examples per forward pass (bounds memory: ~2 MB per example)
  // One call's examples are split into this many slices run at once on their own threads (each
  // a forward pass with LibTorch's intra-op threads). On 2 cores, two single-threaded passes of
  // 16 examples outrun one 2-thread pass of 32: the convolutions scale with the batch split but
  // not as well within one pass (bench/bench_vggish, BM_VggishSplit; docs/benchmarks.md).
  int parallel = 1;

 private:
  VggishNet net_;
  VggishPca pca_;
};

}  // namespace tutti::embed
