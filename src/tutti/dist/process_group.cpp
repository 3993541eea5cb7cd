#include "tutti/dist/process_group.h"

// c10d's Gloo header is compiled only with USE_C10D_GLOO (as libtorch_cpu itself was).
#define USE_C10D_GLOO 1
#include <c10/util/Exception.h>
#include <glog/logging.h>
#include <torch/torch.h>

#include <chrono>
#include <type_traits>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <vector>

#include "tutti/core/error.h"

namespace tutti::dist {

namespace {

std::string first_line(const std::exception& e) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10_error ? c10_error->what_without_backtrace() : e.what();
  return s.substr(0, s.find('\n'));
}

// Gloo reports a dead peer as a closed connection or a timeout; both mean the run cannot go on.
[[noreturn]] void lost_peer(const DistEnv& env, const char* op, const std::exception& e) {
  fail(
      "dist: rank {}: lost a peer during {} (a rank exited or stopped answering within {:g} s): "
      "{}",
      env.rank, op, env.timeout_s, first_line(e));
}

}  // namespace

struct ProcessGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;  // the TCP store under env.store_prefix
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
};

ProcessGroup::ProcessGroup(const DistEnv& env, std::unique_ptr<Impl> impl)
    : env_(env), impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() = default;

std::unique_ptr<ProcessGroup> ProcessGroup::connect(const DistEnv& env) {
  // c10d logs its socket errors through glog to stderr; each becomes one tutti::Error line here.
  FLAGS_minloglevel = google::GLOG_FATAL;
  const auto timeout = std::chrono::milliseconds(static_cast<std::int64_t>(env.timeout_s * 1000.0));
  auto impl = std::make_unique<Impl>();
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(env.master_port);
  so.isServer = env.rank == 0 && !env.agent_store;
  so.numWorkers = static_cast<std::size_t>(env.world_size);
  so.waitWorkers = true;
  so.timeout = timeout;
  const std::string where = fmt::format("{}:{}", env.master_addr, env.master_port);
  try {
    impl->store = c10::make_intrusive<c10d::PrefixStore>(
        env.store_prefix, c10::make_intrusive<c10d::TCPStore>(env.master_addr, so));
  } catch (const std::exception& e) {
    const std::string why = first_line(e);
    if (so.isServer) {
      const bool in_use = why.find("ddress already in use") != std::string::npos;
      if (in_use)
        fail(
            "dist: rank 0: cannot serve the store on {}: the port is in use (choose another "
            "MASTER_PORT)",
            where);
      fail("dist: rank 0: the other {} rank(s) did not all join {} within {:g} s: {}",
           env.world_size - 1, where, env.timeout_s, why);
    }
    fail(
        "dist: rank {}: the master {} never appeared within {:g} s (is rank 0 running, and "
        "MASTER_ADDR/MASTER_PORT right?): {}",
        env.rank, where, env.timeout_s, why);
  }
  try {
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
    opts->threads = 1;
    impl->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", impl->store), env.rank, env.world_size,
        opts);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    lost_peer(env, "the Gloo connection setup", e);
  }
  return std::unique_ptr<ProcessGroup>(new ProcessGroup(env, std::move(impl)));
}

namespace {

// One collective on the tensor viewing v (no copy); a failure becomes lost_peer.
template <typename T, typename Op>
void on_view(const DistEnv& env, const char* what, std::span<T> v, Op&& op) {
  if (v.empty()) return;
  const auto type = std::is_same_v<T, double>         ? torch::kFloat64
                    : std::is_same_v<T, std::uint8_t> ? torch::kByte
                                                      : torch::kFloat32;
  std::vector<torch::Tensor> t = {torch::from_blob(
      v.data(), {static_cast<std::int64_t>(v.size())}, torch::TensorOptions().dtype(type))};
  try {
    op(t)->wait();
  } catch (const std::exception& e) {
    lost_peer(env, what, e);
  }
}

}  // namespace

