#include "tutti/embed/embedder.h"

#include <cstdlib>

#include "tutti/core/error.h"
#include "tutti/embed/cnn_embedder.h"
#include "tutti/features/logmel_stats.h"

namespace tutti::embed {
namespace {

constexpr std::size_t kFrames = 96;
constexpr std::size_t kBands = 64;

class LogMelStatsEmbedder final : public Embedder {
 public:
  const EmbedderInfo& info() const override { return info_; }
  std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const override {
    if (n == 0) return {};
    return features::logmel_stats(examples, n, kFrames, kBands);
  }

 private:
  EmbedderInfo info_{.name = "logmel-stats", .dim = 2 * kBands, .source = ""};
};

}  // namespace

std::vector<std::string> embedder_names() { return {"vggish", "logmel-stats"}; }

std::filesystem::path default_vggish_file() {
  if (const char* env = std::getenv("TUTTI_VGGISH"); env != nullptr && *env != '\0') return env;
  std::filesystem::path base;
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    base = xdg;
  } else if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    base = std::filesystem::path(home) / ".local" / "share";
  } else {
    base = ".";
  }
  return base / "tutti" / "vggish.tutti-embedder";
}

std::unique_ptr<Embedder> make_embedder(const std::string& name, const EmbedderOptions& options) {
  if (is_embedder_file_name(name)) return load_embedder_file(name, options);
  if (name == "logmel-stats") return std::make_unique<LogMelStatsEmbedder>();
  if (name == "vggish") {
    const auto file = options.vggish_file.empty() ? default_vggish_file() : options.vggish_file;
    check(std::filesystem::exists(file),
          "embedder vggish: no weights at {} (the VGGish weights cannot be downloaded by tutti: "
          "get vggish-10086976.pth and vggish_pca_params-970ea276.pth from the torchvggish "
          "release, or vggish_pca_params.npz from tensorflow/models, then run `tutti models "
          "import-vggish --weights vggish-10086976.pth --pca vggish_pca_params-970ea276.pth -o "
          "{}` or pass --vggish FILE)",
          file.string(), default_vggish_file().string());
    return load_vggish_embedder(file, options.threads, options.parallel);
  }
  throw UsageError(fmt::format(
      "embedder '{}': unknown (known: vggish, logmel-stats, or a FILE.tutti-embedder)", name));
}

std::unique_ptr<Embedder> load_embedder_file(const std::filesystem::path& file,
                                             const EmbedderOptions& options) {
  const EmbedderFileMeta meta = read_embedder_meta(file);
  if (meta.name == "vggish") return load_vggish_embedder(file, options.threads, options.parallel);
  if (meta.name == kCnnEmbedderName)
    return load_cnn_embedder(file, options.threads, options.parallel);
  fail("embedder: {}: holds embedder '{}', which this tutti does not know (known: vggish, {})",
       file.string(), meta.name, kCnnEmbedderName);
}

}  // namespace tutti::embed
