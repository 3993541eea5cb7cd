// The distributed environment: torchrun's variables, SLURM's and Open MPI's mapped onto them, and
// one clear usage error for each bad value.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/dist/dist_env.h"

using tutti::dist::read_dist_env;

namespace {

tutti::dist::GetEnv env_of(std::map<std::string, std::string> m) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(m));
  return [shared](const char* name) -> const char* {
    const auto it = shared->find(name);
    return it == shared->end() ? nullptr : it->second.c_str();
  };
}

const std::map<std::string, std::string> kMaster = {{"MASTER_ADDR", "10.0.0.1"},
                                                    {"MASTER_PORT", "29500"}};

std::map<std::string, std::string> with_master(std::map<std::string, std::string> m) {
  m.insert(kMaster.begin(), kMaster.end());
  return m;
}

}  // namespace

TEST(DistEnv, NoneIsOneProcess) {
  EXPECT_FALSE(read_dist_env(env_of({})).has_value());
  EXPECT_FALSE(read_dist_env(env_of(kMaster)).has_value());
}

TEST(DistEnv, Torchrun) {
  const auto e = read_dist_env(env_of(with_master(
      {{"RANK", "3"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"TUTTI_DIST_TIMEOUT_S", "2.5"}})));
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->source, "torchrun");
  EXPECT_EQ(e->rank, 3);
  EXPECT_EQ(e->world_size, 4);
  EXPECT_EQ(e->local_rank, 1);
  EXPECT_EQ(e->master_addr, "10.0.0.1");
  EXPECT_EQ(e->master_port, 29500);
  EXPECT_DOUBLE_EQ(e->timeout_s, 2.5);
  EXPECT_FALSE(e->agent_store);
  EXPECT_EQ(e->store_prefix, "tutti");
  // Under torchrun rank 0 joins the agent's store, under a prefix of the restart.
  const auto agent = read_dist_env(env_of(with_master({{"RANK", "0"},
                                                       {"WORLD_SIZE", "2"},
                                                       {"TORCHELASTIC_USE_AGENT_STORE", "True"},
                                                       {"TORCHELASTIC_RESTART_COUNT", "3"}})));
  ASSERT_TRUE(agent.has_value());
  EXPECT_TRUE(agent->agent_store);
  EXPECT_EQ(agent->store_prefix, "tutti/3");
  // A world of one given explicitly is a distributed run (the same code path as more ranks).
  const auto one = read_dist_env(env_of(with_master({{"RANK", "0"}, {"WORLD_SIZE", "1"}})));
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->world_size, 1);
  EXPECT_DOUBLE_EQ(one->timeout_s, tutti::dist::kDefaultTimeoutS);
}

TEST(DistEnv, SlurmAndOpenMpiMapOntoTorchrun) {
  const auto s = read_dist_env(
      env_of(with_master({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"}})));
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->source, "slurm");
  EXPECT_EQ(s->rank, 5);
  EXPECT_EQ(s->world_size, 8);
  EXPECT_EQ(s->local_rank, 1);
  const auto m = read_dist_env(env_of(with_master({{"OMPI_COMM_WORLD_RANK", "1"},
                                                   {"OMPI_COMM_WORLD_SIZE", "2"},
                                                   {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}})));
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->source, "openmpi");
  EXPECT_EQ(m->rank, 1);
  EXPECT_EQ(m->world_size, 2);
  // torchrun's variables win over the launcher's underneath.
  const auto both = read_dist_env(env_of(with_master(
      {{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "8"}})));
  ASSERT_TRUE(both.has_value());
  EXPECT_EQ(both->source, "torchrun");
  EXPECT_EQ(both->world_size, 2);
  // A one-task SLURM job or MPI run is a plain process (no master needed).
  EXPECT_FALSE(read_dist_env(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}})).has_value());
  EXPECT_FALSE(read_dist_env(env_of({{"OMPI_COMM_WORLD_RANK", "0"}, {"OMPI_COMM_WORLD_SIZE", "1"}}))
                   .has_value());
}

TEST(DistEnv, BadValuesAreUsageErrors) {
  auto err = [](std::map<std::string, std::string> m) {
    try {
      read_dist_env(env_of(std::move(m)));
    } catch (const tutti::UsageError& e) {
      return std::string(e.what());
    }
    return std::string("(no UsageError)");
  };
  EXPECT_NE(err(with_master({{"RANK", "2"}, {"WORLD_SIZE", "2"}})).find("RANK=2 is outside 0..1"),
            std::string::npos);
  EXPECT_NE(err(with_master({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}}))
                .find("SLURM_PROCID=4 is outside 0..3"),
            std::string::npos);
  EXPECT_NE(err(with_master({{"RANK", "-1"}, {"WORLD_SIZE", "2"}})).find("RANK=-1"),
            std::string::npos);
  EXPECT_NE(err(with_master({{"RANK", "0"}, {"WORLD_SIZE", "0"}})).find("WORLD_SIZE=0"),
            std::string::npos);
  EXPECT_NE(
      err(with_master({{"RANK", "x1"}, {"WORLD_SIZE", "2"}})).find("RANK='x1' is not an integer"),
      std::string::npos);
  EXPECT_NE(err(with_master({{"RANK", "0"}})).find("RANK is set but WORLD_SIZE is not"),
            std::string::npos);
  EXPECT_NE(err({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "1"}})
                .find("MASTER_ADDR is not set"),
            std::string::npos);
  EXPECT_NE(err({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}})
                .find("MASTER_PORT is not set"),
            std::string::npos);
  EXPECT_NE(
      err({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
          .find("MASTER_PORT=70000 is not a TCP port"),
      std::string::npos);
  EXPECT_NE(err(with_master({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"TUTTI_DIST_TIMEOUT_S", "0"}}))
                .find("TUTTI_DIST_TIMEOUT_S='0'"),
            std::string::npos);
}
