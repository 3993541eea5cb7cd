#include "tutti/train/checkpoint.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cstring>
#include <mutex>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/random.h"

namespace tutti::train {

namespace {

constexpr const char* kFormat = "tutti-checkpoint";
constexpr int kFormatVersion = 1;

// A 64-bit hash of byte spans, eight bytes per splitmix64 step (the tail zero-padded).
struct Hash64 {
  std::uint64_t h = 0x243F6A8885A308D3ull;
  void bytes(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::uint8_t*>(p);
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, b + i, 8);
      h = core::splitmix64(h ^ w);
    }
    std::uint64_t w = 0;
    std::memcpy(&w, b + i, n - i);
    h = core::splitmix64(h ^ w ^ (static_cast<std::uint64_t>(n) << 56));
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    bytes(v.data(), v.size() * sizeof(T));
  }
};

std::vector<std::uint8_t> archive_bytes(torch::serialize::OutputArchive& ar) {
  std::ostringstream os;
  ar.save_to(os);
  const std::string s = os.str();
  return {s.begin(), s.end()};
}

void write_tensors(torch::serialize::OutputArchive& ar, const std::string& prefix,
                   const std::vector<torch::Tensor>& ts) {
  ar.write(prefix + "n", torch::tensor(static_cast<std::int64_t>(ts.size())));
  for (std::size_t i = 0; i < ts.size(); ++i)
    ar.write(prefix + std::to_string(i), ts[i].detach().to(torch::kCPU).contiguous());
}

std::vector<torch::Tensor> read_tensors(torch::serialize::InputArchive& ar,
                                        const std::string& prefix) {
  torch::Tensor n;
  ar.read(prefix + "n", n);
  std::vector<torch::Tensor> ts(static_cast<std::size_t>(n.item<std::int64_t>()));
  for (std::size_t i = 0; i < ts.size(); ++i) ar.read(prefix + std::to_string(i), ts[i]);
  return ts;
}

// The first key whose value differs between two option objects, as "key A there, B here".
std::string first_difference(const core::Json& there, const core::Json& here) {
  for (const auto& [k, v] : here.items()) {
    const auto it = there.find(k);
    if (it == there.end()) return fmt::format("{} absent there, {} here", k, v.dump());
    if (*it != v) return fmt::format("{} {} there, {} here", k, it->dump(), v.dump());
  }
  for (const auto& [k, v] : there.items())
    if (!here.contains(k)) return fmt::format("{} {} there, absent here", k, v.dump());
  return "none";
}

// The bytes of a checkpoint file behind a status byte: 1 = the file, 0 = an error message (what
// rank 0 sends the others when it cannot read the file, so that every rank fails with its line).
std::vector<std::uint8_t> status_and_file(const std::filesystem::path& path) {
  std::string error;
  if (!std::filesystem::exists(path)) {
    error = fmt::format(
        "train: --resume: no checkpoint {}: --resume continues a run started with "
        "--checkpoint-every N and the same -o",
        path.string());
  } else {
    try {
      auto bytes = core::read_file_bytes(path);
      bytes.insert(bytes.begin(), 1);
      return bytes;
    } catch (const Error& e) {
      error = e.what();
    }
  }
  std::vector<std::uint8_t> out = {0};
  out.insert(out.end(), error.begin(), error.end());
  return out;
}

TrainState decode(const std::vector<std::uint8_t>& bytes, const std::string& what,
                  const CheckpointIdentity& id) {
  torch::serialize::InputArchive ar;
  core::Json meta;
  try {
    ar.load_from(reinterpret_cast<const char*>(bytes.data()), bytes.size(), torch::Device("cpu"));
    c10::IValue text;
    ar.read("checkpoint.json", text);
    meta = core::Json::parse(text.toStringRef());
  } catch (const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string why = c10_error ? c10_error->what_without_backtrace() : e.what();
    fail("train: --resume: {}: not a tutti checkpoint ({})", what, why.substr(0, why.find('\n')));
  }
  check(meta.value("format", "") == kFormat && meta.value("format_version", 0) == kFormatVersion,
        "train: --resume: {}: not a tutti checkpoint of format version {}", what, kFormatVersion);
  const auto version = meta.at("tutti_version").get<std::string>();
  check(version == id.tutti_version,
        "train: --resume: {} was written by tutti {} (this is tutti {}); remove it to start over",
        what, version, id.tutti_version);
  check(meta.at("options") == id.options,
        "train: --resume: {} was written with other training options ({}); resume with the "
        "options it was started with, or remove it to start over",
        what, first_difference(meta.at("options"), id.options));
  const auto data = meta.at("data").get<std::string>();
  check(data == id.data,
        "train: --resume: {} was written for other data (clips digest {} there, {} here); "
        "remove it to start over",
        what, data, id.data);
  const int world = meta.at("world_size").get<int>();
  check(world == id.world_size,
        "train: --resume: {} was written by a run of {} rank(s); this run has {}", what, world,
        id.world_size);

  TrainState s;
  s.epoch = meta.at("epoch").get<int>();
  s.shuffle_rng = meta.at("shuffle_rng").get<std::string>();
  s.dropout_counter = meta.at("dropout_counter").get<std::uint64_t>();
  s.has_fused_adam = meta.at("optimizer").get<std::string>() == "fused_adam";
  try {
    s.model = read_tensors(ar, "model/");
    s.best = read_tensors(ar, "best/");
    s.average = read_tensors(ar, "average/");
    torch::Tensor updates;
    ar.read("average/updates", updates);
    s.average_updates = updates.item<std::int64_t>();
    ar.read("torch_rng", s.torch_rng);
    if (s.has_fused_adam) {
      s.fused_adam.m = read_tensors(ar, "adam/m/");
      s.fused_adam.v = read_tensors(ar, "adam/v/");
      torch::Tensor steps;
      ar.read("adam/steps", steps);
      s.fused_adam.steps = steps.item<std::int64_t>();
    } else {
      torch::Tensor adam;
      ar.read("adam/archive", adam);
      const auto* p = adam.data_ptr<std::uint8_t>();
      s.adam.assign(p, p + adam.numel());
    }
    torch::Tensor history, scalars;
    ar.read("history", history);
    ar.read("scalars", scalars);
    const auto h = history.accessor<double, 2>();
    for (std::int64_t e = 0; e < history.size(0); ++e)
      s.summary.history.push_back({static_cast<int>(h[e][0]), h[e][1], h[e][2], h[e][3], h[e][4]});
    const auto c = scalars.accessor<double, 1>();
    s.summary.best_epoch = static_cast<int>(c[0]);
    s.summary.epochs_run = static_cast<int>(c[1]);
    s.summary.val_loss = c[2];
    s.summary.val_map = c[3];
    s.summary.train_seconds = c[4];
    s.since_best = static_cast<int>(c[5]);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
    std::string why = c10_error ? c10_error->what_without_backtrace() : e.what();
    fail("train: --resume: {}: a broken checkpoint ({})", what, why.substr(0, why.find('\n')));
  }
  return s;
}

}  // namespace