void ProcessGroup::allreduce_sum(std::span<float> v) {
  on_view(env_, "an allreduce", v, [&](auto& t) { return impl_->pg->allreduce(t); });
}

void ProcessGroup::allreduce_sum(std::span<double> v) {
  on_view(env_, "an allreduce", v, [&](auto& t) { return impl_->pg->allreduce(t); });
}

void ProcessGroup::broadcast(std::span<float> v) {
  on_view(env_, "a broadcast", v, [&](auto& t) { return impl_->pg->broadcast(t); });
}

void ProcessGroup::broadcast(std::vector<std::uint8_t>& bytes) {
  const auto bcast = [&](auto& t) { return impl_->pg->broadcast(t); };
  std::vector<double> size = {static_cast<double>(bytes.size())};  // exact below 2^53
  on_view(env_, "a broadcast", std::span<double>(size), bcast);
  bytes.resize(static_cast<std::size_t>(size[0]));
  on_view(env_, "a broadcast", std::span<std::uint8_t>(bytes), bcast);
}

std::vector<std::vector<std::uint8_t>> ProcessGroup::all_gather(
    const std::vector<std::uint8_t>& mine) {
  const auto w = static_cast<std::size_t>(env_.world_size);
  const auto r = static_cast<std::size_t>(env_.rank);
  std::vector<double> sizes(w, 0.0);  // exact below 2^53
  sizes[r] = static_cast<double>(mine.size());
  allreduce_sum(std::span<double>(sizes));
  std::vector<std::size_t> offset(w + 1, 0);
  for (std::size_t i = 0; i < w; ++i)
    offset[i + 1] = offset[i] + static_cast<std::size_t>(sizes[i]);
  // Each rank fills its own range and zeros elsewhere, so the byte-wise sum is every rank's bytes.
  std::vector<std::uint8_t> all(offset[w], 0);
  std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(offset[r]));
  on_view(env_, "an allgather", std::span<std::uint8_t>(all),
          [&](auto& t) { return impl_->pg->allreduce(t); });
  std::vector<std::vector<std::uint8_t>> out(w);
  for (std::size_t i = 0; i < w; ++i)
    out[i].assign(all.begin() + static_cast<std::ptrdiff_t>(offset[i]),
                  all.begin() + static_cast<std::ptrdiff_t>(offset[i + 1]));
  return out;
}

void ProcessGroup::barrier() {
  try {
    impl_->pg->barrier()->wait();
  } catch (const std::exception& e) {
    lost_peer(env_, "a barrier", e);
  }
}

void ProcessGroup::check_same(const std::string& key, const std::string& value,
                              const std::string& what) {
  std::vector<std::uint8_t> bytes(value.begin(), value.end());
  std::string first;
  try {
    impl_->store->set(key + "/" + std::to_string(env_.rank), bytes);
    const auto r0 = impl_->store->get(key + "/0");
    first.assign(r0.begin(), r0.end());
  } catch (const std::exception& e) {
    lost_peer(env_, "the start handshake", e);
  }
  // Every rank learns of a mismatch anywhere, so that all of them stop with the same line.
  std::vector<float> differs(static_cast<std::size_t>(env_.world_size), 0.0f);
  differs[static_cast<std::size_t>(env_.rank)] = first == value ? 0.0f : 1.0f;
  allreduce_sum(std::span<float>(differs));
  for (int r = 1; r < env_.world_size; ++r) {
    if (differs[static_cast<std::size_t>(r)] == 0.0f) continue;
    std::string theirs;
    try {
      const auto b = impl_->store->get(key + "/" + std::to_string(r));
      theirs.assign(b.begin(), b.end());
    } catch (const std::exception& e) {
      lost_peer(env_, "the start handshake", e);
    }
    fail(
        "dist: rank {}: rank {}'s {} differs from rank 0's ({} vs {}): every rank must run the "
        "same tutti on the same data and options",
        env_.rank, r, what, theirs, first);
  }
}

}  // namespace tutti::dist
