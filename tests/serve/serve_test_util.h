// The real `tutti serve` for the serve tests: a small logmel-stats ATT model trained once per test
// binary from rendered test music, a server process on a free loopback port, and raw sockets for
// the clients httplib::Client cannot imitate (byte-by-byte headers, stalled or dropped uploads).
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cli_runner.h"
#include "embed/embed_test_util.h"
#include "test_util.h"

extern char** environ;

namespace tutti::testing {

namespace fs = std::filesystem;

// Trained once per build of `tutti` (every test runs in its own process under ctest, and the
// suites run side by side): 10 clips of 3 s with weak labels -> logmel-stats bags -> ATT
// (2 epochs), kept in build/tests/serve-fixture while newer than the program, behind a file lock.
struct ServeModel {
  fs::path dir, model, npz, clip;  // clip: 10 s of test music (44.1 kHz stereo WAV)
  ServeModel() {
    dir = fs::path(TUTTI_CLI).parent_path() / "tests" / "serve-fixture";
    fs::create_directories(dir);
    model = dir / "att.tutti";
    npz = dir / "bags.npz";
    clip = dir / "clip10.wav";
    const int lock = ::open((dir / ".lock").c_str(), O_CREAT | O_RDWR, 0644);
    ::flock(lock, LOCK_EX);
    if (!fs::exists(model) || fs::last_write_time(model) < fs::last_write_time(TUTTI_CLI)) build();
    ::flock(lock, LOCK_UN);
    ::close(lock);
  }
  void build() {
    write_labeled_wav_folder(dir);
    auto r = run_cli({"embed", (dir / "audio").string(), "--embedder", "logmel-stats", "--labels",
                      (dir / "labels.csv").string(), "--threads", "2", "-o", npz.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    write_test_wav(clip, 10.0, 42);
    const auto tmp = dir / "att.tmp.tutti";
    r = run_cli({"train", npz.string(), "--model", "att", "--epochs", "2", "--threads", "1",
                 "--val-fraction", "0.3", "-o", tmp.string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    fs::rename(tmp, model);  // last: a model file means the fixture is complete
  }
};

// A client writing to a connection the server closed (a refused upload) gets EPIPE, not a
// signal that would end the test program.
inline const bool kIgnoreSigpipe = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

inline const ServeModel& serve_model() {
  static ServeModel m;
  return m;
}

// `tutti serve --model <model> --port 0 extra...` with TMPDIR = a folder of its own (to check
// that uploads leave nothing behind). The constructor waits for the "listening on" line.
class ServerProcess {
 public:
  explicit ServerProcess(const std::vector<std::string>& extra = {}) {
    fs::create_directories(tmp_.path() / "tmp");
    std::vector<std::string> args = {TUTTI_CLI, "serve", "--model", serve_model().model.string(),
                                     "--port",  "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_s;
    for (char** e = environ; *e; ++e)
      if (std::string(*e).rfind("TMPDIR=", 0) != 0) env_s.push_back(*e);
    env_s.push_back("TMPDIR=" + (tmp_.path() / "tmp").string());
    env_s.push_back("OMP_WAIT_POLICY=PASSIVE");
    std::vector<char*> envp;
    for (auto& e : env_s) envp.push_back(e.data());
    envp.push_back(nullptr);
    // fork + exec rather than posix_spawn: the child asks to be killed when the test process
    // dies (a crashed test must not leave a server running).
    const std::string out = (tmp_ / "out").string(), err = (tmp_ / "err").string();
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int in_fd = ::open("/dev/null", O_RDONLY);
      const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(in_fd, 0);
      ::dup2(out_fd, 1);
      ::dup2(err_fd, 2);
      ::execve(TUTTI_CLI, argv.data(), envp.data());
      ::_exit(127);
    }
    if (pid_ < 0) {
      ADD_FAILURE() << "cannot start " << TUTTI_CLI;
      return;
    }
    const std::regex listening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    for (int i = 0; i < 600 && port_ == 0; ++i) {
      std::smatch m;
      const std::string err = slurp(tmp_ / "err");
      if (std::regex_search(err, m, listening))
        port_ = std::stoi(m[1]);
      else if (waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        ADD_FAILURE() << "tutti serve exited: " << err;
        return;
      } else
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (port_ == 0) ADD_FAILURE() << "tutti serve did not start: " << slurp(tmp_ / "err");
  }
  ~ServerProcess() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, &status_, 0);
    }
  }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string err() const { return slurp(tmp_ / "err"); }
  // The server's private temporary folders (tutti-serve-*) and the files in them.
  std::vector<fs::path> temp_entries() const {
    std::vector<fs::path> out;
    for (const auto& e : fs::recursive_directory_iterator(tmp_.path() / "tmp")) out.push_back(e);
    return out;
  }
  // Waits up to `seconds` for the process to end; its exit code, or -1 (signal or still running).
  int wait_exit(double seconds) {
    for (int i = 0; i < seconds * 100; ++i) {
      if (exited_ || waitpid(pid_, &status_, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status_) ? WEXITSTATUS(status_) : -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  TempDir tmp_;
  pid_t pid_ = -1;
  int port_ = 0;
  int status_ = 0;
  bool exited_ = false;
};

// A raw TCP connection to 127.0.0.1:port.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  }
  ~RawClient() { close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    std::size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }
  // Everything the server sends until it closes the connection or `seconds` pass.
  std::string read_until_close(double seconds) {
    std::string out;
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    char buf[65536];
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed_by_peer_ = true;
        break;
      }
      out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
  }
  bool closed_by_peer() const { return closed_by_peer_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool connected_ = false, closed_by_peer_ = false;
};

inline std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace tutti::testing
