// The bounded zip-entry reader: sizes claimed by headers are checked against the archive and a
// decompression-ratio limit before anything is allocated. Hostile archives are written byte by
// byte (zip_test_util.h) or, for a real deflate bomb, by libzip itself.
#include <gtest/gtest.h>
#include <zip.h>

#include <memory>

#include "core/zip_test_util.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/zip.h"

namespace tutti::core {
namespace {

using tutti::testing::bytes_of;
using tutti::testing::error_of;
using tutti::testing::kGiB;
using tutti::testing::kTiB;
using tutti::testing::TempDir;
using tutti::testing::write_raw_zip;

ZipEntryInfo entry(std::uint64_t size, std::uint64_t compressed, bool stored) {
  return {size, compressed, stored};
}

TEST(ZipEntryProblem, AcceptsHonestEntries) {
  const ZipLimits limits;
  EXPECT_EQ(zip_entry_problem(entry(240000, 240000, true), 250000, limits), "");
  EXPECT_EQ(zip_entry_problem(entry(0, 0, true), 22, limits), "");
  // Any ratio is fine for small entries (a JSON of spaces costs nothing).
  EXPECT_EQ(zip_entry_problem(entry(limits.ratio_free_bytes, 20, false), 100, limits), "");
  // Exactly at the ratio limit.
  EXPECT_EQ(zip_entry_problem(entry(256 * 1000000, 1000000, false), 2000000, limits), "");
}

TEST(ZipEntryProblem, RefusesSizesTheArchiveCannotHold) {
  const ZipLimits limits;
  // Compressed bytes beyond the archive.
  EXPECT_NE(zip_entry_problem(entry(16 * kGiB, 16 * kGiB, true), 240000, limits)
                .find("claims 17179869184 compressed bytes in an archive of 240000"),
            std::string::npos);
  // A stored entry is as long as its bytes: a 4 GiB or 1 TiB claim on 240 KB is a lie.
  EXPECT_NE(zip_entry_problem(entry(4 * kGiB, 240000, true), 250000, limits)
                .find("stored entry claims 4294967296 bytes but occupies 240000"),
            std::string::npos);
  EXPECT_NE(zip_entry_problem(entry(kTiB, 240000, true), 250000, limits).find("1099511627776"),
            std::string::npos);
}

TEST(ZipEntryProblem, RefusesRatiosAboveTheLimit) {
  const ZipLimits limits;
  const auto msg = zip_entry_problem(entry(256 * 1000000 + 1, 1000000, false), 2000000, limits);
  EXPECT_NE(msg.find("exceeds the decompression ratio limit of 256:1"), std::string::npos) << msg;
  EXPECT_NE(zip_entry_problem(entry(kTiB, 240000, false), 250000, limits).find("ratio"),
            std::string::npos);
  // Nothing compressed into something large, and the largest size there is.
  EXPECT_NE(zip_entry_problem(entry(kGiB, 0, false), 100, limits), "");
  EXPECT_NE(zip_entry_problem(entry(~std::uint64_t{0}, 1, false), 100, limits), "");
}

TEST(ZipEntryProblem, RefusesEntriesAboveTheCallersLimit) {
  ZipLimits limits;
  limits.max_entry_bytes = 32;
  EXPECT_NE(zip_entry_problem(entry(33, 33, true), 100, limits).find("exceeds the limit of 32"),
            std::string::npos);
  EXPECT_EQ(zip_entry_problem(entry(32, 32, true), 100, limits), "");
}

// The reader's error names the file and the entry, on one line.
void expect_refused(const std::filesystem::path& file, const std::string& entry_name,
                    const std::string& needle) {
  const std::string msg = error_of([&] { ZipReader(file).read(entry_name); });
  EXPECT_NE(msg.find(file.string() + ": entry '" + entry_name + "': "), std::string::npos) << msg;
  EXPECT_NE(msg.find(needle), std::string::npos) << msg;
  EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
}

TEST(ZipReaderLimits, HeadersClaimingGigabytesAreRefusedBeforeAllocating) {
  TempDir dir;
  const std::vector<std::uint8_t> payload(240000, 0x5a);
  for (const auto& [entry, needle] : tutti::testing::hostile_size_claims("weights.pt", payload)) {
    const auto file = dir / "hostile.tutti";
    write_raw_zip(file, {{.name = "meta.json", .data = bytes_of("{}")}, entry});
    expect_refused(file, "weights.pt", needle);
    // The honest entry beside it still reads.
    EXPECT_EQ(ZipReader(file).read("meta.json"), bytes_of("{}"));
  }
  // A deflated 16 GiB claim on 240 KB is refused by the ratio limit.
  write_raw_zip(dir / "z64d.zip", {{.name = "weights.pt",
                                    .data = payload,
                                    .method = 8,
                                    .claimed_size = 16 * kGiB,
                                    .zip64 = true}});
  expect_refused(dir / "z64d.zip", "weights.pt", "decompression ratio limit");
}

TEST(ZipReaderLimits, HonestZip64EntriesStillRead) {
  TempDir dir;
  write_raw_zip(dir / "ok.zip",
                {{.name = "a.bin", .data = bytes_of("zip64 sizes"), .zip64 = true}});
  EXPECT_EQ(ZipReader(dir / "ok.zip").read("a.bin"), bytes_of("zip64 sizes"));
}

// A real deflate bomb: 64 MiB of zeros deflate to ~64 KB (ratio ~1000:1).
TEST(ZipReaderLimits, DeflateBombIsRefusedByTheRatioLimit) {
  TempDir dir;
  const auto file = dir / "bomb.zip";
  {
    int code = 0;
    ::zip* za = zip_open(file.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
    ASSERT_NE(za, nullptr);
    static const std::vector<std::uint8_t> zeros(std::size_t{64} << 20, 0);
    zip_source_t* src = zip_source_buffer(za, zeros.data(), zeros.size(), 0);
    const zip_int64_t idx = zip_file_add(za, "X.npy", src, 0);
    ASSERT_GE(idx, 0);
    zip_set_file_compression(za, static_cast<zip_uint64_t>(idx), ZIP_CM_DEFLATE, 9);
    ASSERT_EQ(zip_close(za), 0);
  }
  ZipReader r(file);
  const auto info = r.info("X.npy");
  EXPECT_EQ(info.size, std::uint64_t{64} << 20);
  EXPECT_GT(info.size / info.compressed_size, 256u);
  expect_refused(file, "X.npy", "exceeds the decompression ratio limit of 256:1");
  // A caller that accepts the ratio reads it.
  ZipLimits lax;
  lax.max_ratio = 2000;
  EXPECT_EQ(ZipReader(file, lax).read("X.npy").size(), std::size_t{64} << 20);
}

}  // namespace
}  // namespace tutti::core
