// Training the logmel-cnn embedder (embedder_trainer.h).
#include "tutti/train/embedder_trainer.h"

#include <torch/torch.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <set>
#include <span>
#include <sstream>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/random.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/data/npz.h"
#include "tutti/embed/cnn_net.h"
#include "tutti/embed/embed_files.h"
#include "tutti/embed/vggish.h"
#include "tutti/features/file_examples.h"
#include "tutti/train/patch_augment.h"

namespace tutti::train {

namespace fs = std::filesystem;

namespace {

// Patches are the examples of the VGGish front end: 96 frames x 64 mel bands.
using embed::kVggishBands;
using embed::kVggishFrames;
constexpr std::int64_t kPatch = kVggishFrames * kVggishBands;
// Seed streams (core::derive_seed): the batch order and the augmentation of each epoch.
constexpr std::uint64_t kOrderStream = 1, kAugmentStream = 2;

// Every patch and label of the data folders.
struct PatchData {
  std::vector<float> patches;            // [F, 96, 64]
  std::vector<std::int64_t> clip_first;  // [N + 1]: clip i's patches are [first[i], first[i+1])
  std::vector<float> y_true;             // [N, C]
  std::vector<std::uint8_t> y_mask;      // [N, C]
  std::vector<std::uint8_t> y_frame;     // [F, C]
  std::vector<std::string> classes;
  std::int64_t clips() const { return static_cast<std::int64_t>(clip_first.size()) - 1; }
  std::int64_t frames() const { return clip_first.back(); }
};

struct Folder {
  fs::path dir, labels, instances;
  std::vector<embed::InputFile> files;
};

Folder open_folder(const fs::path& dir) {
  Folder f{dir, dir / "labels.csv", dir / "instances.csv", {}};
  check(fs::is_directory(dir / "audio"),
        "train-embedder: {}: no audio/ folder (expected `tutti synth` output)", dir.string());
  for (const auto& p : {f.labels, f.instances})
    check(fs::is_regular_file(p), "train-embedder: {}: missing (expected `tutti synth` output)",
          p.string());
  const fs::path audio = dir / "audio";
  f.files = embed::collect_audio_files(std::span(&audio, 1));
  return f;
}

// What the cache was made from: folders, their label files and audio files with sizes.
std::string data_signature(const std::vector<Folder>& folders) {
  core::Json j = core::Json::array();
  for (const auto& f : folders) {
    core::Json files = core::Json::array();
    for (const auto& in : f.files) files.push_back({in.key, fs::file_size(in.path)});
    j.push_back({{"dir", fs::absolute(f.dir).lexically_normal().string()},
                 {"labels", core::md5_file_hex(f.labels)},
                 {"instances", core::md5_file_hex(f.instances)},
                 {"audio", files}});
  }
  return j.dump();
}

std::vector<std::string> csv_instruments(const Folder& f, const std::vector<fs::path>& paths) {
  data::BagDataset probe = data::BagDataset::zeros(static_cast<std::int64_t>(paths.size()), 1, 1,
                                                   {}, data::FeatureType::kUint8);
  for (std::size_t i = 0; i < paths.size(); ++i) probe.keys[i] = f.files[i].key;
  embed::attach_weak_labels(probe, paths, f.labels);
  return probe.classes;
}

PatchData build_patches(const std::vector<Folder>& folders, int threads,
                        const EmbedderTrainCallbacks& cb) {
  // Classes: every instrument of every labels.csv, sorted (a folder rendered with a font that
  // lacks a class has no rows for it: unknown there).
  std::vector<std::vector<fs::path>> paths(folders.size());
  std::set<std::string> names;
  for (std::size_t d = 0; d < folders.size(); ++d) {
    for (const auto& in : folders[d].files) paths[d].push_back(in.path);
    for (auto& c : csv_instruments(folders[d], paths[d])) names.insert(c);
  }
  PatchData out;
  out.classes.assign(names.begin(), names.end());
  const auto C = static_cast<std::int64_t>(out.classes.size());
  out.clip_first = {0};
  std::int64_t total = 0, done = 0;
  for (const auto& f : folders) total += static_cast<std::int64_t>(f.files.size());
  for (std::size_t d = 0; d < folders.size(); ++d) {
    const Folder& f = folders[d];
    const std::size_t n = f.files.size();
    std::vector<features::FileExamples> ex(n);
    std::mutex mu;
    core::parallel_for(n, threads, [&](std::size_t i) {
      ex[i] = features::vggish_examples_from_file(f.files[i].path);
      if (cb.on_data) {
        std::lock_guard lock(mu);
        cb.on_data(++done, total);
      }
    });
    std::int64_t k = 1;
    for (const auto& e : ex) k = std::max<std::int64_t>(k, static_cast<std::int64_t>(e.count));
    auto ds = data::BagDataset::zeros(static_cast<std::int64_t>(n), k, 1, out.classes,
                                      data::FeatureType::kUint8);
    for (std::size_t i = 0; i < n; ++i) {
      ds.keys[i] = f.files[i].key;
      ds.n_instances[i] = static_cast<std::int32_t>(ex[i].count);
    }
    embed::attach_weak_labels(ds, paths[d], f.labels, out.classes);
    ds.y_instance.assign(static_cast<std::size_t>(n * k * C), 0);
    embed::attach_instance_truth(ds, f.instances, paths[d]);
    for (std::size_t i = 0; i < n; ++i) {
      const auto t = static_cast<std::int64_t>(ex[i].count);
      if (t == 0) continue;  // shorter than one example: nothing to learn from
      out.patches.insert(out.patches.end(), ex[i].values.begin(), ex[i].values.end());
      ex[i].values = {};
      const auto row = static_cast<std::size_t>(i) * static_cast<std::size_t>(C);
      out.y_true.insert(out.y_true.end(), ds.y_true.begin() + row, ds.y_true.begin() + row + C);
      out.y_mask.insert(out.y_mask.end(), ds.y_mask.begin() + row, ds.y_mask.begin() + row + C);
      const auto inst = static_cast<std::size_t>(i * k * C);
      out.y_frame.insert(out.y_frame.end(), ds.y_instance.begin() + inst,
                         ds.y_instance.begin() + inst + t * C);
      out.clip_first.push_back(out.clip_first.back() + t);
    }
  }
  return out;
}

void write_cache(const fs::path& file, const PatchData& d, const std::string& signature) {
  const auto N = d.clips(), F = d.frames(), C = static_cast<std::int64_t>(d.classes.size());
  data::write_npz(
      file, {{"patches", data::NpyArray::from_f32({F, kVggishFrames, kVggishBands}, d.patches)},
             {"clip_first", data::NpyArray::from_i64({N + 1}, d.clip_first)},
             {"y_true", data::NpyArray::from_f32({N, C}, d.y_true)},
             {"y_mask", data::NpyArray::from_u8({N, C}, d.y_mask)},
             {"y_frame", data::NpyArray::from_u8({F, C}, d.y_frame)},
             {"classes", data::NpyArray::from_strings(d.classes)},
             {"signature", data::NpyArray::from_strings({signature})}});
}

// The cache when it was made from the same data, else nothing.
std::optional<PatchData> read_cache(const fs::path& file, const std::string& signature) {
  if (!fs::is_regular_file(file)) return std::nullopt;
  const std::string what = file.string();
  auto a = data::read_npz(file);
  for (const char* key :
       {"patches", "clip_first", "y_true", "y_mask", "y_frame", "classes", "signature"})
    check(a.count(key) == 1, "train-embedder: cache {}: array '{}' missing", what, key);
  if (a.at("signature").as_strings(what) != std::vector<std::string>{signature})
    return std::nullopt;
  PatchData d;
  d.patches = a.at("patches").as_f32(what);
  d.clip_first = a.at("clip_first").as_i64(what);
  d.y_true = a.at("y_true").as_f32(what);
  d.y_mask = std::move(a.at("y_mask")).as_u8(what);
  d.y_frame = std::move(a.at("y_frame")).as_u8(what);
  d.classes = a.at("classes").as_strings(what);
  const auto C = d.classes.size();
  check(!d.clip_first.empty() && d.clip_first.front() == 0 &&
            std::is_sorted(d.clip_first.begin(), d.clip_first.end()) &&
            d.patches.size() == static_cast<std::size_t>(d.frames() * kPatch) &&
            d.y_true.size() == static_cast<std::size_t>(d.clips()) * C &&
            d.y_mask.size() == d.y_true.size() &&
            d.y_frame.size() == static_cast<std::size_t>(d.frames()) * C,
        "train-embedder: cache {}: arrays of inconsistent sizes (delete it to rebuild)", what);
  return d;
}

// One batch: the clips `clips` (indices into `data`), all their patches, their labels, and the
// augmentation of patch_augment.h (drawn from `rng` in clip order, then patch order).
struct Batch {
  torch::Tensor x;                         // [F, 96, 64] patches (augmented)
  std::vector<std::int64_t> slot;          // clip j's t-th patch -> j * T + t
  std::int64_t T = 1;                      // the longest clip's patches
  std::vector<float> y_clip, mask_clip;    // [B, C]
  std::vector<float> y_frame, mask_frame;  // [F, C]
  std::int64_t frames() const { return static_cast<std::int64_t>(slot.size()); }
};

Batch assemble_batch(const PatchData& data, std::span<const std::int64_t> clips,
                     const torch::Tensor& patches, const PatchAugment& augment,
                     core::Xoshiro256ss& rng) {
  const auto N = data.clips(), C = static_cast<std::int64_t>(data.classes.size());
  const auto B = static_cast<std::int64_t>(clips.size());
  Batch out;
  for (const auto i : clips) out.T = std::max(out.T, data.clip_first[i + 1] - data.clip_first[i]);
  out.y_clip.resize(static_cast<std::size_t>(B * C));
  out.mask_clip.resize(out.y_clip.size());
  std::vector<std::int64_t> frame_rows;
  // With mix: each patch's partner patch (-1: none) and its gain; with eq: each patch's curve.
  std::vector<std::int64_t> partner_rows;
  std::vector<float> partner_gain;
  std::vector<std::array<float, 64>> eq_of_frame;
  for (std::int64_t j = 0; j < B; ++j) {
    const auto i = clips[static_cast<std::size_t>(j)];
    const auto first = data.clip_first[i], T1 = data.clip_first[i + 1] - first;
    std::int64_t p = -1, Tp = 0;
    float gain = 0;
    if (augment.mix && N > 1 && core::bernoulli(rng, 0.5)) {
      p = static_cast<std::int64_t>(core::uniform_index(rng, static_cast<std::uint64_t>(N - 1)));
      p += p >= i ? 1 : 0;
      Tp = data.clip_first[p + 1] - data.clip_first[p];
      gain = static_cast<float>(std::pow(10.0, core::uniform(rng, -6.0, 0.0) / 20.0));
    }
    const auto eq = augment.eq ? eq_curve_db(rng) : std::array<float, 64>{};
    for (std::int64_t c = 0; c < C; ++c) {
      float y = data.y_true[i * C + c];
      bool known = data.y_mask[i * C + c] != 0;
      if (p >= 0) {
        // The partner's label over the patches mixed in (all of them unless it is longer).
        float yp = data.y_true[p * C + c];
        if (Tp > T1) {
          yp = 0;
          for (std::int64_t t = 0; t < T1; ++t)
            yp = std::max<float>(yp, data.y_frame[(data.clip_first[p] + t) * C + c]);
        }
        const auto m = mix_labels(y, known, yp, data.y_mask[p * C + c] != 0);
        y = m.y;
        known = m.known;
      }
      out.y_clip[j * C + c] = y;
      out.mask_clip[j * C + c] = known ? 1.0f : 0.0f;
    }
    for (std::int64_t t = 0; t < T1; ++t) {
      const auto f = first + t;
      const bool mixed = p >= 0 && t < Tp;
      frame_rows.push_back(f);
      out.slot.push_back(j * out.T + t);
      partner_rows.push_back(mixed ? data.clip_first[p] + t : -1);
      partner_gain.push_back(gain);
      if (augment.eq) eq_of_frame.push_back(eq);
      for (std::int64_t c = 0; c < C; ++c) {
        float y = data.y_frame[f * C + c];
        bool known = data.y_mask[i * C + c] != 0;
        if (mixed) {
          const auto m = mix_labels(y, known, data.y_frame[(data.clip_first[p] + t) * C + c],
                                    data.y_mask[p * C + c] != 0);
          y = m.y;
          known = m.known;
        }
        out.y_frame.push_back(y);
        out.mask_frame.push_back(known ? 1.0f : 0.0f);
      }
    }
  }
  out.x = patches.index_select(0, torch::tensor(frame_rows)).contiguous();
  if (!augment.any()) return out;
  float* xp = out.x.data_ptr<float>();
  for (std::size_t r = 0; r < frame_rows.size(); ++r) {
    std::span<float> patch(xp + static_cast<std::int64_t>(r) * kPatch,
                           static_cast<std::size_t>(kPatch));
    if (const auto q = partner_rows[r]; q >= 0) {
      const float* other = data.patches.data() + q * kPatch;
      for (std::size_t k = 0; k < patch.size(); ++k)
        patch[k] = mix_log_mel(patch[k], other[k], partner_gain[r]);
    }
    if (augment.eq) apply_eq(patch, eq_of_frame[r]);
    if (augment.mask) mask_patch(patch, rng);
  }
  return out;
}

std::string archive_bytes(const std::function<void(torch::serialize::OutputArchive&)>& fill) {
  torch::serialize::OutputArchive ar;
  fill(ar);
  std::ostringstream os;
  ar.save_to(os);
  return std::move(os).str();
}

double cosine_lr(double lr, int epoch, int epochs) {
  return lr * 0.5 * (1.0 + std::cos(std::numbers::pi * epoch / epochs));
}

}  // namespace

void EmbedderTrainOptions::validate() const {
  check<UsageError>(!data_dirs.empty(), "train-embedder: no data folder");
  check<UsageError>(!output.empty(), "train-embedder: no output file (-o)");
  check<UsageError>(epochs >= 1, "train-embedder: --epochs {}: expected >= 1", epochs);
  check<UsageError>(batch_clips >= 1, "train-embedder: --batch-clips {}: expected >= 1",
                    batch_clips);
  check<UsageError>(learning_rate > 0 && learning_rate <= 1,
                    "train-embedder: --lr {}: expected in (0, 1]", learning_rate);
  check<UsageError>(clip_weight >= 0, "train-embedder: --clip-weight {}: expected >= 0",
                    clip_weight);
  check<UsageError>(threads >= 0, "train-embedder: --threads {}: expected >= 0", threads);
  net.validate();
}

core::Json EmbedderTrainOptions::to_json() const {
  std::vector<std::string> dirs;
  for (const auto& d : data_dirs) dirs.push_back(d.filename().string());
  core::Json j = {{"data", dirs},
                  {"net", net.to_json()},
                  {"epochs", epochs},
                  {"batch_clips", batch_clips},
                  {"learning_rate", learning_rate},
                  {"clip_weight", clip_weight},
                  {"seed", seed}};
  // Only when on: files and checkpoints made before --augment existed keep their options.
  if (augment.any()) j["augment"] = augment.names();
  return j;
}

EmbedderTrainReport train_embedder(const EmbedderTrainOptions& o,
                                   const EmbedderTrainCallbacks& cb) {
  o.validate();
  const fs::path cache = o.cache.empty() ? fs::path(o.output.string() + ".patches.npz") : o.cache;
  const fs::path ckpt = o.output.string() + ".ckpt";
  std::vector<Folder> folders;
  for (const auto& d : o.data_dirs) folders.push_back(open_folder(d));
  const int threads = o.threads > 0 ? o.threads : static_cast<int>(core::resolve_threads(0));

  EmbedderTrainReport report;
  const std::string signature = data_signature(folders);
  auto cached = read_cache(cache, signature);
  report.cache_reused = cached.has_value();
  PatchData data = cached ? std::move(*cached) : build_patches(folders, threads, cb);
  if (!cached) write_cache(cache, data, signature);
  const std::int64_t N = data.clips(), C = static_cast<std::int64_t>(data.classes.size());
  check(N > 0 && C > 0 &&
            std::any_of(data.y_mask.begin(), data.y_mask.end(), [](auto m) { return m != 0; }),
        "train-embedder: no clip of at least 0.96 s with a known label in {}",
        o.data_dirs.front().string());
  report.clips = N;
  report.frames = data.frames();
  report.classes = data.classes;

  torch::set_num_threads(threads);
  torch::manual_seed(o.seed);
  embed::CnnNet net(o.net, C);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learning_rate));
  const std::string options_json = o.to_json().dump();
  if (o.resume && fs::exists(ckpt)) {
    torch::serialize::InputArchive ar;
    try {
      ar.load_from(ckpt.string());
    } catch (const c10::Error& e) {
      const std::string msg = e.what_without_backtrace();
      fail("train-embedder: checkpoint {}: cannot be read: {}", ckpt.string(),
           msg.substr(0, msg.find('\n')));
    }
    torch::Tensor opts, epoch, losses;
    ar.read("options", opts, true);
    ar.read("epoch", epoch, true);
    ar.read("losses", losses, true);
    const std::string saved(reinterpret_cast<const char*>(opts.data_ptr<std::uint8_t>()),
                            static_cast<std::size_t>(opts.numel()));
    check<UsageError>(saved == options_json,
                      "train-embedder: --resume: checkpoint {} was made with other options ({}; "
                      "now {})",
                      ckpt.string(), saved, options_json);
    torch::serialize::InputArchive net_ar, opt_ar;
    ar.read("net", net_ar);
    ar.read("optimizer", opt_ar);
    net->load(net_ar);
    opt.load(opt_ar);
    report.first_epoch = static_cast<int>(epoch.item<std::int64_t>());
    auto l = losses.to(torch::kFloat64).contiguous();
    report.epoch_loss.assign(l.data_ptr<double>(), l.data_ptr<double>() + l.numel());
  }

  const torch::Tensor patches =
      torch::from_blob(data.patches.data(), {data.frames(), kVggishFrames, kVggishBands});
  const auto batch_count = (N + o.batch_clips - 1) / o.batch_clips;
  for (int epoch = report.first_epoch; epoch < o.epochs; ++epoch) {
    if (cb.on_epoch_start) cb.on_epoch_start(epoch, o.epochs);
    for (auto& g : opt.param_groups())
      static_cast<torch::optim::AdamOptions&>(g.options())
          .lr(cosine_lr(o.learning_rate, epoch, o.epochs));
    std::vector<std::int64_t> order(static_cast<std::size_t>(N));
    std::iota(order.begin(), order.end(), 0);
    core::Xoshiro256ss rng(
        core::derive_seed(o.seed, static_cast<std::uint64_t>(epoch), kOrderStream));
    core::shuffle_by_index(order, rng);
    core::Xoshiro256ss arng(
        core::derive_seed(o.seed, static_cast<std::uint64_t>(epoch), kAugmentStream));
    net->train();
    double sum = 0;
    for (std::int64_t b = 0; b < batch_count; ++b) {
      const auto lo = b * o.batch_clips, hi = std::min(N, lo + o.batch_clips);
      const auto B = hi - lo;
      Batch batch = assemble_batch(data, std::span(order).subspan(lo, B), patches, o.augment, arng);
      const auto F = batch.frames(), T = batch.T;
      auto e = net->embed(batch.x);  // [F, dim]
      // Embeddings are in [0, 1]: zero rows for missing frames never win the max.
      auto padded = torch::zeros({B * T, e.size(1)}).index_copy(0, torch::tensor(batch.slot), e);
      auto clip_logits = net->clip_head(std::get<0>(padded.view({B, T, -1}).max(1)));
      auto frame_logits = net->frame_head(e);
      auto bce = [](const torch::Tensor& logits, const torch::Tensor& y, const torch::Tensor& m) {
        auto l = torch::binary_cross_entropy_with_logits(logits, y, {}, {}, torch::Reduction::None);
        return (l * m).sum() / m.sum().clamp_min(1.0);
      };
      auto loss = bce(frame_logits, torch::from_blob(batch.y_frame.data(), {F, C}),
                      torch::from_blob(batch.mask_frame.data(), {F, C})) +
                  o.clip_weight * bce(clip_logits, torch::from_blob(batch.y_clip.data(), {B, C}),
                                      torch::from_blob(batch.mask_clip.data(), {B, C}));
      opt.zero_grad();
      loss.backward();
      opt.step();
      const double lv = loss.item<double>();
      sum += lv;
      if (cb.on_batch) cb.on_batch(b + 1, batch_count, lv);
    }
    report.epoch_loss.push_back(sum / static_cast<double>(batch_count));
    const std::string bytes = archive_bytes([&](torch::serialize::OutputArchive& ar) {
      torch::serialize::OutputArchive net_ar, opt_ar;
      net->save(net_ar);
      opt.save(opt_ar);
      ar.write("net", net_ar);
      ar.write("optimizer", opt_ar);
      ar.write("options",
               torch::tensor(std::vector<std::uint8_t>(options_json.begin(), options_json.end()),
                             torch::kUInt8),
               true);
      ar.write("epoch", torch::tensor(static_cast<std::int64_t>(epoch + 1)), true);
      ar.write("losses", torch::tensor(report.epoch_loss, torch::kFloat64), true);
    });
    core::write_file_atomic(ckpt, bytes);
    if (cb.on_epoch_end) cb.on_epoch_end(epoch, report.epoch_loss.back());
  }

  net->eval();
  core::Json training = o.to_json();
  training["clips"] = N;
  training["frames"] = data.frames();
  training["epoch_loss"] = report.epoch_loss;
  report.id = embed::write_cnn_embedder_file(o.output, net, data.classes, training);
  std::error_code ec;
  fs::remove(ckpt, ec);
  return report;
}

}  // namespace tutti::train
