// A data-parallel process group on LibTorch's c10d: a TCPStore served by rank 0 and a
// ProcessGroupGloo over it (the CPU engine of PyTorch's DistributedDataParallel). The header is
// torch-free; only process_group.cpp includes c10d.
//
//   auto env = tutti::dist::read_dist_env();
//   auto pg = tutti::dist::ProcessGroup::connect(*env);
//   pg->check_same("data", digest);           // every rank must hold the same value
//   pg->allreduce_sum(std::span<float>(grads)); // in place, summed over the ranks
//
// Every call is collective: all ranks make the same calls in the same order. Failures throw
// tutti::Error with one line: "dist: rank R: ..." naming what went wrong (the master never
// appeared within the timeout, its port is in use, a peer was lost during a collective, ranks
// disagree in check_same).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tutti/dist/dist_env.h"

namespace tutti::dist {

class ProcessGroup {
 public:
  // Rank 0 serves the store on MASTER_PORT and waits for the others; the others connect to
  // MASTER_ADDR:MASTER_PORT. Both give up after env.timeout_s.
  static std::unique_ptr<ProcessGroup> connect(const DistEnv& env);
  ~ProcessGroup();

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }

  void allreduce_sum(std::span<float> v);
  void allreduce_sum(std::span<double> v);
  // v on every rank becomes rank 0's v.
  void broadcast(std::span<float> v);
  // bytes on every rank becomes rank 0's bytes (resized to their length).
  void broadcast(std::vector<std::uint8_t>& bytes);
  // Every rank's bytes, indexed by rank, on every rank.
  std::vector<std::vector<std::uint8_t>> all_gather(const std::vector<std::uint8_t>& mine);
  void barrier();
  // Publishes `value` under `key` and compares every rank's with rank 0's. Throws tutti::Error
  // on every rank when they differ: "dist: rank R: <what> differs from rank 0's (<a> vs <b>)".
  void check_same(const std::string& key, const std::string& value, const std::string& what);

 private:
  struct Impl;
  ProcessGroup(const DistEnv& env, std::unique_ptr<Impl> impl);
  DistEnv env_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tutti::dist
