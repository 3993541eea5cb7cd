// `tutti models import-vggish` end to end: random-weight state dicts made by PyTorch
// (tools/fixtures/make_vggish_fixtures.py) -> .tutti-embedder -> the "vggish" embedder on the
// real OpenMIC clip's examples, against the PyTorch + numpy reference on the same examples.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "cli_runner.h"
#include "embed/vggish_fixtures.h"
#include "tutti/data/npz.h"
#include "tutti/embed/embedder.h"
#include "tutti/features/log_mel.h"

namespace tutti {
namespace {

using testing::run_cli;
using testing::TempDir;
using testing::vggish_fixture_dir;

std::filesystem::path fx(const std::string& name) { return vggish_fixture_dir() / name; }

TEST(CliImportVggish, ImportsThenEmbedsTheRealClipLikePyTorch) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  const auto file = tmp / "vggish.tutti-embedder";
  const auto r = run_cli({"models", "import-vggish", "--weights", fx("vggish.pth").string(),
                          "--pca", fx("pca.pth").string(), "-o", file.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("-> " + file.string()), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
  ASSERT_TRUE(std::filesystem::exists(file));

  TUTTI_REQUIRE_SHARED("openmic/000046_3840.wave16k.npy");
  const auto wave = data::read_npy(testing::shared_data_dir() / "openmic/000046_3840.wave16k.npy")
                        .as_f32("wave16k");
  features::LogMelFrontEnd fe;
  const auto examples = fe.examples(wave);
  const std::size_t n = examples.size() / (96 * 64);
  ASSERT_EQ(n, 10u);
  data::write_npy(tmp / "examples.npy", data::NpyArray::from_f32({10, 96, 64}, examples));
  const std::string cmd = std::string(testing::kReferencePython) + " " +
                          (testing::source_dir() / "tools/fixtures/make_vggish_fixtures.py").string() +
                          " --forward " + fx("vggish.pth").string() + " " + fx("pca.pth").string() +
                          " " + (tmp / "examples.npy").string() + " " + (tmp / "ref").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const auto ref_q = data::read_npy(tmp / "ref" / "quantized.npy").as_u8("quantized");
  const auto ref_scaled = data::read_npy(tmp / "ref" / "scaled.npy");
  std::vector<double> scaled(static_cast<std::size_t>(ref_scaled.numel()));
  std::memcpy(scaled.data(), ref_scaled.data.data(), scaled.size() * 8);

  embed::EmbedderOptions opt;
  opt.vggish_file = file;
  const auto q = embed::make_embedder("vggish", opt)->embed(examples, n);
  ASSERT_EQ(q.size(), ref_q.size());
  // Off by one only where numpy's float is within 1e-4 of an integer (float32 network
  // differences through the PCA; see tests/embed/test_vggish.cpp).
  int distinct = 0;
  for (std::size_t j = 0; j < q.size(); ++j) {
    if (std::abs(scaled[j] - std::round(scaled[j])) < 1e-4)
      EXPECT_LE(std::abs(int(q[j]) - int(ref_q[j])), 1) << j;
    else
      EXPECT_EQ(q[j], ref_q[j]) << j << " scaled " << scaled[j];
    distinct += q[j] != q[j % 128];
  }
  EXPECT_GT(distinct, 100);  // the 10 examples differ from each other
}

TEST(CliImportVggish, DefaultOutputIsWhereTheEmbedderLooks) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  const auto target = tmp / "sub" / "v.tutti-embedder";
  ::setenv("TUTTI_VGGISH", target.c_str(), 1);
  const auto r = run_cli({"models", "import-vggish", "--weights", fx("vggish.pth").string(),
                          "--pca", fx("pca.pth").string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::exists(target));
  EXPECT_EQ(embed::make_embedder("vggish")->info().source, target.string());
  ::unsetenv("TUTTI_VGGISH");
}

TEST(CliImportVggish, Errors) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  auto r = run_cli({"models", "import-vggish", "--weights", fx("vggish.pth").string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--pca"), std::string::npos) << r.err;
  r = run_cli({"models"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run_cli({"models", "import-vggish", "--weights", fx("bad_shape.pth").string(), "--pca",
               fx("pca.pth").string(), "-o", (tmp / "x").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tutti: error: vggish import: " + fx("bad_shape.pth").string() +
                       ": key 'features.0.weight' has shape (64, 1, 3, 4)"),
            std::string::npos)
      << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp / "x"));
  r = run_cli({"models", "import-vggish", "--weights", fx("vggish.pth").string(), "--pca",
               fx("pca.npz").string(), "-o", (tmp / "x").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not the released vggish_pca_params.npz"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tutti
