// The "vggish" Embedder: a VggishModel loaded from the file `tutti models import-vggish` wrote.
#include <torch/torch.h>

#include <algorithm>

#include "tutti/embed/embedder.h"
#include "tutti/embed/vggish.h"

namespace tutti::embed {
namespace {

class VggishEmbedder final : public Embedder {
 public:
  VggishEmbedder(VggishModel model, const std::filesystem::path& file)
      : model_(std::move(model)),
        info_{.name = "vggish", .dim = kVggishDim, .source = file.string()} {}
  const EmbedderInfo& info() const override { return info_; }
  std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const override {
    return model_.embed(examples, n);
  }

 private:
  VggishModel model_;
  EmbedderInfo info_;
};

}  // namespace

std::unique_ptr<Embedder> load_vggish_embedder(const std::filesystem::path& file, int threads,
                                               int parallel) {
  // LibTorch's intra-op thread pool is process-wide; 0 keeps its default (all cores).
  if (threads > 0) torch::set_num_threads(threads);
  auto model = VggishModel::load(file);
  model.parallel = std::max(1, parallel);
  return std::make_unique<VggishEmbedder>(std::move(model), file);
}

}  // namespace tutti::embed
