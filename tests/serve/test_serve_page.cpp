// The page at / in headless Chromium, driven by puppeteer-core (tests/serve/page_check.mjs):
// upload a rendered test file, wait for the result, compare the bars and the timeline in the DOM
// with what /v1/tag answers for the same file, move the player and watch the cursor, and save a
// screenshot to build/tests/serve-output/page.png. Skips, saying what is missing, without
// Chromium, node, or puppeteer-core (./run test installs it into build/npm).
#include <gtest/gtest.h>
#include <httplib.h>

#include "serve_test_util.h"
#include "tutti/core/json.h"

namespace tutti::testing {
namespace {

using core::Json;

fs::path find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && fs::exists(fs::path(dir) / name)) return fs::path(dir) / name;
  return {};
}

TEST(ServePage, UploadShowsBarsTimelineAndCursor) {
  const fs::path chromium = find_chromium();
  if (chromium.empty()) GTEST_SKIP() << "Chromium not installed (Debian package chromium)";
  const fs::path node = find_on_path("node");
  if (node.empty()) GTEST_SKIP() << "node not installed (Debian package nodejs)";
  const fs::path build = fs::path(TUTTI_CLI).parent_path();
  const fs::path pptr = build / "npm" / "node_modules" / "puppeteer-core";
  if (!fs::exists(pptr / "package.json"))
    GTEST_SKIP() << "puppeteer-core not installed in " << pptr << " (./run test installs it)";

  ServerProcess s;
  const fs::path out_dir = build / "tests" / "serve-output";
  fs::create_directories(out_dir);
  const fs::path shot = out_dir / "page.png";
  fs::remove(shot);
  TempDir io;
  const std::string cmd =
      "timeout 120 " + shell_quote(node.string()) + " " +
      shell_quote((source_dir() / "tests/serve/page_check.mjs").string()) + " " +
      shell_quote(pptr.string()) + " " + shell_quote(chromium.string()) + " " +
      shell_quote("http://127.0.0.1:" + std::to_string(s.port()) + "/") + " " +
      shell_quote(serve_model().clip.string()) + " " + shell_quote(shot.string()) + " > " +
      shell_quote((io / "out.json").string()) + " 2> " + shell_quote((io / "err.txt").string());
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(io / "err.txt");
  const Json page = Json::parse(slurp(io / "out.json"));
  EXPECT_EQ(page["errors"], Json::array()) << page.dump(2);

  // What the API says about the same file.
  httplib::Client c("127.0.0.1", s.port());
  const auto r = c.Post("/v1/tag", read_bytes(serve_model().clip), "audio/wav");
  ASSERT_TRUE(r);
  const Json tags = Json::parse(r->body)["files"]["upload"];

  EXPECT_NE(page["model"].get<std::string>().find("att.tutti"), std::string::npos);
  EXPECT_EQ(page["title"], "clip10.wav");
  ASSERT_EQ(page["bars"].size(), 2u) << page.dump(2);
  for (const auto& b : page["bars"]) {
    const auto& want = tags["instruments"][b["instrument"].get<std::string>()];
    EXPECT_NEAR(b["probability"].get<double>(), want["probability"].get<double>(), 1e-6);
    EXPECT_EQ(b["present"], want["present"]);
    // The bar's length is the probability of the track's length.
    EXPECT_NEAR(b["width"].get<double>() / b["track"].get<double>(),
                want["probability"].get<double>(), 0.01);
  }
  // Sorted by probability, highest first.
  EXPECT_GE(page["bars"][0]["probability"].get<double>(),
            page["bars"][1]["probability"].get<double>());
  ASSERT_EQ(page["lanes"].size(), 2u);
  for (const auto& lane : page["lanes"]) {
    const std::string name = lane["instrument"];
    EXPECT_EQ(lane["cells"], tags["n_instances"]) << name;  // one cell per 0.96 s instance
    Json want = Json::array();
    for (const auto& seg : tags["segments"])
      if (seg["instrument"] == name) want.push_back({seg["start_s"], seg["end_s"]});
    ASSERT_EQ(lane["segments"].size(), want.size()) << name;
    for (std::size_t i = 0; i < want.size(); ++i)
      for (int k = 0; k < 2; ++k)
        EXPECT_NEAR(lane["segments"][i][k].get<double>(), want[i][k].get<double>(), 1e-9);
  }
  EXPECT_EQ(page["audioSrc"].get<std::string>().rfind("blob:", 0), 0u);
  // Player at 5 s of 10: the cursor is halfway over the timeline.
  EXPECT_NEAR(page["cursor"]["time"].get<double>(), 5.0, 1e-6);
  EXPECT_NEAR(page["cursor"]["fraction"].get<double>(), 0.5, 0.01);
  ASSERT_TRUE(fs::exists(shot));
  EXPECT_GT(fs::file_size(shot), 10000u);
}

}  // namespace
}  // namespace tutti::testing
