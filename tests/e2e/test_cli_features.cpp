// End-to-end: `tutti features` on the real OpenMIC clip against the reference VGGish examples.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/data/npz.h"

namespace tutti::testing {
namespace {

TEST(CliFeatures, RealClipMatchesTheReferenceExamples) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.vggish_examples.npy");
  TempDir dir;
  const auto out = dir / "ex.npy";
  const auto r = run_cli({"features", (shared_data_dir() / "openmic/000046_3840.ogg").string(),
                          "-o", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto ours = data::read_npy(out);
  const auto ref = data::read_npy(shared_data_dir() / "openmic/000046_3840.vggish_examples.npy");
  ASSERT_EQ(ours.shape, (std::vector<std::int64_t>{10, 96, 64}));
  ASSERT_EQ(ours.shape, ref.shape);
  const auto a = ours.as_f32("ours"), b = ref.as_f32("ref");
  double sum = 0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
  // Through our decoder and soxr instead of resampy: the bound (resamplers alone ~0.03).
  EXPECT_LT(sum / static_cast<double>(a.size()), 0.05);
}

TEST(CliFeatures, NonAudioAndTooShortFilesFailWithOneLine) {
  TempDir dir;
  {
    std::ofstream(dir / "notes.wav") << "this is text, not audio";
  }
  auto r = run_cli({"features", (dir / "notes.wav").string(), "-o", (dir / "x.npy").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("notes.wav"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.npy"));
}

}  // namespace
}  // namespace tutti::testing
