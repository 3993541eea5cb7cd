// VGGish: the state-dict reader, the network and its post-processing against PyTorch + numpy
// (tools/fixtures/make_vggish_fixtures.py, random seeded weights), the import and its errors.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "embed/vggish_fixtures.h"
#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/zip.h"
#include "tutti/data/npz.h"
#include "tutti/embed/embedder.h"
#include "tutti/embed/pth_reader.h"
#include "tutti/embed/vggish.h"
#include "tutti/embed/vggish_import.h"

namespace tutti::embed {
namespace {

using testing::error_of;
using testing::TempDir;
using testing::vggish_fixture_dir;

std::filesystem::path fx(const std::string& name) { return vggish_fixture_dir() / name; }

std::vector<double> f64_of(const data::NpyArray& a) {
  if (a.descr == "<f8") {
    std::vector<double> v(static_cast<std::size_t>(a.numel()));
    std::memcpy(v.data(), a.data.data(), v.size() * 8);
    return v;
  }
  const auto f = a.as_f32("npy");
  return {f.begin(), f.end()};
}

// The embedder file imported from vggish.pth + pca.pth, once per process.
const std::filesystem::path& imported_file() {
  static TempDir dir;
  static const std::filesystem::path file = [] {
    VggishImportOptions o;
    o.weights = fx("vggish.pth");
    o.pca = fx("pca.pth");
    o.output = dir / "vggish.tutti-embedder";
    import_vggish(o);
    return o.output;
  }();
  return file;
}

const VggishModel& imported_model() {
  static const VggishModel model = VggishModel::load(imported_file());
  return model;
}

void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

// ---- the state-dict reader ------------------------------------------------------------------

void expect_views_match(const std::filesystem::path& pth) {
  const auto t = read_pth_tensors(pth);
  const auto ref = data::read_npz(fx("views.npz"));
  ASSERT_EQ(t.size(), ref.size()) << pth;
  for (const auto& [key, a] : ref) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(t.count(key));
    const auto& got = t.at(key);
    EXPECT_EQ(got.shape, a.shape);
    std::vector<double> v;
    if (got.dtype == "int64") {
      for (std::size_t j = 0; j < got.data.size() / 8; ++j) {
        std::int64_t x;
        std::memcpy(&x, got.data.data() + 8 * j, 8);
        v.push_back(static_cast<double>(x));
      }
    } else {
      v = got.to_f64(key);
    }
    EXPECT_EQ(v, f64_of(a));  // exact: float32 -> float64 is exact on both sides
  }
  EXPECT_EQ(t.at("double").dtype, "float64");
  EXPECT_EQ(t.at("plain").dtype, "float32");
  EXPECT_EQ(t.at("scalar").shape_str(), "()");
  EXPECT_EQ(t.at("sliced").shape_str(), "(3, 3)");
}

TEST(PthReader, ZipFormatViewsAndSharedStoragesMatchPyTorch) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  expect_views_match(fx("views_zip.pth"));
}

TEST(PthReader, LegacyFormatViewsAndSharedStoragesMatchPyTorch) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  expect_views_match(fx("views_legacy.pth"));
}

