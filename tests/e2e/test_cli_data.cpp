// End-to-end: `tutti data ...` on the real shared AudioSet release and on files tests make.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli_runner.h"
#include "test_util.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/npz.h"

namespace tutti::testing {
namespace {

namespace fs = std::filesystem;

// The acceptance check: convert bal_train to OpenMIC-20, then `data info --json`.
TEST(CliData, ConvertAudioSetBalancedTrainGivesThePublishedCounts) {
  TUTTI_REQUIRE_SHARED("audioset/bal_train");
  TempDir dir;
  const auto out = (dir / "as20.npz").string();
  auto r = run_cli({"data", "convert", "audioset", (shared_data_dir() / "audioset/bal_train").string(),
                    "--taxonomy", "openmic20", "-o", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_cli({"data", "info", out, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = core::Json::parse(r.out);
  EXPECT_EQ(j["clips"], 8928);
  const std::vector<std::pair<std::string, int>> expected = {
      {"accordion", 61}, {"banjo", 60},        {"bass", 121},     {"cello", 67},
      {"clarinet", 63},  {"cymbals", 64},      {"drums", 330},    {"flute", 62},
      {"guitar", 447},   {"mallet_percussion", 188}, {"mandolin", 60}, {"organ", 120},
      {"piano", 90},     {"saxophone", 63},    {"synthesizer", 119}, {"trombone", 65},
      {"trumpet", 64},   {"ukulele", 60},      {"violin", 181},   {"voice", 916}};
  for (const auto& [name, n] : expected) {
    EXPECT_EQ(j["per_class"][name]["positive"], n) << name;
    EXPECT_EQ(j["per_class"][name]["known"], 8928) << name;
  }
}

data::BagDataset labeled(std::int64_t n) {
  auto ds = data::BagDataset::zeros(n, 3, 4, {"a", "b", "c"}, data::FeatureType::kUint8);
  for (std::int64_t i = 0; i < n; ++i) {
    ds.keys[i] = "clip" + std::to_string(i);
    ds.n_instances[i] = 1 + static_cast<std::int32_t>(i % 3);
    for (std::int64_t k = 0; k < 3; ++k) {
      ds.y_mask[i * 3 + k] = 1;
      ds.y_true[i * 3 + k] = (i * 7 + k * 3) % 5 == 0 ? 1.0f : 0.0f;
    }
    ds.x_u8[i * 12] = static_cast<std::uint8_t>(i);
  }
  return ds;
}

TEST(CliData, SplitWritesBothPartsDeterministically) {
  TempDir dir;
  const auto in = dir / "all.npz";
  data::save_bags(in, labeled(100));
  auto r = run_cli({"data", "split", in.string(), "--test-fraction", "0.2", "--seed", "4"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto train = data::load_bags(dir / "all-train.npz");
  const auto test = data::load_bags(dir / "all-test.npz");
  EXPECT_EQ(train.size() + test.size(), 100);
  EXPECT_NEAR(static_cast<double>(test.size()), 20.0, 2.0);
  r = run_cli({"data", "split", in.string(), "--seed", "4", "--test-out",
               (dir / "again.npz").string(), "--train-out", (dir / "again-train.npz").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(data::load_bags(dir / "again.npz").keys, test.keys);
}

TEST(CliData, UsageErrorsExitWithTwo) {
  EXPECT_EQ(run_cli({}).exit_code, 2);
  EXPECT_EQ(run_cli({"data"}).exit_code, 2);
  EXPECT_EQ(run_cli({"data", "convert", "mp3", "x", "-o", "y.npz"}).exit_code, 2);
  EXPECT_EQ(run_cli({"data", "info"}).exit_code, 2);
  TempDir dir;
  data::save_bags(dir / "a.npz", labeled(10));
  const auto r = run_cli({"data", "split", (dir / "a.npz").string(), "--test-fraction", "1.5"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("test-fraction"), std::string::npos) << r.err;
}

TEST(CliData, CorruptInputIsOneLineNamingTheFileAndNoOutput) {
  TempDir dir;
  {
    std::ofstream(dir / "bad.npz") << "not a zip";
  }
  auto r = run_cli({"data", "info", (dir / "bad.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("bad.npz"), std::string::npos) << r.err;

  // A tfrecord shard with a flipped data byte: CRC error, nothing written.
  TUTTI_REQUIRE_SHARED("audioset/bal_train");
  fs::path shard;
  for (const auto& e : fs::directory_iterator(shared_data_dir() / "audioset/bal_train")) {
    shard = e.path();
    break;
  }
  fs::create_directories(dir / "shards");
  fs::copy_file(shard, dir / "shards" / shard.filename());
  {
    std::fstream f(dir / "shards" / shard.filename(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(40);
    char c = 0;
    f.read(&c, 1);
    f.seekp(40);
    c = static_cast<char>(c ^ 0x5a);
    f.write(&c, 1);
  }
  r = run_cli({"data", "convert", "audioset", (dir / "shards").string(), "--metadata",
               (shared_data_dir() / "audioset").string(), "-o", (dir / "out.npz").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(count_lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find(shard.filename().string()), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir / "out.npz"));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator{}), 2);
}

TEST(CliData, VerifyReportsMatchingAndMismatchingFiles) {
  TUTTI_REQUIRE_SHARED("openmic/000046_3840.json");
  TempDir dir;
  const auto root = dir / "openmic";
  fs::create_directories(root / "vggish" / "000");
  fs::copy_file(shared_data_dir() / "openmic/000046_3840.json",
                root / "vggish/000/000046_3840.json");
  // Only the one real clip is present: it matches; all the others are reported missing.
  auto r = run_cli({"data", "verify", root.string(), "--checksums",
                    (shared_data_dir() / "openmic").string(), "--json"});
  EXPECT_EQ(r.exit_code, 1);
  auto j = core::Json::parse(r.out.substr(0, r.out.rfind('}') + 1));
  const auto& v = j["openmic-2018-vggish.csv"];
  EXPECT_EQ(v["checked"], 1);
  EXPECT_EQ(v["mismatched"].size(), 0u);
  EXPECT_EQ(v["missing"].size(), v["listed"].get<std::size_t>() - 1);
  // Changing one byte makes it a mismatch naming the file.
  {
    std::ofstream f(root / "vggish/000/000046_3840.json", std::ios::app);
    f << " ";
  }
  r = run_cli({"data", "verify", root.string(), "--checksums",
               (shared_data_dir() / "openmic").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("MISMATCH"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("000046_3840.json"), std::string::npos);
}

}  // namespace
}  // namespace tutti::testing