std::string checkpoint_data_digest(const data::BagDataset& train, const data::BagDataset& val) {
  Hash64 h;
  for (const auto* ds : {&train, &val}) {
    h.vec(ds->x_u8);
    h.vec(ds->x_f32);
    h.vec(ds->n_instances);
    h.vec(ds->y_true);
    h.vec(ds->y_mask);
    for (const auto& c : ds->classes) h.bytes(c.data(), c.size());
  }
  return fmt::format("{:016x}", h.h);
}

torch::Tensor torch_rng_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_torch_rng_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

void write_checkpoint(const std::filesystem::path& path, const CheckpointIdentity& id,
                      const TrainState& s) {
  const core::Json meta = {{"format", kFormat},
                           {"format_version", kFormatVersion},
                           {"tutti_version", id.tutti_version},
                           {"options", id.options},
                           {"data", id.data},
                           {"world_size", id.world_size},
                           {"epoch", s.epoch},
                           {"shuffle_rng", s.shuffle_rng},
                           {"dropout_counter", s.dropout_counter},
                           {"optimizer", s.has_fused_adam ? "fused_adam" : "torch_adam"}};
  torch::serialize::OutputArchive ar;
  ar.write("checkpoint.json", c10::IValue(meta.dump()));
  write_tensors(ar, "model/", s.model);
  write_tensors(ar, "best/", s.best);
  write_tensors(ar, "average/", s.average);
  ar.write("average/updates", torch::tensor(s.average_updates));
  ar.write("torch_rng", s.torch_rng);
  if (s.has_fused_adam) {
    write_tensors(ar, "adam/m/", s.fused_adam.m);
    write_tensors(ar, "adam/v/", s.fused_adam.v);
    ar.write("adam/steps", torch::tensor(s.fused_adam.steps));
  } else {
    ar.write("adam/archive",
             torch::from_blob(const_cast<std::uint8_t*>(s.adam.data()),
                              {static_cast<std::int64_t>(s.adam.size())}, torch::kUInt8)
                 .clone());
  }
  // Doubles as tensors: JSON has no NaN or infinity (a validation loss may be either).
  const auto& sum = s.summary;
  auto history = torch::zeros({static_cast<std::int64_t>(sum.history.size()), 5}, torch::kFloat64);
  for (std::size_t e = 0; e < sum.history.size(); ++e) {
    const auto& r = sum.history[e];
    const double row[5] = {static_cast<double>(r.epoch), r.train_loss, r.val_loss, r.val_map,
                           r.seconds};
    for (int k = 0; k < 5; ++k) history[static_cast<std::int64_t>(e)][k] = row[k];
  }
  ar.write("history", history);
  ar.write("scalars", torch::tensor({static_cast<double>(sum.best_epoch),
                                     static_cast<double>(sum.epochs_run), sum.val_loss, sum.val_map,
                                     sum.train_seconds, static_cast<double>(s.since_best)},
                                    torch::kFloat64));
  const auto bytes = archive_bytes(ar);
  core::write_file_atomic(
      path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

TrainState load_checkpoint(const std::filesystem::path& path, const CheckpointIdentity& id,
                           dist::ProcessGroup* group) {
  std::vector<std::uint8_t> bytes;
  if (!group || group->rank() == 0) bytes = status_and_file(path);
  if (group) group->broadcast(bytes);
  check(!bytes.empty(), "train: --resume: {}: nothing received from rank 0", path.string());
  if (bytes[0] == 0) fail("{}", std::string(bytes.begin() + 1, bytes.end()));
  bytes.erase(bytes.begin());
  return decode(bytes, path.string(), id);
}

}  // namespace tutti::train