TEST(PthReader, RejectsWhatIsNotAStateDict) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  EXPECT_NE(error_of([&] { read_pth_tensors(tmp / "nope.pth"); }).find("no such file"),
            std::string::npos);
  write_bytes(tmp / "empty.pth", {});
  EXPECT_NE(error_of([&] { read_pth_tensors(tmp / "empty.pth"); }).find("empty"),
            std::string::npos);
  write_bytes(tmp / "text.pth", {'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_NE(error_of([&] { read_pth_tensors(tmp / "text.pth"); }).find("not a PyTorch file"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_pth_tensors(fx("bad_not_dict.pth")); }).find("not a dict"),
            std::string::npos);
  // Truncated copies of both formats.
  for (const char* name : {"views_legacy.pth", "views_zip.pth"}) {
    auto b = core::read_file_bytes(fx(name));
    for (std::size_t cut : {b.size() / 2, b.size() - 3}) {
      write_bytes(tmp / "cut.pth", {b.begin(), b.begin() + static_cast<std::ptrdiff_t>(cut)});
      const auto msg = error_of([&] { read_pth_tensors(tmp / "cut.pth"); });
      EXPECT_NE(msg.find((tmp / "cut.pth").string()), std::string::npos) << name << cut << msg;
    }
  }
  // A pickle that would call os.system: refused by name, nothing runs.
  {
    const char raw[] =
        "\x80\x02"
        "cos\nsystem\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02R.";
    const std::string pkl(raw, sizeof(raw) - 1);
    core::ZipWriter z(tmp / "evil.pth");
    z.add("evil/data.pkl", {pkl.begin(), pkl.end()});
    z.commit();
    const auto msg = error_of([&] { read_pth_tensors(tmp / "evil.pth"); });
    EXPECT_NE(msg.find("calls os.system, which tutti does not run"), std::string::npos) << msg;
  }
  // A storage shorter than the tensor that uses it (corrupt data entry).
  {
    core::ZipReader src(fx("views_zip.pth"));
    core::ZipWriter z(tmp / "short.pth");
    for (const auto& n : src.names()) {
      auto b = src.read(n);
      if (n.find("/data/") != std::string::npos) b.resize(b.size() / 2);
      z.add(n, b);
    }
    z.commit();
    const auto msg = error_of([&] { read_pth_tensors(tmp / "short.pth"); });
    EXPECT_NE(msg.find("fewer than"), std::string::npos) << msg;
  }
}

// ---- network and post-processing against PyTorch / numpy --------------------------------------

TEST(Vggish, StateDictKeysAreTorchvggishs) {
  const auto shapes = vggish_state_dict_shapes();
  ASSERT_EQ(shapes.size(), 18u);
  EXPECT_EQ(shapes[0].first, "features.0.weight");
  EXPECT_EQ(shapes[0].second, (std::vector<std::int64_t>{64, 1, 3, 3}));
  EXPECT_EQ(shapes[10].first, "features.13.weight");
  EXPECT_EQ(shapes[10].second, (std::vector<std::int64_t>{512, 512, 3, 3}));
  EXPECT_EQ(shapes[12].first, "embeddings.0.weight");
  EXPECT_EQ(shapes[12].second, (std::vector<std::int64_t>{4096, 12288}));
  EXPECT_EQ(shapes[17].first, "embeddings.4.bias");
  std::int64_t total = 0;
  for (const auto& [k, s] : shapes) {
    std::int64_t n = 1;
    for (auto d : s) n *= d;
    total += n;
  }
  EXPECT_EQ(total, 72141184);  // the VGGish parameter count
  // The table is the module's.
  VggishNet net;
  std::size_t j = 0;
  for (const auto& p : net->named_parameters()) {
    ASSERT_LT(j, shapes.size());
    EXPECT_EQ(p.key(), shapes[j].first);
    EXPECT_EQ(p.value().sizes().vec(), shapes[j].second) << p.key();
    ++j;
  }
  EXPECT_EQ(j, shapes.size());
}

// Network floats: |ours - PyTorch| <= 1e-4 * max(1, |PyTorch|) (float32, different conv kernels).
TEST(Vggish, EmbeddingsMatchPyTorch) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto ex = data::read_npy(fx("examples.npy"));
  const auto examples = ex.as_f32("examples");
  const auto n = static_cast<std::size_t>(ex.shape[0]);
  const auto ref = data::read_npy(fx("embeddings.npy")).as_f32("embeddings");
  const auto got = imported_model().raw_embeddings(examples, n);
  ASSERT_EQ(got.size(), ref.size());
  int nonzero = 0;
  for (std::size_t j = 0; j < ref.size(); ++j) {
    EXPECT_NEAR(got[j], ref[j], 1e-4 * std::max(1.0f, std::abs(ref[j]))) << j;
    nonzero += ref[j] > 0;
  }
  EXPECT_GT(nonzero, static_cast<int>(ref.size() / 4));  // the comparison is not all zeros
}

