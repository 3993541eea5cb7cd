// `tutti launch --nproc-per-node P [--nnodes N --node-rank R --master ADDR:PORT] -- VERB ...`:
// starts this node's ranks of a distributed run (docs/distributed.md), each one `tutti VERB ...`
// with torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT). Forwards SIGINT/SIGTERM to the ranks; when one rank fails the others are stopped
// and launch ends with one line naming the failed rank and how it ended.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/dist/dist_env.h"

namespace tutti::cli {
namespace {

volatile std::sig_atomic_t g_signal = 0;  // the signal to forward, 0 = none

void remember_signal(int sig) { g_signal = sig; }

// A TCP port that was free a moment ago on 127.0.0.1 (the kernel's choice for port 0).
int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  check(fd >= 0, "launch: cannot open a socket to find a free port: {}", std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
  ::close(fd);
  check(ok, "launch: cannot find a free port on 127.0.0.1: {}", std::strerror(errno));
  return ntohs(a.sin_port);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::sigabbrev_np(WTERMSIG(status));
    return fmt::format("was killed by signal {} (SIG{})", WTERMSIG(status), name ? name : "?");
  }
  return fmt::format("ended with wait status {}", status);
}

struct LaunchOpts {
  int nproc = 0, nnodes = 1, node_rank = 0;
  std::string master;  // ADDR:PORT
  double timeout_s = dist::kDefaultTimeoutS;
  std::vector<std::string> command;
};

void run_launch(const LaunchOpts& o) {
  check<UsageError>(o.nproc >= 1, "--nproc-per-node {}: must be at least 1", o.nproc);
  check<UsageError>(o.nnodes >= 1, "--nnodes {}: must be at least 1", o.nnodes);
  check<UsageError>(o.node_rank >= 0 && o.node_rank < o.nnodes,
                    "--node-rank {}: must be in 0..{} (--nnodes {})", o.node_rank, o.nnodes - 1,
                    o.nnodes);
  check<UsageError>(!o.command.empty(), "launch: no command after `--` (e.g. -- train ...)");
  check<UsageError>(o.command[0] != "launch", "launch: the ranks cannot run `launch` itself");
  std::string addr = "127.0.0.1";
  int port = 0;
  if (o.master.empty()) {
    check<UsageError>(o.nnodes == 1, "--master ADDR:PORT is required with --nnodes {}", o.nnodes);
    port = free_local_port();
  } else {
    const auto colon = o.master.rfind(':');
    check<UsageError>(colon != std::string::npos && colon > 0, "--master {}: expected ADDR:PORT",
                      o.master);
    addr = o.master.substr(0, colon);
    const std::string p = o.master.substr(colon + 1);
    check<UsageError>(!p.empty() && p.find_first_not_of("0123456789") == std::string::npos &&
                          p.size() <= 5 && std::stoi(p) >= 1 && std::stoi(p) <= 65535,
                      "--master {}: port '{}' is not a TCP port (1..65535)", o.master, p);
    port = std::stoi(p);
  }
  const int world = o.nnodes * o.nproc;

  // Our own handlers: a signal is passed on to the ranks, which then end the run.
  struct sigaction sa {};
  sa.sa_handler = remember_signal;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  std::vector<pid_t> pids;
  for (int i = 0; i < o.nproc; ++i) {
    const int rank = o.node_rank * o.nproc + i;
    const pid_t pid = ::fork();
    check(pid >= 0, "launch: cannot start rank {}: {}", rank, std::strerror(errno));
    if (pid == 0) {
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(i).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(o.nproc).c_str(), 1);
      ::setenv("GROUP_RANK", std::to_string(o.node_rank).c_str(), 1);
      ::setenv("MASTER_ADDR", addr.c_str(), 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::setenv("TUTTI_DIST_TIMEOUT_S", fmt::format("{:g}", o.timeout_s).c_str(), 1);
      std::vector<std::string> args = {"tutti"};
      args.insert(args.end(), o.command.begin(), o.command.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv("/proc/self/exe", argv.data());
      std::fprintf(stderr, "tutti: error: launch: cannot run rank %d: %s\n", rank,
                   std::strerror(errno));
      ::_exit(127);
    }
    pids.push_back(pid);
  }

  // Wait; the first failure (or a forwarded signal) stops the others.
  std::vector<bool> done(pids.size(), false);
  std::size_t running = pids.size();
  std::string failure;
  bool stopping = false;
  auto stop_others = [&](int sig) {
    for (std::size_t i = 0; i < pids.size(); ++i)
      if (!done[i]) ::kill(pids[i], sig);
  };
  auto deadline = std::chrono::steady_clock::time_point::max();
  while (running > 0) {
    if (g_signal != 0) {
      stop_others(g_signal);
      if (failure.empty()) failure = fmt::format("launch: stopped by signal {}", int(g_signal));
      g_signal = 0;
      stopping = true;
      deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        if (pids[i] != pid) continue;
        done[i] = true;
        --running;
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && !stopping) {
          failure = fmt::format("launch: rank {} (pid {}) {}; stopped the other ranks",
                                o.node_rank * o.nproc + static_cast<int>(i), pid,
                                describe_status(status));
          stopping = true;
          stop_others(SIGTERM);
          deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        }
      }
      continue;
    }
    if (stopping && std::chrono::steady_clock::now() > deadline) {
      stop_others(SIGKILL);
      deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!failure.empty()) fail("{}", failure);
}

void setup_launch(CLI::App& root) {
  auto o = std::make_shared<LaunchOpts>();
  auto* cmd = root.add_subcommand(
      "launch",
      "Start this node's ranks of a distributed run: tutti launch --nproc-per-node P -- train ...");
  cmd->add_option("--nproc-per-node", o->nproc, "Ranks (processes) to start on this node")
      ->required();
  cmd->add_option("--nnodes", o->nnodes, "Nodes in the run")->capture_default_str();
  cmd->add_option("--node-rank", o->node_rank, "This node's index, 0..nnodes-1")
      ->capture_default_str();
  cmd->add_option("--master", o->master,
                  "ADDR:PORT of rank 0's store (default: 127.0.0.1 and a free port; required "
                  "with --nnodes > 1)");
  cmd->add_option("--timeout", o->timeout_s,
                  "Seconds to wait for the master and for every collective before failing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("COMMAND", o->command, "The tutti verb and its arguments, after `--`")
      ->required();
  cmd->callback([o] { run_launch(*o); });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("launch", 95, tutti::cli::setup_launch);
