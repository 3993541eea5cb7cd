// Staging files and folders are registered for removal on a signal; a process killed by SIGTERM
// with the handler installed leaves none behind and dies of the signal; stale temporaries of dead
// processes are removed by the next AtomicFile in their folder.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>

#include "test_util.h"
#include "tutti/core/file_io.h"
#include "tutti/core/signals.h"

namespace tutti::core {
namespace {

namespace fs = std::filesystem;
using tutti::testing::TempDir;

void touch(const fs::path& p, const std::string& text = "x") { std::ofstream(p) << text; }

std::size_t entries(const fs::path& dir) {
  return static_cast<std::size_t>(
      std::distance(fs::directory_iterator(dir), fs::directory_iterator{}));
}

// A PID no process has: a child that has exited and been reaped (reused only after the PID space
// wraps).
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

void make_old(const fs::path& p, int seconds) {
  fs::last_write_time(p, fs::file_time_type::clock::now() - std::chrono::seconds(seconds));
}

TEST(SignalRegistry, RemovesRegisteredFilesAndFoldersOnly) {
  TempDir dir;
  touch(dir / "file.tmp");
  touch(dir / "kept");
  fs::create_directories(dir / "stage" / "a" / "b");
  for (int i = 0; i < 300; ++i) touch(dir / "stage" / ("f" + std::to_string(i)));  // > one read
  touch(dir / "stage" / "a" / "b" / "deep");
  fs::create_symlink(dir / "kept", dir / "stage" / "link");  // removed as a link, not followed
  const int f = register_staging_path(dir / "file.tmp", false);
  const int d = register_staging_path(dir / "stage", true);
  const int gone = register_staging_path(dir / "unregistered", false);
  touch(dir / "unregistered");
  unregister_staging_path(gone);
  ASSERT_GE(f, 0);
  ASSERT_GE(d, 0);
  remove_registered_staging_paths();
  EXPECT_FALSE(fs::exists(dir / "file.tmp"));
  EXPECT_FALSE(fs::exists(dir / "stage"));
  EXPECT_TRUE(fs::exists(dir / "kept"));
  EXPECT_TRUE(fs::exists(dir / "unregistered"));
  unregister_staging_path(f);
  unregister_staging_path(d);
}

TEST(SignalRegistry, FullTableReturnsMinusOne) {
  std::vector<int> slots;
  for (std::size_t i = 0; i < kMaxStagingPaths + 3; ++i)
    slots.push_back(register_staging_path("/nonexistent/tutti-test-" + std::to_string(i), false));
  EXPECT_EQ(std::count(slots.begin(), slots.end(), -1), 3);
  for (int s : slots) unregister_staging_path(s);
  EXPECT_EQ(register_staging_path(fs::path(std::string(5000, 'a')), false), -1);  // > PATH_MAX
  const int again = register_staging_path("/nonexistent/x", false);
  EXPECT_GE(again, 0);
  unregister_staging_path(again);
}

TEST(SignalRegistry, AtomicFileRegistersUntilCommit) {
  TempDir dir;
  {
    AtomicFile f(dir / "out.bin");
    touch(f.temp_path());
    remove_registered_staging_paths();  // what the handler does
    EXPECT_FALSE(fs::exists(f.temp_path()));
  }
  AtomicFile g(dir / "out.bin");
  touch(g.temp_path(), "done");
  g.commit();
  touch(g.temp_path(), "someone else's file by that name");
  remove_registered_staging_paths();
  EXPECT_TRUE(fs::exists(dir / "out.bin"));
  EXPECT_TRUE(fs::exists(g.temp_path())) << "a committed file is no longer registered";
}

// Without the handler SIGTERM would leave the temporary; with it the child dies of SIGTERM and
// leaves nothing. The same for a staging folder.
TEST(SignalCleanup, SigtermRemovesStagingFilesAndRaisesAgain) {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir dir;
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::signal(sig, SIG_DFL);
      install_signal_cleanup();
      AtomicFile f(dir / "model.tutti");
      touch(f.temp_path(), std::string(1 << 20, 'm'));
      StagingDir s(dir / "folder");
      fs::create_directories(s.path() / "audio");
      touch(s.path() / "audio" / "a.wav");
      ::raise(sig);
      ::_exit(0);  // not reached
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(status)) << status;
    if (WIFSIGNALED(status)) EXPECT_EQ(WTERMSIG(status), sig);
    EXPECT_EQ(entries(dir.path()), 0u) << "staging left behind after signal " << sig;
  }
}

TEST(StaleStaging, RemovesOnlyOldFilesOfDeadProcesses) {
  TempDir dir;
  const pid_t dead = dead_pid();
  const auto stale = dir / fmt::format(".d.npz.tmp-{}-0", dead);
  const auto young = dir / fmt::format(".d.npz.tmp-{}-1", dead);
  const auto alive = dir / fmt::format(".m.tutti.tmp-{}-3", ::getppid());
  const auto mine = dir / fmt::format(".x.tmp-{}-0", ::getpid());
  const auto other = dir / "d.npz.tmp-12-0";  // not hidden: not an AtomicFile temporary
  const auto odd = dir / ".d.npz.tmp-12x-0";
  for (const auto& p : {stale, young, alive, mine, other, odd}) touch(p);
  for (const auto& p : {stale, alive, mine, other, odd}) make_old(p, 120);
  EXPECT_EQ(remove_stale_staging_files(dir.path()), 1);
  EXPECT_FALSE(fs::exists(stale));
  for (const auto& p : {young, alive, mine, other, odd}) EXPECT_TRUE(fs::exists(p)) << p;
  EXPECT_EQ(remove_stale_staging_files(dir.path(), 0.0), 1);  // the young one, with no age limit
  EXPECT_FALSE(fs::exists(young));
}

TEST(StaleStaging, TheNextAtomicFileInTheFolderCleansUp) {
  TempDir dir;
  const auto stale = dir / fmt::format(".out.npz.tmp-{}-7", dead_pid());
  touch(stale, std::string(4096, 's'));
  make_old(stale, 3600);
  write_file_atomic(dir / "other.txt", "hello");
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(dir / "other.txt"));
}

// A StagingDir's folder left by a killed process (SIGKILL runs no handler) is removed with what
// it holds by the next StagingDir in the same folder; a live process's folder is kept.
TEST(StaleStaging, TheNextStagingDirRemovesAKilledProcesssFolder) {
  TempDir dir;
  const auto stale = dir / fmt::format(".synth.tmp-{}-0", dead_pid());
  const auto alive = dir / fmt::format(".other.tmp-{}-0", ::getppid());
  for (const auto& d : {stale, alive}) {
    fs::create_directories(d / "audio");
    touch(d / "audio" / "clip.wav", std::string(1024, 'w'));
    make_old(d, 3600);
  }
  {
    StagingDir s(dir / "next");
    s.publish(false);
  }
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_TRUE(fs::exists(alive / "audio" / "clip.wav"));
  EXPECT_TRUE(fs::is_directory(dir / "next"));
}

}  // namespace
}  // namespace tutti::core
