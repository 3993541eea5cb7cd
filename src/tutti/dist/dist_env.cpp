#include "tutti/dist/dist_env.h"

#include <cstdlib>
#include <string>

#include "tutti/core/error.h"

namespace tutti::dist {

namespace {

std::optional<long> integer(const GetEnv& get, const char* name) {
  const char* v = get(name);
  if (!v) return std::nullopt;
  const std::string s = v;
  std::size_t used = 0;
  long out = 0;
  try {
    out = std::stol(s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  check<UsageError>(!s.empty() && used == s.size(), "dist: {}='{}' is not an integer", name, s);
  return out;
}

}  // namespace

std::optional<DistEnv> read_dist_env(const GetEnv& given) {
  const GetEnv get = given ? given : GetEnv([](const char* n) { return std::getenv(n); });
  struct Source {
    const char *name, *rank, *size, *local;
    bool single_is_plain;  // a one-task job of this launcher is not a distributed run
  };
  static const Source kSources[] = {
      {"torchrun", "RANK", "WORLD_SIZE", "LOCAL_RANK", false},
      {"slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", true},
      {"openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
       true},
  };
  for (const Source& s : kSources) {
    const auto rank = integer(get, s.rank);
    const auto size = integer(get, s.size);
    if (!rank && !size) continue;
    check<UsageError>(rank && size, "dist: {} is set but {} is not", rank ? s.rank : s.size,
                      rank ? s.size : s.rank);
    if (s.single_is_plain && *size <= 1) return std::nullopt;
    check<UsageError>(*size >= 1, "dist: {}={} must be at least 1", s.size, *size);
    check<UsageError>(*rank >= 0 && *rank < *size,
                      "dist: {}={} is outside 0..{} ({}={}): every rank must be below the world "
                      "size",
                      s.rank, *rank, *size - 1, s.size, *size);
    DistEnv env;
    env.source = s.name;
    env.rank = static_cast<int>(*rank);
    env.world_size = static_cast<int>(*size);
    env.local_rank = static_cast<int>(integer(get, s.local).value_or(0));
    const char* addr = get("MASTER_ADDR");
    check<UsageError>(addr && *addr,
                      "dist: MASTER_ADDR is not set ({} run of {} ranks): export the address of "
                      "rank 0's host",
                      s.name, env.world_size);
    env.master_addr = addr;
    const auto port = integer(get, "MASTER_PORT");
    check<UsageError>(port.has_value(), "dist: MASTER_PORT is not set: export a free TCP port");
    check<UsageError>(*port >= 1 && *port <= 65535,
                      "dist: MASTER_PORT={} is not a TCP port (1..65535)", *port);
    env.master_port = static_cast<int>(*port);
    if (const char* a = get("TORCHELASTIC_USE_AGENT_STORE"))
      env.agent_store = std::string(a) == "True" || std::string(a) == "1";
    if (const char* r = get("TORCHELASTIC_RESTART_COUNT")) env.store_prefix += std::string("/") + r;
    if (const char* t = get("TUTTI_DIST_TIMEOUT_S")) {
      char* end = nullptr;
      env.timeout_s = std::strtod(t, &end);
      check<UsageError>(end && *end == '\0' && env.timeout_s > 0,
                        "dist: TUTTI_DIST_TIMEOUT_S='{}' is not a positive number of seconds", t);
    }
    return env;
  }
  return std::nullopt;
}

}  // namespace tutti::dist
