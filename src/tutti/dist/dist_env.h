// Where a process stands in a distributed run: the environment torchrun sets (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), or SLURM's and Open MPI's per-task variables mapped onto
// it (torch-free).
//
//   auto env = tutti::dist::read_dist_env();      // std::nullopt: one process, nothing to join
//   if (env) auto pg = tutti::dist::ProcessGroup::connect(*env);   (process_group.h)
//
// Sources, first match wins:
//   torchrun / tutti launch: RANK + WORLD_SIZE (LOCAL_RANK optional)
//   SLURM (srun):            SLURM_PROCID + SLURM_NTASKS (SLURM_LOCALID), when SLURM_NTASKS > 1
//   Open MPI (mpirun):       OMPI_COMM_WORLD_RANK + OMPI_COMM_WORLD_SIZE (..._LOCAL_RANK), when
//                            the size is > 1
// A single-task SLURM or MPI job stays a plain process; an explicit RANK/WORLD_SIZE of 0/1 is a
// distributed run of one rank (same code path as more ranks). MASTER_ADDR / MASTER_PORT are always
// read from the environment (SLURM and MPI set none; export them); torchrun's agent store is
// used when torchrun says so. TUTTI_DIST_TIMEOUT_S (default
// kDefaultTimeoutS) bounds the wait for the master and every collective.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace tutti::dist {

inline constexpr double kDefaultTimeoutS = 60.0;

struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr;
  int master_port = 0;
  double timeout_s = kDefaultTimeoutS;
  std::string source;  // "torchrun", "slurm" or "openmpi": which variables were read
  // torchrun's agent already serves the store on MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE=True):
  // rank 0 joins it as a client instead of serving its own. Keys then live under a prefix of the
  // restart (TORCHELASTIC_RESTART_COUNT), so that a restarted run does not read stale ones.
  bool agent_store = false;
  std::string store_prefix = "tutti";
};

// Reads a variable (std::getenv by default; tests pass a map).
using GetEnv = std::function<const char*(const char*)>;

// The distributed environment, or std::nullopt when none is set. Throws tutti::UsageError naming
// the variable for a non-integer or negative rank, a world size < 1, RANK >= WORLD_SIZE, a missing
// MASTER_ADDR / MASTER_PORT, a port outside 1..65535 or a timeout <= 0.
std::optional<DistEnv> read_dist_env(const GetEnv& get = {});

}  // namespace tutti::dist