// Post-processing alone, from PyTorch's embeddings: the floats before the cast to 1e-9 and every
// uint8 equal (off by one only where numpy's float is within 1e-9 of an integer).
TEST(Vggish, PostprocessingMatchesNumpy) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto emb = data::read_npy(fx("embeddings.npy")).as_f32("embeddings");
  const auto ref_scaled = f64_of(data::read_npy(fx("scaled.npy")));
  const auto ref_q = data::read_npy(fx("quantized.npy")).as_u8("quantized");
  const std::size_t n = emb.size() / 128;
  const auto scaled = vggish_pca_scaled(imported_model().pca(), emb, n);
  const auto q = vggish_quantize(scaled);
  ASSERT_EQ(q.size(), ref_q.size());
  int clipped_low = 0, clipped_high = 0;
  for (std::size_t j = 0; j < q.size(); ++j) {
    EXPECT_NEAR(scaled[j], ref_scaled[j], 1e-9) << j;
    const bool boundary = std::abs(ref_scaled[j] - std::round(ref_scaled[j])) < 1e-9;
    if (boundary)
      EXPECT_LE(std::abs(int(q[j]) - int(ref_q[j])), 1) << j;
    else
      EXPECT_EQ(q[j], ref_q[j]) << j << " scaled " << ref_scaled[j];
    clipped_low += ref_q[j] == 0;
    clipped_high += ref_q[j] == 255;
  }
  EXPECT_GT(clipped_low, 0);  // both clip ends are exercised
  EXPECT_GT(clipped_high, 0);
}

// Truncation, not rounding: 254.9999 -> 254, 0.99 -> 0, 255 -> 255.
TEST(Vggish, QuantizeTruncates) {
  const std::vector<double> v = {0.0, 0.99, 1.0, 127.5, 254.9999, 255.0};
  EXPECT_EQ(vggish_quantize(v), (std::vector<std::uint8_t>{0, 0, 1, 127, 254, 255}));
}

// The whole embedder against PyTorch + numpy. Off by one is allowed only where numpy's float is
// within 1e-4 of an integer (the network matches PyTorch to <= 1e-4 relative; through the
// PCA the scaled floats measured agree to ~1e-13, printed below).
TEST(Vggish, EmbedderMatchesReferenceUint8) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto ex = data::read_npy(fx("examples.npy"));
  const auto examples = ex.as_f32("examples");
  const auto n = static_cast<std::size_t>(ex.shape[0]);
  const auto ref_scaled = f64_of(data::read_npy(fx("scaled.npy")));
  const auto ref_q = data::read_npy(fx("quantized.npy")).as_u8("quantized");
  EmbedderOptions opt;
  opt.vggish_file = imported_file();
  const auto emb = make_embedder("vggish", opt);
  EXPECT_EQ(emb->info().name, "vggish");
  EXPECT_EQ(emb->info().dim, 128);
  EXPECT_EQ(emb->info().source, imported_file().string());
  const auto q = emb->embed(examples, n);
  const auto scaled =
      vggish_pca_scaled(imported_model().pca(), imported_model().raw_embeddings(examples, n), n);
  ASSERT_EQ(q.size(), ref_q.size());
  double max_diff = 0;
  int boundary_cases = 0;
  for (std::size_t j = 0; j < q.size(); ++j) {
    max_diff = std::max(max_diff, std::abs(scaled[j] - ref_scaled[j]));
    if (std::abs(ref_scaled[j] - std::round(ref_scaled[j])) < 1e-4) {
      ++boundary_cases;
      EXPECT_LE(std::abs(int(q[j]) - int(ref_q[j])), 1) << j;
    } else {
      EXPECT_EQ(q[j], ref_q[j]) << j << " scaled " << ref_scaled[j];
    }
  }
  EXPECT_LT(max_diff, 1e-4);
  std::printf("[ info ] scaled max |diff| %.3g; %d of %zu values near a boundary\n", max_diff,
              boundary_cases, q.size());
  EXPECT_TRUE(emb->embed({}, 0).empty());
}

TEST(Vggish, ConcurrentCallersGetTheSameResult) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto examples = data::read_npy(fx("examples.npy")).as_f32("examples");
  EmbedderOptions opt;
  opt.vggish_file = imported_file();
  const auto emb = make_embedder("vggish", opt);
  const auto expected = emb->embed(examples, 6);
  std::vector<std::vector<std::uint8_t>> got(3);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < got.size(); ++t)
    threads.emplace_back([&, t] { got[t] = emb->embed(examples, 6); });
  for (auto& t : threads) t.join();
  for (const auto& g : got) EXPECT_EQ(g, expected);
  // Batching does not change results.
  VggishModel m = VggishModel::load(imported_file());
  m.batch_size = 4;
  EXPECT_EQ(m.embed(examples, 6), expected);
}

