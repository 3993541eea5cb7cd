// load_bags / save_bags against numpy-written fixtures (tools/fixtures/make_npz_fixtures.py) and
// numpy reading what save_bags writes.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/openmic.h"

namespace tutti::data {
namespace {

using tutti::testing::error_of;
using tutti::testing::fixture;
using tutti::testing::TempDir;

std::filesystem::path npz_fixture(const std::string& name) { return fixture("npz/" + name); }

const core::Json& expected() {
  static const core::Json j = core::read_json_file(npz_fixture("expected.json"));
  return j;
}

template <typename T>
std::vector<T> values(const core::Json& e) {
  std::vector<T> out;
  for (const auto& v : e.at("values")) out.push_back(v.get<T>());
  return out;
}

// Every array of the dataset equals what numpy wrote into fixture `name`.
void expect_dataset_matches(const BagDataset& ds, const std::string& name) {
  SCOPED_TRACE(name);
  const auto& e = expected().at(name);
  const std::vector<std::int64_t> xshape = e.at("X").at("shape");
  ASSERT_EQ(xshape.size(), 3u);
  EXPECT_EQ(ds.size(), xshape[0]);
  EXPECT_EQ(ds.max_instances, xshape[1]);
  EXPECT_EQ(ds.dim, xshape[2]);
  const std::string xtype = e.at("X").at("dtype");
  if (xtype == "|u1") {
    ASSERT_EQ(ds.feature_type, FeatureType::kUint8);
    const auto x = values<int>(e.at("X"));
    ASSERT_EQ(ds.x_u8.size(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i) ASSERT_EQ(ds.x_u8[i], x[i]) << i;
  } else {
    ASSERT_EQ(ds.feature_type, FeatureType::kFloat32);
    const auto x = values<double>(e.at("X"));
    ASSERT_EQ(ds.x_f32.size(), x.size());
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(ds.x_f32[i], static_cast<float>(x[i])) << i;
  }
  const auto yt = values<double>(e.at("Y_true"));
  ASSERT_EQ(ds.y_true.size(), yt.size());
  for (std::size_t i = 0; i < yt.size(); ++i)
    EXPECT_EQ(ds.y_true[i], static_cast<float>(yt[i])) << i;
  EXPECT_EQ(ds.y_mask, values<std::uint8_t>(e.at("Y_mask")));
  EXPECT_EQ(ds.keys, values<std::string>(e.at("sample_key")));
  if (e.contains("n_instances")) {
    EXPECT_EQ(ds.n_instances, values<std::int32_t>(e.at("n_instances")));
  } else {
    EXPECT_EQ(ds.n_instances,
              std::vector<std::int32_t>(ds.keys.size(), static_cast<std::int32_t>(xshape[1])));
  }
  if (e.contains("classes")) {
    EXPECT_EQ(ds.classes, values<std::string>(e.at("classes")));
  }
  if (e.contains("Y_instance")) {
    EXPECT_EQ(ds.y_instance, values<std::uint8_t>(e.at("Y_instance")));
  } else {
    EXPECT_FALSE(ds.has_instance_labels());
  }
}

TEST(BagIo, LoadsNumpySavezWithInstanceLabels) {
  const auto ds = load_bags(npz_fixture("bags_u8.npz"));
  expect_dataset_matches(ds, "bags_u8.npz");
  EXPECT_TRUE(ds.has_instance_labels());
  EXPECT_EQ(ds.classes.back(), "violín");
}

TEST(BagIo, LoadsSavezCompressedFloatFeatures) {
  expect_dataset_matches(load_bags(npz_fixture("bags_f32_deflated.npz")), "bags_f32_deflated.npz");
}

TEST(BagIo, LoadsZip64Archives) {
  expect_dataset_matches(load_bags(npz_fixture("bags_zip64.npz")), "bags_zip64.npz");
  expect_dataset_matches(load_bags(npz_fixture("bags_zip64_cd.npz")), "bags_zip64_cd.npz");
}

TEST(BagIo, LoadsTheOpenmicReleaseLayout) {
  const auto ds = load_bags(npz_fixture("openmic_release.npz"), openmic_classes());
  expect_dataset_matches(ds, "openmic_release.npz");
  EXPECT_EQ(ds.max_instances, 10);
  EXPECT_EQ(ds.dim, 128);
  EXPECT_EQ(ds.classes, openmic_classes());
  EXPECT_TRUE(ds.fixed_length());
}

TEST(BagIo, LoadsTheLegacyReleaseDtypes) {
  // int64 X and an object-array sample_key pickled with protocol 2, as the 2018 scripts wrote.
  const auto legacy = load_bags(npz_fixture("openmic_legacy.npz"), openmic_classes());
  expect_dataset_matches(legacy, "openmic_legacy.npz");
  const auto modern = load_bags(npz_fixture("openmic_release.npz"), openmic_classes());
  EXPECT_EQ(legacy.x_u8, modern.x_u8);
  EXPECT_EQ(legacy.keys, modern.keys);
}

TEST(BagIo, NamesClassesWhenNoListIsGiven) {
  const auto ds = load_bags(npz_fixture("openmic_release.npz"));
  ASSERT_EQ(ds.classes.size(), 20u);
  EXPECT_EQ(ds.classes[0], "class_0");
  EXPECT_EQ(ds.classes[19], "class_19");
}

struct BadBags {
  const char* file;
  const char* message;
};

TEST(BagIo, EveryErrorNamesTheFileAndTheProblem) {
  const BadBags cases[] = {
      {"bad_missing_x.npz", ": missing array 'X'"},
      {"bad_shapes.npz", ": array 'Y_mask' has shape (5, 19), expected (5, 20)"},
      {"bad_relevance.npz", "Y_true[1, 2] = 1.5 is outside [0, 1]"},
      {"bad_n_instances.npz", "array 'n_instances' holds 3 for clip 3, outside [0, 2]"},
      {"bad_x_dtype.npz", "array 'X': unsupported dtype '<f2'"},
      {"bad_x_rank.npz", "array 'X' has shape (5, 6), expected (N, K, D)"},
      {"bad_mask_dtype.npz", "array 'Y_mask' has dtype '<f4', expected '|b1'"},
      {"bad_x_fortran.npz", "array 'X': fortran_order=True"},
      {"bad_classes_count.npz", "array 'classes' has shape (3,), expected (20,)"},
      {"bad_x_int_range.npz", "holds 300 at flat index 15, outside the uint8 range"},
      {"bad_crc.npz", "'X.npy' is corrupt"},
      {"bad_zip.npz", "not a valid zip/npz archive"},
  };
  for (const auto& c : cases) {
    const auto path = npz_fixture(c.file);
    const std::string msg = error_of([&] { load_bags(path); });
    EXPECT_EQ(msg.rfind(path.string(), 0), 0u) << msg;  // starts with the file
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.file << ": " << msg;
  }
  const std::string msg =
      error_of([] { load_bags(npz_fixture("bad_openmic_19.npz"), openmic_classes()); });
  EXPECT_NE(msg.find("default class list has 20 names, but Y_true has 19 columns"),
            std::string::npos)
      << msg;
}

TEST(BagIo, MaskValuesOtherThanZeroOrOneAreRejected) {
  TempDir tmp;
  auto ds = load_bags(npz_fixture("bags_u8.npz"));
  ds.y_mask[2] = 2;  // save does not judge masks (validate does not), load must
  save_bags(tmp / "m.npz", ds);
  const std::string msg = error_of([&] { load_bags(tmp / "m.npz"); });
  EXPECT_NE(msg.find("array 'Y_mask' holds 2 at flat index 2, expected 0 or 1"), std::string::npos)
      << msg;
}

TEST(BagIo, SaveThenLoadIsIdentical) {
  TempDir tmp;
  for (const char* name : {"bags_u8.npz", "bags_f32_deflated.npz"}) {
    const auto a = load_bags(npz_fixture(name));
    save_bags(tmp / "rt.npz", a);
    const auto b = load_bags(tmp / "rt.npz");
    EXPECT_EQ(a.x_u8, b.x_u8) << name;
    EXPECT_EQ(a.x_f32, b.x_f32) << name;
    EXPECT_EQ(a.n_instances, b.n_instances) << name;
    EXPECT_EQ(a.y_true, b.y_true) << name;
    EXPECT_EQ(a.y_mask, b.y_mask) << name;
    EXPECT_EQ(a.keys, b.keys) << name;
    EXPECT_EQ(a.classes, b.classes) << name;
    EXPECT_EQ(a.y_instance, b.y_instance) << name;
    EXPECT_EQ(a.feature_type, b.feature_type) << name;
  }
}

TEST(BagIo, SaveRefusesAnInvalidDatasetAndLeavesNoFile) {
  TempDir tmp;
  auto ds = load_bags(npz_fixture("bags_u8.npz"));
  ds.y_true[0] = 2.0f;
  EXPECT_THROW(save_bags(tmp / "bad.npz", ds), tutti::Error);
  EXPECT_FALSE(std::filesystem::exists(tmp / "bad.npz"));
  EXPECT_TRUE(std::filesystem::is_empty(tmp.path()));  // no temporary left behind either
}

TEST(BagIo, NumpyReadsWhatSaveBagsWrites) {
  if (std::system("/usr/bin/python3 -c 'import numpy' > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "numpy not available in /usr/bin/python3";
  TempDir tmp;
  const auto ds = load_bags(npz_fixture("bags_u8.npz"));
  save_bags(tmp / "out.npz", ds);
  // numpy dumps what it reads as JSON; we compare with the dataset we saved.
  const std::string script =
      "import json, sys, numpy as np\n"
      "d = np.load(sys.argv[1])\n"
      "out = {k: {'dtype': d[k].dtype.str, 'shape': list(d[k].shape),\n"
      "           'values': [int(v) if d[k].dtype.kind == 'b' else v\n"
      "                      for v in d[k].ravel().tolist()]} for k in d.files}\n"
      "json.dump(out, open(sys.argv[2], 'w'))\n";
  { std::ofstream(tmp / "dump.py") << script; }
  const std::string cmd = "/usr/bin/python3 " + (tmp / "dump.py").string() + " " +
                          (tmp / "out.npz").string() + " " + (tmp / "out.json").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const auto j = core::read_json_file(tmp / "out.json");
  EXPECT_EQ(j.at("X").at("dtype"), "|u1");
  EXPECT_EQ(j.at("n_instances").at("dtype"), "<i4");
  EXPECT_EQ(j.at("Y_true").at("dtype"), "<f4");
  EXPECT_EQ(j.at("Y_mask").at("dtype"), "|b1");
  EXPECT_EQ(j.at("Y_instance").at("dtype"), "|u1");
  EXPECT_EQ(j.at("sample_key").at("dtype").get<std::string>().substr(0, 2), "<U");
  EXPECT_EQ(j.at("X").at("shape"), (std::vector<std::int64_t>{4, 3, 5}));
  EXPECT_EQ(values<std::uint8_t>(j.at("X")), ds.x_u8);
  EXPECT_EQ(values<std::int32_t>(j.at("n_instances")), ds.n_instances);
  EXPECT_EQ(values<float>(j.at("Y_true")), ds.y_true);
  EXPECT_EQ(values<std::uint8_t>(j.at("Y_mask")), ds.y_mask);
  EXPECT_EQ(values<std::string>(j.at("sample_key")), ds.keys);
  EXPECT_EQ(values<std::string>(j.at("classes")), ds.classes);
  EXPECT_EQ(values<std::uint8_t>(j.at("Y_instance")), ds.y_instance);
}

}  // namespace
}  // namespace tutti::data
