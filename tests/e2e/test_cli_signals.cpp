// SIGINT or SIGTERM while `tutti` moves its output into place: the staging file (or folder) is
// removed, no output appears, and the process dies of the signal (a shell shows 130 / 143). The
// test hook TUTTI_TEST_COMMIT_PAUSE_S (core/file_io.h) holds the finished temporary before the
// rename so that the signal lands there every time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

extern char** environ;

namespace fs = std::filesystem;
using tutti::testing::fixture;
using tutti::testing::TempDir;

namespace {

// Starts `tutti args...` with the pause hook and SIGINT/SIGTERM at their default action (a
// background job's SIGINT may be ignored by the test's parent). Output to /dev/null.
pid_t start_paused(const std::vector<std::string>& args) {
  std::vector<std::string> env_s = {"TUTTI_TEST_COMMIT_PAUSE_S=60", "CI=1"};
  for (char** e = environ; *e; ++e)
    if (std::string(*e).rfind("TUTTI_TEST_COMMIT_PAUSE_S=", 0) != 0) env_s.emplace_back(*e);
  std::vector<char*> env;
  for (auto& s : env_s) env.push_back(s.data());
  env.push_back(nullptr);
  std::vector<std::string> argv_s = {TUTTI_CLI};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGINT);
  sigaddset(&def, SIGTERM);
  posix_spawnattr_setsigdefault(&attr, &def);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  return rc == 0 ? pid : -1;
}

// Every entry of `dir` whose name contains ".tmp-" (AtomicFile and StagingDir names).
std::vector<std::string> staging_entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find(".tmp-") != std::string::npos)
      out.push_back(e.path().filename().string());
  return out;
}

// Waits until a staging entry appears and the process sits in the paused commit (the hook sleeps
// after the temporary is complete), then signals it; returns the wait status.
int signal_during_commit(pid_t pid, const fs::path& dir, int sig) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (staging_entries(dir).empty() && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return status;  // ended before staging
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  // The temporary exists from its first byte; the pause comes after it is written. A folder
  // (synth) fills for a while: 3 s covers both on a loaded machine, and the pause is 60 s.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(pid, sig);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

void expect_died_of(int status, int sig) {
  ASSERT_TRUE(WIFSIGNALED(status))
      << "exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  EXPECT_EQ(WTERMSIG(status), sig);  // a shell reports 128 + sig: 130 (SIGINT), 143 (SIGTERM)
}

}  // namespace

TEST(CliSignals, InterruptedFileWriteLeavesNoStagingFile) {
  for (int sig : {SIGINT, SIGTERM}) {
    TempDir dir;
    const auto out = dir / "kept.npz";
    const pid_t pid = start_paused({"data", "filter", fixture("train/train_small.npz").string(),
                                    "--min-instances", "1", "-o", out.string()});
    ASSERT_GT(pid, 0);
    const int status = signal_during_commit(pid, dir.path(), sig);
    expect_died_of(status, sig);
    EXPECT_TRUE(staging_entries(dir.path()).empty()) << "signal " << sig;
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST(CliSignals, InterruptedFolderWriteLeavesNoStagingFolder) {
  TempDir dir;
  const auto out = dir / "noise";
  const pid_t pid = start_paused({"synth", "--noise-only", "-n", "2", "--duration", "1", "-o",
                                  out.string(), "--threads", "1"});
  ASSERT_GT(pid, 0);
  const int status = signal_during_commit(pid, dir.path(), SIGTERM);
  expect_died_of(status, SIGTERM);
  EXPECT_TRUE(staging_entries(dir.path()).empty());
  EXPECT_FALSE(fs::exists(out));
}