TEST(Vggish, SplittingOneCallOverThreadsGivesTheSameBytes) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto examples = data::read_npy(fx("examples.npy")).as_f32("examples");
  VggishModel m = VggishModel::load(imported_file());
  const auto expected = m.embed(examples, 6);
  for (int parallel : {2, 3, 8}) {
    m.parallel = parallel;
    EXPECT_EQ(m.embed(examples, 6), expected) << parallel;
    EXPECT_EQ(m.embed(std::span(examples).first(2 * 96 * 64), 2),
              std::vector(expected.begin(), expected.begin() + 2 * 128))
        << parallel;
  }
  // Through the embedder options.
  EmbedderOptions opt;
  opt.vggish_file = imported_file();
  opt.parallel = 2;
  EXPECT_EQ(make_embedder("vggish", opt)->embed(examples, 6), expected);
}

// Resident kB of this process's mappings of `file` (/proc/self/smaps).
long resident_kb_of(const std::filesystem::path& file) {
  std::ifstream smaps("/proc/self/smaps");
  long kb = 0;
  bool ours = false;
  for (std::string line; std::getline(smaps, line);) {
    std::istringstream in(line);
    std::string first;
    in >> first;
    if (first.find('-') != std::string::npos && first.back() != ':') {  // a mapping's header
      std::string perms, offset, dev, inode, path;
      in >> perms >> offset >> dev >> inode >> path;
      ours = path == file.string();
    } else if (ours && first == "Rss:") {
      long v = 0;
      in >> v;
      kb += v;
    }
  }
  return kb;
}

// The fully connected layers read the mapped weights in windows and give each window's pages
// back: after a call the process holds almost none of the 289 MB file (the pages stay in the
// page cache), instead of all of it.
TEST(Vggish, GivesBackTheMappedWeightsItHasRead) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto examples = data::read_npy(fx("examples.npy")).as_f32("examples");
  const auto file = std::filesystem::canonical(imported_file());
  VggishModel m = VggishModel::load(file);
  const auto expected = imported_model().embed(examples, 6);
  for (int parallel : {1, 2}) {
    m.parallel = parallel;
    EXPECT_EQ(m.embed(examples, 6), expected) << parallel;
    // Biases, PCA and the pages that windows share with their neighbours: under 2 MB.
    EXPECT_LT(resident_kb_of(file), 2048) << parallel;
  }
}

// ---- import ---------------------------------------------------------------------------------

TEST(VggishImport, MetaRecordsSourcesAndFormat) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  const auto header = read_embedder_header(imported_file());
  EXPECT_FALSE(header.zip);
  const auto& meta = header.meta;
  EXPECT_EQ(meta["format"], "tutti-embedder");
  EXPECT_EQ(meta["version"], 2);
  EXPECT_EQ(meta["data_offset"].get<std::uint64_t>() % 4096, 0u);
  EXPECT_EQ(meta["tensors"].size(), vggish_state_dict_shapes().size() + 2);
  EXPECT_EQ(meta["name"], "vggish");
  EXPECT_EQ(meta["dim"], 128);
  EXPECT_EQ(meta["sources"]["weights"]["sha256"], sha256_file_hex(fx("vggish.pth")));
  EXPECT_EQ(meta["sources"]["weights"]["md5"], core::md5_file_hex(fx("vggish.pth")));
  EXPECT_EQ(meta["sources"]["pca"]["file"], "pca.pth");
  EXPECT_EQ(meta["tutti_version"], TUTTI_VERSION);
}

TEST(VggishImport, Sha256IsTheStandardDigest) {
  TempDir tmp;
  write_bytes(tmp / "abc", {'a', 'b', 'c'});
  EXPECT_EQ(sha256_file_hex(tmp / "abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");  // FIPS 180-2
}

// The PCA parameters from a float32 .pth with column means, and from an .npz whose hash is given.
TEST(VggishImport, PcaFromFloat32PthAndFromNpz) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  const auto& ref = imported_model().pca();
  VggishImportOptions o;
  o.weights = fx("vggish.pth");
  o.pca = fx("pca_col32.pth");
  o.output = tmp / "a.tutti-embedder";
  import_vggish(o);
  const auto a = VggishModel::load(o.output).pca();
  for (std::size_t j = 0; j < ref.eigen_vectors.size(); ++j)
    ASSERT_EQ(a.eigen_vectors[j], static_cast<double>(static_cast<float>(ref.eigen_vectors[j])));
  for (std::size_t j = 0; j < 128; ++j)
    ASSERT_EQ(a.means[j], static_cast<double>(static_cast<float>(ref.means[j])));

  o.pca = fx("pca.npz");
  o.output = tmp / "b.tutti-embedder";
  o.npz_sha256 = sha256_file_hex(fx("pca.npz"));
  const auto meta = import_vggish(o);
  EXPECT_EQ(meta["pca_format"], "npz");
  const auto b = VggishModel::load(o.output).pca();
  EXPECT_EQ(b.eigen_vectors, ref.eigen_vectors);  // float64 both ways
  EXPECT_EQ(b.means, ref.means);
}

