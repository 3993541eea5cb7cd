// Data-parallel `tutti train` over real processes on 127.0.0.1 (c10d TCPStore + Gloo): two ranks
// with batch 64 train the model one process trains with batch 128; a lost rank, different data or
// options, a bad rank, a master that never appears and a busy port each end in one clear error.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "dist/dist_runner.h"
#include "test_util.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_model.h"

using tutti::testing::fixture;
using tutti::testing::free_port;
using tutti::testing::rank_env;
using tutti::testing::run_cli;
using tutti::testing::spawn;
using tutti::testing::TempDir;
using tutti::testing::wait_for;

namespace {

std::string data_path() { return fixture("train/train_small.npz").string(); }

std::vector<std::string> train_args(const std::string& model, int batch, const std::string& out,
                                    int epochs = 5) {
  return {"train",        data_path(),
          "--model",      model,
          "--seed",       "7",
          "--epochs",     std::to_string(epochs),
          "--batch-size", std::to_string(batch),
          "--threads",    "1",
          "-o",           out};
}

struct Loaded {
  tutti::infer::ModelInfo info;
  std::vector<torch::Tensor> tensors;  // parameters, then buffers
};

Loaded load(const std::string& path) {
  auto f = tutti::infer::read_model_file(path);
  Loaded l;
  l.info = f.info;
  auto m = tutti::models::make_model(f.info.spec);
  tutti::infer::load_weights(*m, f.blobs.at("weights.pt"), path);
  for (auto& p : m->parameters(true)) l.tensors.push_back(p.detach().clone());
  for (auto& b : m->buffers(true))
    if (b.is_floating_point()) l.tensors.push_back(b.detach().clone());
  return l;
}

// Trains `model` as one process with batch 128 and as two ranks with batch 64 each, and compares.
// one_rank_launch: the one process is a distributed run of one rank (FC_T's dropout is keyed by
// the global instance only in distributed runs; a plain run keeps torch's dropout).
void expect_equivalent(const std::string& model, bool one_rank_launch = false,
                       const std::vector<std::string>& extra = {}) {
  TempDir dir;
  const std::string one = (dir / "one.tutti").string(), two = (dir / "two.tutti").string();
  auto a1 = train_args(model, 128, one);
  auto a2 = train_args(model, 64, two);
  a1.insert(a1.end(), extra.begin(), extra.end());
  a2.insert(a2.end(), extra.begin(), extra.end());
  std::vector<std::string> launch = {"launch", "--nproc-per-node", "2", "--timeout", "30", "--"};
  launch.insert(launch.end(), a2.begin(), a2.end());
  if (one_rank_launch) a1.insert(a1.begin(), {"launch", "--nproc-per-node", "1", "--"});
  const auto r1 = run_cli(a1);
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  const auto r2 = run_cli(launch);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_NE(r2.err.find("trained " + model), std::string::npos) << r2.err;
  EXPECT_EQ(tutti::testing::count_lines(r2.err), 1) << "rank 0 alone reports:\n" << r2.err;

  const Loaded w1 = load(one), w2 = load(two);
  ASSERT_EQ(w1.tensors.size(), w2.tensors.size());
  double max_diff = 0;
  for (std::size_t i = 0; i < w1.tensors.size(); ++i)
    max_diff = std::max(max_diff, (w1.tensors[i] - w2.tensors[i]).abs().max().item<double>());
  std::printf(
      "%s: world 2 x batch 64 vs world 1 x batch 128, 5 epochs: max |weight difference| "
      "= %.3g over %zu tensors\n",
      model.c_str(), max_diff, w1.tensors.size());
  EXPECT_LT(max_diff, 1e-4);
  EXPECT_EQ(w1.info.training.best_epoch, w2.info.training.best_epoch);
  EXPECT_EQ(w1.info.training.epochs_run, w2.info.training.epochs_run);
  EXPECT_NEAR(w1.info.training.val_loss, w2.info.training.val_loss, 1e-5);
  ASSERT_EQ(w1.info.thresholds.size(), w2.info.thresholds.size());
  double max_thr = 0;
  for (std::size_t c = 0; c < w1.info.thresholds.size(); ++c)
    max_thr = std::max(max_thr, std::abs(double(w1.info.thresholds[c]) - w2.info.thresholds[c]));
  std::printf("%s: max |threshold difference| = %.3g\n", model.c_str(), max_thr);
  EXPECT_LT(max_thr, 1e-4);
  // Every epoch's losses agree too (the history is reduced over the ranks).
  ASSERT_EQ(w1.info.training.history.size(), w2.info.training.history.size());
  for (std::size_t e = 0; e < w1.info.training.history.size(); ++e) {
    EXPECT_NEAR(w1.info.training.history[e].train_loss, w2.info.training.history[e].train_loss,
                1e-5);
    EXPECT_NEAR(w1.info.training.history[e].val_loss, w2.info.training.history[e].val_loss, 1e-5);
  }
}

// One rank of `tutti train --model model` with `env`, to its end (at most 30 s).
tutti::testing::Ended run_rank(const std::map<std::string, std::string>& env,
                               const std::string& model) {
  TempDir dir;
  return wait_for(spawn(env, train_args(model, 32, (dir / "m").string()), dir / "e"), 30);
}

// `tutti launch` of two ranks training ATT for a long time into `out`, after 2.5 s (training).
tutti::testing::Proc launch_long_training(const TempDir& dir, const std::string& out) {
  std::vector<std::string> args = {"launch", "--nproc-per-node", "2", "--timeout", "30", "--"};
  const auto t = train_args("att", 32, out, 100000);
  args.insert(args.end(), t.begin(), t.end());
  auto launch = spawn({}, args, dir / "e");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  return launch;
}

// `tutti launch`'s children: its ranks 0 and 1, started in that order (0 when absent).
std::pair<pid_t, pid_t> two_ranks_of(pid_t launch) {
  std::ifstream kids("/proc/" + std::to_string(launch) + "/task/" + std::to_string(launch) +
                     "/children");
  pid_t rank0 = 0, rank1 = 0;
  kids >> rank0 >> rank1;
  return {rank0, rank1};
}

}  // namespace

