// Replaced by the VGGish network (lane: vggish). Until then the weights file cannot be loaded.
#include "tutti/core/error.h"
#include "tutti/embed/embedder.h"

namespace tutti::embed {

std::unique_ptr<Embedder> load_vggish_embedder(const std::filesystem::path& file, int /*threads*/) {
  fail("embedder vggish: {}: the VGGish network is not built into this tutti", file.string());
}

}  // namespace tutti::embed