TEST(VggishImport, RefusesAnNpzThatIsNotTheRelease) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  VggishImportOptions o;
  o.weights = fx("vggish.pth");
  o.pca = fx("pca.npz");
  o.output = tmp / "x.tutti-embedder";
  const auto msg = error_of([&] { import_vggish(o); });
  EXPECT_NE(msg.find("not the released vggish_pca_params.npz"), std::string::npos) << msg;
  EXPECT_NE(msg.find(sha256_file_hex(fx("pca.npz"))), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string(kVggishPcaNpzSha256)), std::string::npos) << msg;
  EXPECT_FALSE(std::filesystem::exists(o.output));
}

TEST(VggishImport, ErrorsNameTheFileAndTheKey) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  auto import_msg = [&](const std::filesystem::path& w, const std::filesystem::path& p,
                        const std::string& sha = std::string(kVggishPcaNpzSha256)) {
    VggishImportOptions o;
    o.weights = w;
    o.pca = p;
    o.output = tmp / "x.tutti-embedder";
    o.npz_sha256 = sha;
    auto msg = error_of([&] { import_vggish(o); });
    EXPECT_FALSE(std::filesystem::exists(o.output));
    return msg;
  };
  const auto pca = fx("pca.pth");
  auto msg = import_msg(fx("bad_missing_key.pth"), pca);
  EXPECT_NE(msg.find(fx("bad_missing_key.pth").string() + ": key 'features.0.bias' is missing"),
            std::string::npos)
      << msg;
  msg = import_msg(fx("bad_shape.pth"), pca);
  EXPECT_NE(msg.find("key 'features.0.weight' has shape (64, 1, 3, 4), expected (64, 1, 3, 3)"),
            std::string::npos)
      << msg;
  msg = import_msg(fx("vggish.pth"), fx("bad_pca_missing.pth"));
  EXPECT_NE(msg.find("bad_pca_missing.pth: key 'pca_eigen_vectors' is missing"), std::string::npos)
      << msg;
  msg = import_msg(fx("vggish.pth"), fx("bad_pca_shape.pth"));
  EXPECT_NE(msg.find("key 'pca_eigen_vectors' has shape (128, 127), expected (128, 128)"),
            std::string::npos)
      << msg;
  msg = import_msg(fx("vggish.pth"), fx("bad_pca_shape.npz"),
                   sha256_file_hex(fx("bad_pca_shape.npz")));
  EXPECT_NE(msg.find("array 'pca_eigen_vectors' has shape (128, 127)"), std::string::npos) << msg;
  // The PCA file given as weights, a missing file, a corrupt file.
  msg = import_msg(pca, pca);
  EXPECT_NE(msg.find("key 'features.0.weight' is missing"), std::string::npos) << msg;
  msg = import_msg(tmp / "missing.pth", pca);
  EXPECT_NE(msg.find("missing.pth: no such file"), std::string::npos) << msg;
  write_bytes(tmp / "junk.pth", {1, 2, 3, 4, 5, 6, 7, 8});
  msg = import_msg(tmp / "junk.pth", pca);
  EXPECT_NE(msg.find("junk.pth: not a PyTorch file"), std::string::npos) << msg;
  EXPECT_THROW(import_vggish({}), UsageError);
}

TEST(VggishEmbedder, MissingWeightsSayHowToImport) {
  TempDir tmp;
  EmbedderOptions opt;
  opt.vggish_file = tmp / "absent.tutti-embedder";
  const auto msg = error_of([&] { make_embedder("vggish", opt); });
  EXPECT_NE(msg.find("absent.tutti-embedder"), std::string::npos) << msg;
  EXPECT_NE(msg.find("tutti models import-vggish"), std::string::npos) << msg;
}

