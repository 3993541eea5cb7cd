// The logmel-cnn embedder: network, file, and the Embedder over it (cnn_embedder.h).
#include "tutti/embed/cnn_embedder.h"

#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"
#include "tutti/core/zip.h"
#include "tutti/embed/cnn_net.h"
#include "tutti/embed/vggish.h"
#include "tutti/embed/vggish_import.h"

namespace tutti::embed {

namespace nn = torch::nn;

void CnnConfig::validate() const {
  check<UsageError>(!channels.empty() && channels.size() <= 6,
                    "cnn embedder: channels has {} blocks: expected 1 to 6", channels.size());
  for (auto c : channels)
    check<UsageError>(c >= 1 && c <= 1024, "cnn embedder: channels = {}: expected 1..1024", c);
  check<UsageError>(time_pool == 1 || time_pool == 2 || time_pool == 4,
                    "cnn embedder: time_pool = {}: expected 1, 2 or 4", time_pool);
  check<UsageError>(dim >= 1 && dim <= 1024, "cnn embedder: dim = {}: expected 1..1024", dim);
  // Each block halves both axes (floor): the last block needs at least one cell.
  const std::int64_t t = (kVggishFrames / time_pool) >> channels.size();
  const std::int64_t f = kVggishBands >> channels.size();
  check<UsageError>(t >= 1 && f >= 1,
                    "cnn embedder: {} blocks with time_pool {} leave no time-frequency cell of the "
                    "96 x 64 patch",
                    channels.size(), time_pool);
}

core::Json CnnConfig::to_json() const {
  return {{"channels", channels}, {"time_pool", time_pool}, {"dim", dim}};
}

CnnConfig CnnConfig::from_json(const core::Json& j) {
  CnnConfig c;
  check<UsageError>(j.is_object(), "cnn embedder: config is not a JSON object");
  for (const auto& [key, value] : j.items()) {
    if (key == "channels")
      c.channels = value.get<std::vector<std::int64_t>>();
    else if (key == "time_pool")
      c.time_pool = value.get<std::int64_t>();
    else if (key == "dim")
      c.dim = value.get<std::int64_t>();
    else
      fail<UsageError>("cnn embedder: config key '{}' unknown", key);
  }
  c.validate();
  return c;
}

CnnNetImpl::CnnNetImpl(const CnnConfig& cfg, std::int64_t n_classes) : config(cfg) {
  config.validate();
  check<UsageError>(n_classes >= 1, "cnn embedder: {} classes", n_classes);
  blocks = register_module("blocks", nn::ModuleList());
  std::int64_t in = 1;
  for (auto c : config.channels) {
    blocks->push_back(nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1).bias(false)),
                                     nn::BatchNorm2d(c), nn::ReLU(nn::ReLUOptions().inplace(true)),
                                     nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2))));
    in = c;
  }
  embedding = register_module("embedding", nn::Linear(2 * in, config.dim));
  frame_head = register_module("frame_head", nn::Linear(config.dim, n_classes));
  clip_head = register_module("clip_head", nn::Linear(config.dim, n_classes));
}

torch::Tensor CnnNetImpl::embed(torch::Tensor x) {
  if (x.dim() == 3) x = x.unsqueeze(1);  // [n, 96, 64] -> [n, 1, 96, 64]
  if (config.time_pool > 1) x = torch::avg_pool2d(x, {config.time_pool, 1});
  for (const auto& block : *blocks) x = block->as<nn::Sequential>()->forward(x);  // [n, C, t, f]
  auto pooled = torch::cat({x.mean({2, 3}), x.amax({2, 3})}, 1);                  // [n, 2C]
  return torch::sigmoid(embedding->forward(pooled));                              // [n, dim]
}

std::string cnn_net_bytes(CnnNet& net) {
  torch::serialize::OutputArchive ar;
  net->save(ar);
  std::ostringstream os;
  ar.save_to(os);
  return std::move(os).str();
}

