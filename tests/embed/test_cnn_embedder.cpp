// The logmel-cnn embedder: its forward pass against PyTorch (tools/fixtures/
// make_cnn_embedder_fixture.py, seeded random weights), its file and every refusal of a bad file.
#include <gtest/gtest.h>

#include <cmath>

#include "embed/vggish_fixtures.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"
#include "tutti/data/npz.h"
#include "tutti/embed/cnn_net.h"
#include "tutti/embed/embedder.h"
#include "tutti/embed/pth_reader.h"

namespace tutti::embed {
namespace {

namespace fs = std::filesystem;
using testing::error_of;
using testing::TempDir;

// Made once per test process; empty when PyTorch is absent.
const fs::path& cnn_fixture_dir() {
  static TempDir dir;
  static const bool made = [] {
    if (!testing::reference_torch_available()) return false;
    const std::string cmd =
        std::string(testing::kReferencePython) + " " +
        (testing::source_dir() / "tools/fixtures/make_cnn_embedder_fixture.py").string() + " " +
        dir.path().string() + " >/dev/null";
    return std::system(cmd.c_str()) == 0;
  }();
  static const fs::path empty;
  return made ? dir.path() : empty;
}

#define REQUIRE_CNN_FIXTURE()                                                             \
  do {                                                                                    \
    if (!testing::reference_torch_available())                                            \
      GTEST_SKIP() << "/usr/bin/python3 cannot import torch (apt install python3-torch)"; \
    ASSERT_FALSE(cnn_fixture_dir().empty())                                               \
        << "tools/fixtures/make_cnn_embedder_fixture.py failed";                          \
  } while (0)

std::vector<float> npy_f32(const std::string& name) {
  return data::read_npy(cnn_fixture_dir() / name).as_f32(name);
}

// The fixture's network with PyTorch's weights copied in by name.
CnnNet fixture_net() {
  const auto cfg_json = core::read_json_file(cnn_fixture_dir() / "config.json");
  CnnConfig cfg;
  cfg.channels = cfg_json.at("channels").get<std::vector<std::int64_t>>();
  cfg.time_pool = cfg_json.at("time_pool");
  cfg.dim = cfg_json.at("dim");
  CnnNet net(cfg, cfg_json.at("classes").get<std::int64_t>());
  const auto tensors = read_pth_tensors(cnn_fixture_dir() / "cnn.pth");
  torch::NoGradGuard no_grad;
  std::size_t copied = 0;
  auto copy = [&](const std::string& name, torch::Tensor& t) {
    const auto it = tensors.find(name);
    if (it == tensors.end()) return;
    auto v = it->second.to_f32(name);
    ASSERT_EQ(static_cast<std::int64_t>(v.size()), t.numel()) << name;
    t.copy_(torch::from_blob(v.data(), t.sizes()).clone());
    ++copied;
  };
  for (auto& p : net->named_parameters()) copy(p.key(), p.value());
  for (auto& b : net->named_buffers()) copy(b.key(), b.value());
  // Every tensor PyTorch saved has a LibTorch counterpart of the same name.
  EXPECT_EQ(copied, tensors.size());
  net->eval();
  return net;
}

TEST(CnnEmbedder, ForwardMatchesPyTorch) {
  REQUIRE_CNN_FIXTURE();
  auto net = fixture_net();
  auto ex = npy_f32("examples.npy");
  const auto ref = npy_f32("embeddings.npy");
  torch::NoGradGuard no_grad;
  auto e = net->embed(torch::from_blob(ex.data(), {5, 96, 64})).contiguous();
  ASSERT_EQ(e.numel(), static_cast<std::int64_t>(ref.size()));
  for (std::size_t j = 0; j < ref.size(); ++j)
    EXPECT_NEAR(e.data_ptr<float>()[j], ref[j], 1e-5) << j;
  const auto frame_ref = npy_f32("frame_logits.npy");
  auto frame = net->frame_head(e).contiguous();
  for (std::size_t j = 0; j < frame_ref.size(); ++j)
    EXPECT_NEAR(frame.data_ptr<float>()[j], frame_ref[j], 1e-4) << j;
  const auto clip_ref = npy_f32("clip_logits.npy");
  auto clip = net->clip_head(std::get<0>(e.max(0, true))).contiguous();
  for (std::size_t j = 0; j < clip_ref.size(); ++j)
    EXPECT_NEAR(clip.data_ptr<float>()[j], clip_ref[j], 1e-4) << j;
}

TEST(CnnEmbedder, FileLoadsAsAnEmbedderGivingRoundedFeatures) {
  REQUIRE_CNN_FIXTURE();
  TempDir tmp;
  auto net = fixture_net();
  const auto file = tmp / "x.tutti-embedder";
  write_cnn_embedder_file(file, net, {"a", "b", "c", "d", "e"}, {{"note", "fixture"}});
  const auto emb = make_embedder(file.string());
  EXPECT_EQ(emb->info().dim, 24);
  EXPECT_EQ(emb->info().name, "logmel-cnn:" + read_embedder_meta(file).json.value("id", ""));
  EXPECT_EQ(emb->info().source, file.string());
  const auto ex = npy_f32("examples.npy");
  const auto ref = npy_f32("embeddings.npy");
  const auto got = emb->embed(ex, 5);
  ASSERT_EQ(got.size(), ref.size());
  for (std::size_t j = 0; j < ref.size(); ++j)
    EXPECT_NEAR(static_cast<double>(got[j]), std::round(255.0 * ref[j]), 1.0) << j;
  // Splitting a call over threads changes nothing.
  EmbedderOptions split;
  split.parallel = 2;
  EXPECT_EQ(load_embedder_file(file, split)->embed(ex, 5), got);
  EXPECT_TRUE(emb->embed({}, 0).empty());
  EXPECT_NE(error_of([&] { emb->embed(ex, 4); }).find("values for 4 examples"), std::string::npos);
}

// A zip with this meta.json and cnn.pt bytes.
fs::path zip_file(const TempDir& tmp, const std::string& name, const core::Json& meta,
                  const std::string& blob) {
  core::ZipWriter z(tmp / name);
  const std::string m = meta.dump();
  z.add("meta.json", {m.begin(), m.end()});
  if (!blob.empty()) z.add("cnn.pt", {blob.begin(), blob.end()});
  z.commit();
  return tmp / name;
}

TEST(CnnEmbedder, BadFilesFailWithOneLineNamingTheFile) {
  TempDir tmp;
  CnnConfig cfg;
  cfg.channels = {4, 4};
  cfg.dim = 8;
  CnnNet net(cfg, 3);
  const auto good = tmp / "good.tutti-embedder";
  write_cnn_embedder_file(good, net, {"a", "b", "c"}, {});
  auto meta = read_embedder_meta(good).json;
  core::ZipReader zr(good);
  const auto bytes = zr.read("cnn.pt");
  const std::string blob(bytes.begin(), bytes.end());

  auto expect = [&](const fs::path& f, const std::string& what) {
    const auto msg = error_of([&] { make_embedder(f.string()); });
    EXPECT_NE(msg.find(f.string()), std::string::npos) << msg;
    EXPECT_NE(msg.find(what), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  };
  expect(tmp / "absent.tutti-embedder", "no such file");
  core::write_file_atomic(tmp / "junk.tutti-embedder", "not a zip");
  expect(tmp / "junk.tutti-embedder", "not a .tutti-embedder file");
  auto m = meta;
  m["kind_version"] = 2;
  expect(zip_file(tmp, "v2.tutti-embedder", m, blob), "kind_version 2");
  m = meta;
  m["version"] = 9;
  expect(zip_file(tmp, "c9.tutti-embedder", m, blob), "format version 9");
  m = meta;
  m["name"] = "other";
  expect(zip_file(tmp, "other.tutti-embedder", m, blob), "holds embedder 'other'");
  m = meta;
  m["id"] = "0000000000000000";
  expect(zip_file(tmp, "id.tutti-embedder", m, blob), "does not match the id");
  expect(zip_file(tmp, "noweights.tutti-embedder", meta, ""), "cnn.pt missing");
  m = meta;
  m["config"]["channels"] = {4, 8};  // weights of other shapes
  expect(zip_file(tmp, "shape.tutti-embedder", m, blob), "does not fit its config");
  m = meta;
  m["config"]["channels"] = std::vector<int>(7, 4);
  expect(zip_file(tmp, "cfg.tutti-embedder", m, blob), "expected 1 to 6");
  // The cnn loader asked for a VGGish file names the kind it found.
  m = meta;
  m["name"] = "vggish";
  const auto v = zip_file(tmp, "vgg.tutti-embedder", m, blob);
  EXPECT_NE(error_of([&] { load_cnn_embedder(v, 1); }).find("holds embedder 'vggish'"),
            std::string::npos);
}

TEST(CnnEmbedder, ConfigIsValidated) {
  CnnConfig c;
  EXPECT_NO_THROW(c.validate());
  c.time_pool = 3;
  EXPECT_THROW(c.validate(), UsageError);
  c = {};
  c.channels = {8, 8, 8, 8, 8, 8};  // 64 >> 6 = 1 band left, 48 >> 6 = 0 frames
  EXPECT_NE(error_of([&] { c.validate(); }).find("no time-frequency cell"), std::string::npos);
  EXPECT_THROW(CnnConfig::from_json({{"channelz", {1}}}), UsageError);
  EXPECT_EQ(CnnConfig::from_json(CnnConfig{}.to_json()).to_json(), CnnConfig{}.to_json());
  EXPECT_TRUE(is_embedder_file_name("a.tutti-embedder"));
  EXPECT_TRUE(is_embedder_file_name("dir/x"));
  EXPECT_FALSE(is_embedder_file_name("vggish"));
}

}  // namespace
}  // namespace tutti::embed