TEST(DistTrain, AttFusedTwoRanksEqualOneProcess) { expect_equivalent("att"); }
TEST(DistTrain, FcTTwoRanksEqualOneRank) { expect_equivalent("fc_t", true); }
// MMGAT with every auxiliary loss on (label autoencoder, both center losses, the onset-group
// task, with onset groups given and center-loss weights raised so that they move the weights):
// global normalizers, autoencoder masks keyed by the global clip, centers updated from the sums
// over the ranks.
TEST(DistTrain, MmgatWithAuxiliaryLossesTwoRanksEqualOneProcess) {
  expect_equivalent("mmgat", false,
                    {"--option", "onset_groups=[0,1,0]", "--option", "lambda_c1=0.1", "--option",
                     "lambda_c2=0.1", "--option", "lambda_aux=0.5"});
}
TEST(DistTrain, MmgatWithoutAuxiliaryLossesTwoRanksEqualOneProcess) {
  expect_equivalent("mmgat", false,
                    {"--option", "use_labels=false", "--option", "use_aux=false", "--option",
                     "lambda_c1=0", "--option", "lambda_c2=0"});
}

TEST(DistTrain, AttFusedWorldOneIsBitIdenticalToOneProcess) {
  TempDir dir;
  const std::string one = (dir / "one.tutti").string(), two = (dir / "w1.tutti").string();
  ASSERT_EQ(run_cli(train_args("att", 64, one)).exit_code, 0);
  std::vector<std::string> launch = {"launch", "--nproc-per-node", "1", "--"};
  const auto a = train_args("att", 64, two);
  launch.insert(launch.end(), a.begin(), a.end());
  const auto r = run_cli(launch);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Loaded w1 = load(one), w2 = load(two);
  for (std::size_t i = 0; i < w1.tensors.size(); ++i)
    EXPECT_TRUE(torch::equal(w1.tensors[i], w2.tensors[i])) << "tensor " << i;
}

