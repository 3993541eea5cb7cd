// Runs `tutti` processes side by side for the distributed tests: each with its own environment
// (RANK, WORLD_SIZE, MASTER_PORT, ...), stderr captured to a file, waited for with a deadline.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "e2e/cli_runner.h"
#include "tutti/core/json.h"
#include "tutti/core/zip.h"

namespace tutti::testing {

// A port the kernel just handed out on 127.0.0.1 (free unless someone takes it meanwhile).
inline int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

struct Proc {
  pid_t pid = -1;
  std::filesystem::path err;
};

// Starts `tutti args...` with the extra environment `env`, stdout to /dev/null, stderr to `err`.
inline Proc spawn(const std::map<std::string, std::string>& env,
                  const std::vector<std::string>& args, const std::filesystem::path& err) {
  Proc p;
  p.err = err;
  p.pid = ::fork();
  if (p.pid == 0) {
    for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
    ::setenv("CI", "1", 1);
    // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) on "literal" + std::string&&.
    std::string cmd = "exec ";
    cmd += shell_quote(TUTTI_CLI);
    for (const auto& a : args) {
      cmd += ' ';
      cmd += shell_quote(a);
    }
    cmd += " </dev/null >/dev/null 2>";
    cmd += shell_quote(err.string());
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return p;
}

struct Ended {
  bool in_time = false;
  int exit_code = -1;  // -1 when killed by a signal
  double seconds = 0;
  std::string err;
};

// Waits up to `limit_s` for p (killing it after that), and reads its stderr.
inline Ended wait_for(const Proc& p, double limit_s) {
  const auto t0 = std::chrono::steady_clock::now();
  Ended e;
  int status = 0;
  for (;;) {
    const pid_t r = ::waitpid(p.pid, &status, WNOHANG);
    e.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r == p.pid) {
      e.in_time = true;
      break;
    }
    if (e.seconds > limit_s) {
      ::kill(p.pid, SIGKILL);
      ::waitpid(p.pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  e.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  e.err = slurp(p.err);
  return e;
}

// The environment torchrun gives rank `rank` of `world` with the store on 127.0.0.1:port.
inline std::map<std::string, std::string> rank_env(int rank, int world, int port,
                                                   double timeout_s = 5) {
  return {{"RANK", std::to_string(rank)},
          {"WORLD_SIZE", std::to_string(world)},
          {"MASTER_ADDR", "127.0.0.1"},
          {"MASTER_PORT", std::to_string(port)},
          {"TUTTI_DIST_TIMEOUT_S", std::to_string(timeout_s)}};
}

// A model file's entries (weights.pt, forest-<c>.ubj, an ensemble's member-<i>/...) and its
// meta.json, every meta.json without the wall-clock seconds: what two runs that train the same
// model have in common to the byte.
struct ModelFileContent {
  std::map<std::string, std::vector<std::uint8_t>> entries;  // all but meta.json
  core::Json meta;
};
inline core::Json meta_without_seconds(const std::vector<std::uint8_t>& bytes) {
  core::Json meta = core::Json::parse(std::string(bytes.begin(), bytes.end()));
  if (meta.contains("training")) {
    auto& t = meta.at("training");
    t.erase("train_seconds");
    if (t.contains("history"))
      for (auto& h : t.at("history")) h.erase("seconds");
  }
  return meta;
}
inline ModelFileContent model_file_content(const std::filesystem::path& p) {
  core::ZipReader z(p);
  ModelFileContent c;
  for (const auto& name : z.names()) {
    if (name == "meta.json") continue;
    auto bytes = z.read(name);
    if (name.ends_with("/meta.json")) {  // an ensemble member's
      const std::string s = meta_without_seconds(bytes).dump();
      bytes.assign(s.begin(), s.end());
    }
    c.entries[name] = std::move(bytes);
  }
  c.meta = meta_without_seconds(z.read("meta.json"));
  return c;
}

}  // namespace tutti::testing