TEST(VggishEmbedder, RefusesFilesThatAreNotVggishEmbedders) {
  TempDir tmp;
  write_bytes(tmp / "junk.tutti-embedder", {'n', 'o', 'p', 'e'});
  EXPECT_NE(
      error_of([&] { VggishModel::load(tmp / "junk.tutti-embedder"); }).find("junk.tutti-embedder"),
      std::string::npos);
  auto zip_with_meta = [&](const std::string& name, const std::string& meta) {
    core::ZipWriter z(tmp / name);
    z.add("meta.json", {meta.begin(), meta.end()});
    z.add("vggish.pt", {'x'});
    z.commit();
    return error_of([&] { VggishModel::load(tmp / name); });
  };
  EXPECT_NE(zip_with_meta("a", R"({"format": "other"})").find("format is not"), std::string::npos);
  EXPECT_NE(zip_with_meta("b", R"({"format": "tutti-embedder", "version": 3})").find("version 3"),
            std::string::npos);
  EXPECT_NE(zip_with_meta("c", R"({"format": "tutti-embedder", "version": 1, "name": "x"})")
                .find("holds embedder 'x'"),
            std::string::npos);
  EXPECT_NE(zip_with_meta("d", R"({"format": "tutti-embedder", "version": 1, "name": "vggish"})")
                .find("vggish.pt cannot be loaded"),
            std::string::npos);
}

// ---- file versions -------------------------------------------------------------------------

// A version 1 file (a zip with a torch::save archive) written by an earlier tutti
// (tools/fixtures/make_embedder_v1_fixture.sh) still loads, and embeds what PyTorch + numpy give
// for its weights.
TEST(VggishEmbedderFile, Version1StillLoadsAndMatchesPyTorch) {
  const auto dir = tutti::testing::fixture("embedder_v1");
  const auto header = read_embedder_header(dir / "vggish_v1.tutti-embedder");
  EXPECT_TRUE(header.zip);
  EXPECT_EQ(header.meta["version"], 1);
  const VggishModel m = VggishModel::load(dir / "vggish_v1.tutti-embedder");
  const auto ex = data::read_npy(dir / "examples.npy");
  const auto examples = ex.as_f32("examples");
  const auto n = static_cast<std::size_t>(ex.shape[0]);
  const auto ref = data::read_npy(dir / "embeddings.npy").as_f32("embeddings");
  const auto got = m.raw_embeddings(examples, n);
  ASSERT_EQ(got.size(), ref.size());
  int nonzero = 0;
  for (std::size_t j = 0; j < ref.size(); ++j) {
    EXPECT_NEAR(got[j], ref[j], 1e-4 * std::max(1.0f, std::abs(ref[j]))) << j;
    nonzero += ref[j] > 0;
  }
  EXPECT_GT(nonzero, static_cast<int>(ref.size() / 4));
  const auto ref_q = data::read_npy(dir / "quantized.npy").as_u8("quantized");
  const auto q = m.embed(examples, n);
  ASSERT_EQ(q.size(), ref_q.size());
  int off = 0;
  for (std::size_t j = 0; j < q.size(); ++j) off += std::abs(int(q[j]) - int(ref_q[j]));
  EXPECT_LE(off, 2);  // off by one only where numpy's float is next to an integer
}

// Version 2 files are mapped: a truncated one is refused naming the file, a tensor and "truncated"
// instead of reading past the end; a wrong magic falls back to the zip reader's error.
TEST(VggishEmbedderFile, TruncatedVersion2IsRefused) {
  TUTTI_REQUIRE_VGGISH_FIXTURES();
  TempDir tmp;
  const auto bytes = core::read_file_bytes(imported_file());
  write_bytes(tmp / "cut.tutti-embedder",
              std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 1000));
  const auto msg = error_of([&] { VggishModel::load(tmp / "cut.tutti-embedder"); });
  EXPECT_NE(msg.find("cut.tutti-embedder"), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  write_bytes(tmp / "head.tutti-embedder",
              std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + 12));
  const auto head = error_of([&] { VggishModel::load(tmp / "head.tutti-embedder"); });
  EXPECT_NE(head.find("head.tutti-embedder: truncated or corrupt header"), std::string::npos)
      << head;
}

}  // namespace
}  // namespace tutti::embed