TEST(DistTrain, RankKilledMidEpochEndsTheOthers) {
  TempDir dir;
  const int port = free_port();
  const std::string out = (dir / "m.tutti").string();
  const auto args = train_args("att", 32, out, 100000);
  // A 10 s timeout bounds every wait, should rank 1 die before the ranks are connected.
  auto r0 = spawn(rank_env(0, 2, port, 10), args, dir / "e0");
  auto r1 = spawn(rank_env(1, 2, port, 10), args, dir / "e1");
  // Wait until the ranks train (the store answered, epochs run), then kill rank 1.
  std::this_thread::sleep_for(std::chrono::milliseconds(4000));
  ::kill(r1.pid, SIGKILL);
  const auto e1 = wait_for(r1, 5);
  const auto e0 = wait_for(r0, 60);
  EXPECT_TRUE(e0.in_time) << "rank 0 still ran 60 s after rank 1 was killed";
  EXPECT_EQ(e0.exit_code, 1) << e0.err;
  EXPECT_NE(e0.err.find("tutti: error: dist: rank 0: lost a peer"), std::string::npos) << e0.err;
  EXPECT_EQ(tutti::testing::count_lines(e0.err), 1) << e0.err;
  std::printf("rank 0 ended %.2f s after rank 1 was killed: %s", e0.seconds, e0.err.c_str());
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(DistTrain, LaunchNamesTheFailedRankAndStopsTheOthers) {
  TempDir dir;
  const std::string out = (dir / "m.tutti").string();
  const auto launch = launch_long_training(dir, out);
  const auto [rank0, rank1] = two_ranks_of(launch.pid);
  ASSERT_GT(rank1, 0) << "launch did not start two ranks";
  ::kill(rank1, SIGKILL);
  const auto e = wait_for(launch, 60);
  EXPECT_TRUE(e.in_time);
  EXPECT_EQ(e.exit_code, 1) << e.err;
  EXPECT_NE(e.err.find("tutti: error: launch: rank 1 (pid " + std::to_string(rank1) +
                       ") was killed by signal 9 (SIGKILL); stopped the other ranks"),
            std::string::npos)
      << e.err;
  EXPECT_EQ(::kill(rank0, 0), -1) << "rank 0 still runs";
  EXPECT_FALSE(std::filesystem::exists(out));
}

TEST(DistTrain, DifferentDataOrOptionsAreRefusedOnEveryRank) {
  TempDir dir;
  struct Case {
    std::vector<std::string> rank1_extra;
    std::string data1, expect;
  };
  const std::vector<Case> cases = {
      {{}, fixture("train/train_fixed.npz").string(), "rank 1's data digest"},
      {{"--lr", "0.01"}, data_path(), "rank 1's training options differs from rank 0's"},
  };
  for (const auto& c : cases) {
    const int port = free_port();
    const std::string out = (dir / "m.tutti").string();
    auto a0 = train_args("att", 32, out);
    auto a1 = train_args("att", 32, out);
    a1[1] = c.data1;
    a1.insert(a1.end(), c.rank1_extra.begin(), c.rank1_extra.end());
    auto p0 = spawn(rank_env(0, 2, port), a0, dir / "e0");
    auto p1 = spawn(rank_env(1, 2, port), a1, dir / "e1");
    for (const auto& e : {wait_for(p0, 30), wait_for(p1, 30)}) {
      EXPECT_EQ(e.exit_code, 1) << e.err;
      EXPECT_NE(e.err.find(c.expect), std::string::npos) << e.err;
      EXPECT_EQ(tutti::testing::count_lines(e.err), 1) << e.err;
    }
    EXPECT_FALSE(std::filesystem::exists(out));
  }
}

TEST(DistTrain, RankOutsideTheWorldIsAUsageError) {
  const auto e = run_rank(rank_env(2, 2, free_port()), "att");
  EXPECT_EQ(e.exit_code, 2) << e.err;
  EXPECT_NE(e.err.find("dist: RANK=2 is outside 0..1 (WORLD_SIZE=2)"), std::string::npos) << e.err;
}

TEST(DistTrain, MasterThatNeverAppearsTimesOut) {
  const int port = free_port();
  const auto e = run_rank(rank_env(1, 2, port, 2), "att");
  EXPECT_EQ(e.exit_code, 1) << e.err;
  EXPECT_NE(e.err.find("dist: rank 1: the master 127.0.0.1:" + std::to_string(port) +
                       " never appeared within 2 s"),
            std::string::npos)
      << e.err;
  EXPECT_EQ(tutti::testing::count_lines(e.err), 1) << e.err;
  EXPECT_LT(e.seconds, 20);
}

TEST(DistTrain, BusyMasterPortIsAnError) {
  // Hold a listening socket on the port rank 0 is told to serve.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const int port = ntohs(a.sin_port);
  const auto e = run_rank(rank_env(0, 2, port, 2), "att");
  ::close(fd);
  EXPECT_EQ(e.exit_code, 1) << e.err;
  EXPECT_NE(e.err.find("dist: rank 0: cannot serve the store on 127.0.0.1:" + std::to_string(port) +
                       ": the port is in use"),
            std::string::npos)
      << e.err;
}

// The forest's classes split across two ranks (rank 0: classes 0, 2; rank 1: class 1) and
// gathered: the forests, thresholds and scores of one process, to the byte.
TEST(DistTrain, ForestClassesAcrossRanksGiveTheOneProcessFile) {
  TempDir dir;
  const std::string one = (dir / "one.tutti").string(), two = (dir / "two.tutti").string();
  auto a1 = train_args("rf", 32, one);
  a1.insert(a1.end(), {"--rf-trees", "10"});
  auto a2 = train_args("rf", 32, two);
  a2.insert(a2.end(), {"--rf-trees", "10"});
  const auto r1 = run_cli(a1);
  ASSERT_EQ(r1.exit_code, 0) << r1.err;
  std::vector<std::string> launch = {"launch", "--nproc-per-node", "2", "--timeout", "30", "--"};
  launch.insert(launch.end(), a2.begin(), a2.end());
  const auto r2 = run_cli(launch);
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(tutti::testing::count_lines(r2.err), 1) << "rank 0 alone reports:\n" << r2.err;
  const auto c1 = tutti::testing::model_file_content(one);
  const auto c2 = tutti::testing::model_file_content(two);
  ASSERT_EQ(c1.entries.size(), 3u);  // forest-0.ubj .. forest-2.ubj
  EXPECT_TRUE(c1.entries == c2.entries) << "the gathered forests differ";
  EXPECT_EQ(c1.meta, c2.meta);
}

// Under torchrun the agent serves the store on MASTER_PORT and every rank, rank 0 included, joins
// it (TORCHELASTIC_USE_AGENT_STORE=True). PyTorch's own TCPStore stands in for the agent here.
TEST(DistTrain, RanksJoinTorchrunsAgentStore) {
  TempDir dir;
  const int port = free_port();
  const pid_t store = ::fork();
  if (store == 0) {
    const std::string code =
        "import datetime, time, torch.distributed as d\n"
        "s = d.TCPStore('127.0.0.1', " +
        std::to_string(port) +
        ", None, True, datetime.timedelta(seconds=60), wait_for_workers=False)\n"
        "time.sleep(60)\n";
    ::execl("/usr/bin/python3", "python3", "-c", code.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the store is up
  const std::string out = (dir / "m.tutti").string();
  std::vector<tutti::testing::Proc> ranks;
  for (int r = 0; r < 2; ++r) {
    auto env = rank_env(r, 2, port, 20);
    env["TORCHELASTIC_USE_AGENT_STORE"] = "True";
    env["TORCHELASTIC_RESTART_COUNT"] = "0";
    ranks.push_back(spawn(env, train_args("att", 32, out, 2), dir / ("e" + std::to_string(r))));
  }
  for (const auto& p : ranks) {
    const auto e = wait_for(p, 60);
    EXPECT_EQ(e.exit_code, 0) << e.err;
  }
  ::kill(store, SIGKILL);
  ::waitpid(store, nullptr, 0);
  EXPECT_TRUE(std::filesystem::exists(out));
}

TEST(DistLaunch, BadArgumentsAreUsageErrors) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"launch", "--nproc-per-node", "0", "--", "models", "list"},
       "--nproc-per-node 0: must be at least 1"},
      {{"launch", "--nproc-per-node", "1", "--master", "host", "--", "models", "list"},
       "--master host: expected ADDR:PORT"},
      {{"launch", "--nproc-per-node", "1", "--master", "host:99999", "--", "models", "list"},
       "--master host:99999: port '99999' is not a TCP port"},
      {{"launch", "--nproc-per-node", "1", "--nnodes", "2", "--", "models", "list"},
       "--master ADDR:PORT is required with --nnodes 2"},
      {{"launch", "--nproc-per-node", "1", "--nnodes", "2", "--node-rank", "2", "--master", "h:1",
        "--", "models", "list"},
       "--node-rank 2: must be in 0..1"},
  };
  for (const auto& [args, expect] : cases) {
    const auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
  }
}

TEST(DistLaunch, ForwardsSigtermToTheRanks) {
  TempDir dir;
  const std::string out = (dir / "m.tutti").string();
  const auto launch = launch_long_training(dir, out);
  const auto [rank0, rank1] = two_ranks_of(launch.pid);
  ASSERT_GT(rank1, 0) << "launch did not start two ranks";
  ::kill(launch.pid, SIGTERM);
  const auto e = wait_for(launch, 30);
  EXPECT_TRUE(e.in_time);
  EXPECT_EQ(e.exit_code, 1) << e.err;
  EXPECT_NE(e.err.find("launch: stopped by signal 15"), std::string::npos) << e.err;
  EXPECT_EQ(::kill(rank0, 0), -1);
  EXPECT_EQ(::kill(rank1, 0), -1);
  EXPECT_FALSE(std::filesystem::exists(out));
}
