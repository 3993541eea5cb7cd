// Opens the experiment report in headless Chromium: the page loads without console errors and
// its inline check script finds every plot with a non-empty bounding box. Skips when Chromium is
// not installed (Debian package `chromium`; ./run test installs it).
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/report/experiment_report.h"

namespace tutti::report {
namespace {

namespace fs = std::filesystem;

using tutti::testing::find_chromium;

struct BrowserRun {
  int status = -1;
  std::string dom;                   // --dump-dom output
  std::vector<std::string> console;  // Chromium log lines about the page's console / JS errors
};

BrowserRun open_in_chromium(const fs::path& chromium, const fs::path& html,
                            const tutti::testing::TempDir& dir) {
  const fs::path profile = dir / "profile";
  fs::create_directories(profile);
  const std::string cmd =
      "timeout 180 '" + chromium.string() +
      "' --headless --no-sandbox --disable-gpu --disable-quic --no-first-run"
      " --disable-background-networking --disable-component-update --disable-sync"
      " --user-data-dir='" +
      profile.string() +
      "' --enable-logging=stderr --v=0"
      " --dump-dom 'file://" +
      html.string() + "' > '" + (dir / "dom.html").string() + "' 2> '" +
      (dir / "stderr.txt").string() + "'";
  BrowserRun run;
  run.status = std::system(cmd.c_str());
  run.dom = core::read_file_text(dir / "dom.html");
  std::stringstream err(core::read_file_text(dir / "stderr.txt"));
  for (std::string line; std::getline(err, line);)
    if (line.find("CONSOLE") != std::string::npos || line.find("Uncaught") != std::string::npos)
      run.console.push_back(line);
  return run;
}

std::string join(const std::vector<std::string>& lines) {
  std::string s;
  for (const auto& l : lines) s += l + "\n";
  return s;
}

TEST(ReportInBrowser, AllPlotsRenderWithoutConsoleErrors) {
  const fs::path chromium = find_chromium();
  if (chromium.empty())
    GTEST_SKIP() << "chromium not found (apt-get install chromium, or set TUTTI_CHROMIUM)";
  tutti::testing::TempDir dir;
  const auto results = core::read_json_file(tutti::testing::fixture("report/results_small.json"));
  write_experiment_report(results, dir / "report.html");
  const BrowserRun run = open_in_chromium(chromium, dir / "report.html", dir);
  ASSERT_EQ(run.status, 0) << "chromium failed; see its stderr";
  // 1 box-plot figure + bars + heatmap + 2 timelines + 2 t-SNE scatters (see the fixture).
  EXPECT_NE(run.dom.find("data-plots-ok=\"7\""), std::string::npos) << run.dom.substr(0, 600);
  EXPECT_NE(run.dom.find("data-plots-total=\"7\""), std::string::npos);
  EXPECT_TRUE(run.console.empty()) << join(run.console);
}

// The check must be able to fail: hide every plot and the script reports 0 of 7 plus one console
// error per plot.
TEST(ReportInBrowser, DetectsPlotsThatDoNotRender) {
  const fs::path chromium = find_chromium();
  if (chromium.empty())
    GTEST_SKIP() << "chromium not found (apt-get install chromium, or set TUTTI_CHROMIUM)";
  tutti::testing::TempDir dir;
  const auto results = core::read_json_file(tutti::testing::fixture("report/results_small.json"));
  std::string html = render_experiment_report(results);
  const std::string from = "<svg xmlns", to = "<svg style=\"display:none\" xmlns";
  for (auto p = html.find(from); p != std::string::npos; p = html.find(from, p + to.size()))
    html.replace(p, from.size(), to);
  core::write_file_atomic(dir / "broken.html", html);
  const BrowserRun run = open_in_chromium(chromium, dir / "broken.html", dir);
  ASSERT_EQ(run.status, 0);
  EXPECT_NE(run.dom.find("data-plots-ok=\"0\""), std::string::npos);
  EXPECT_NE(run.dom.find("data-plots-total=\"7\""), std::string::npos);
  EXPECT_EQ(run.console.size(), 7u) << join(run.console);
}

}  // namespace
}  // namespace tutti::report