std::string cnn_net_id(const std::string& bytes) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  check(EVP_Digest(bytes.data(), bytes.size(), md, &len, EVP_sha256(), nullptr) == 1,
        "cnn embedder: sha256 failed");
  std::string hex;
  for (unsigned int i = 0; i < 8 && i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string write_cnn_embedder_file(const std::filesystem::path& file, CnnNet& net,
                                    const std::vector<std::string>& classes,
                                    const core::Json& training) {
  const std::string blob = cnn_net_bytes(net);
  std::string id = cnn_net_id(blob);
  const core::Json meta = {{"format", std::string(kEmbedderFormat)},
                           {"version", kZipEmbedderFormatVersion},
                           {"name", std::string(kCnnEmbedderName)},
                           {"kind_version", kCnnEmbedderVersion},
                           {"id", id},
                           {"dim", net->config.dim},
                           {"config", net->config.to_json()},
                           {"classes", classes},
                           {"training", training},
                           {"tutti_version", TUTTI_VERSION}};
  core::ZipWriter zip(file);
  const std::string meta_text = meta.dump(2) + "\n";
  zip.add("meta.json", {meta_text.begin(), meta_text.end()});
  zip.add("cnn.pt", {blob.begin(), blob.end()});
  zip.commit();
  return id;
}

EmbedderFileMeta read_embedder_meta(const std::filesystem::path& file) {
  const std::string what = file.string();
  check(std::filesystem::is_regular_file(file), "embedder: {}: no such file", what);
  const EmbedderFileHeader header = read_embedder_header(file);
  EmbedderFileMeta m;
  m.json = header.meta;
  check(m.json.value("format", "") == kEmbedderFormat,
        "embedder: {}: meta.json format is not \"{}\"", what, kEmbedderFormat);
  const int version = m.json.value("version", 0);
  check(version == (header.zip ? kZipEmbedderFormatVersion : kEmbedderFormatVersion),
        "embedder: {}: format version {} in a {} (this tutti reads version {} zip files and "
        "version {} raw tensor files)",
        what, version, header.zip ? "zip" : "raw tensor file", kZipEmbedderFormatVersion,
        kEmbedderFormatVersion);
  m.name = m.json.value("name", "");
  return m;
}

bool is_embedder_file_name(const std::string& name) {
  constexpr std::string_view ext = ".tutti-embedder";
  return name.find('/') != std::string::npos ||
         (name.size() >= ext.size() &&
          name.compare(name.size() - ext.size(), ext.size(), ext) == 0);
}

LoadedCnn load_cnn_file(const std::filesystem::path& file) {
  const std::string what = file.string();
  const EmbedderFileMeta m = read_embedder_meta(file);
  check(m.name == kCnnEmbedderName, "embedder {}: {}: holds embedder '{}'", kCnnEmbedderName, what,
        m.name);
  const int kv = m.json.value("kind_version", 0);
  check(kv == kCnnEmbedderVersion, "embedder {}: {}: kind_version {} (this tutti reads version {})",
        kCnnEmbedderName, what, kv, kCnnEmbedderVersion);
  LoadedCnn out;
  CnnConfig config;
  try {
    config = CnnConfig::from_json(m.json.at("config"));
    out.classes = m.json.at("classes").get<std::vector<std::string>>();
    out.id = m.json.at("id").get<std::string>();
  } catch (const std::exception& e) {
    fail("embedder {}: {}: meta.json: {}", kCnnEmbedderName, what, e.what());
  }
  check(!out.classes.empty(), "embedder {}: {}: meta.json lists no classes", kCnnEmbedderName,
        what);
  check(m.json.value("dim", std::int64_t{0}) == config.dim,
        "embedder {}: {}: meta.json dim {} differs from the config's {}", kCnnEmbedderName, what,
        m.json.value("dim", std::int64_t{0}), config.dim);
  core::ZipReader zip(file);
  check(zip.contains("cnn.pt"), "embedder {}: {}: cnn.pt missing", kCnnEmbedderName, what);
  const auto weights = zip.read("cnn.pt");
  const std::string blob(weights.begin(), weights.end());
  check(cnn_net_id(blob) == out.id,
        "embedder {}: {}: cnn.pt does not match the id in meta.json (corrupt or edited file)",
        kCnnEmbedderName, what);
  out.net = CnnNet(config, static_cast<std::int64_t>(out.classes.size()));
  // Module::load replaces each tensor with the archive's, whatever its shape: the shapes the
  // config asks for are compared afterwards.
  auto shapes = [&] {
    std::vector<std::pair<std::string, std::vector<std::int64_t>>> v;
    for (const auto& p : out.net->named_parameters())
      v.emplace_back(p.key(), p.value().sizes().vec());
    for (const auto& b : out.net->named_buffers()) v.emplace_back(b.key(), b.value().sizes().vec());
    return v;
  };
  const auto want = shapes();
  try {
    torch::serialize::InputArchive ar;
    ar.load_from(blob.data(), blob.size());
    out.net->load(ar);
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    fail("embedder {}: {}: cnn.pt does not fit its config: {}", kCnnEmbedderName, what,
         msg.substr(0, msg.find('\n')));
  }
  const auto got = shapes();
  for (std::size_t k = 0; k < want.size(); ++k)
    check(
        got[k].second == want[k].second,
        "embedder {}: {}: cnn.pt does not fit its config: {} has shape [{}], the config needs [{}]",
        kCnnEmbedderName, what, want[k].first, fmt::join(got[k].second, ", "),
        fmt::join(want[k].second, ", "));
  out.net->eval();
  out.meta = m.json;
  return out;
}

namespace {

class CnnEmbedder final : public Embedder {
 public:
  CnnEmbedder(LoadedCnn loaded, const std::filesystem::path& file, int parallel)
      : net_(std::move(loaded.net)),
        parallel_(std::max(1, parallel)),
        info_{.name = fmt::format("{}:{}", kCnnEmbedderName, loaded.id),
              .dim = net_->config.dim,
              .source = file.string()} {}
  const EmbedderInfo& info() const override { return info_; }

  // [n, 96, 64] -> [n, dim] uint8 = round(255 * sigmoid output). Slices run at once on their own
  // threads as VggishModel's do (one long file keeps both cores busy).
  std::vector<std::uint8_t> embed(std::span<const float> examples, std::size_t n) const override {
    const auto per = static_cast<std::size_t>(kVggishFrames * kVggishBands);
    check(examples.size() == n * per, "embedder {}: {} values for {} examples of 96 x 64",
          info_.name, examples.size(), n);
    const auto d = static_cast<std::size_t>(info_.dim);
    std::vector<std::uint8_t> out(n * d);
    if (n == 0) return out;
    const std::size_t slices = std::min<std::size_t>(static_cast<std::size_t>(parallel_), n);
    const std::size_t size = (n + slices - 1) / slices;
    auto run = [&](std::size_t k) {
      const std::size_t i = k * size;
      if (i >= n) return;
      const std::size_t b = std::min(size, n - i);
      torch::NoGradGuard no_grad;
      at::init_num_threads();
      auto x = torch::from_blob(const_cast<float*>(examples.data() + i * per),
                                {static_cast<std::int64_t>(b), kVggishFrames, kVggishBands},
                                torch::kFloat32);
      auto y = net_.ptr()->embed(x).mul(255.0).round().to(torch::kUInt8).contiguous();
      std::copy_n(y.data_ptr<std::uint8_t>(), y.numel(), out.data() + i * d);
    };
    if (slices == 1)
      run(0);
    else
      core::parallel_for(slices, static_cast<int>(slices), run);
    return out;
  }

 private:
  CnnNet net_;
  int parallel_;
  EmbedderInfo info_;
};

}  // namespace

std::unique_ptr<Embedder> load_cnn_embedder(const std::filesystem::path& file, int threads,
                                            int parallel) {
  if (threads > 0) torch::set_num_threads(threads);
  return std::make_unique<CnnEmbedder>(load_cnn_file(file), file, parallel);
}

}  // namespace tutti::embed
