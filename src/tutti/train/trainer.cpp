#include "tutti/train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numbers>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "tutti/core/error.h"
#include "tutti/core/random.h"
#include "tutti/data/shards.h"
#include "tutti/infer/run_model.h"
#include "tutti/models/bag_tensors.h"
#include "tutti/models/kernels/att_fused.h"
#include "tutti/models/kernels/hashed_dropout.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/mmgat_labels.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/torch_runtime.h"
#include "tutti/train/checkpoint.h"
#include "tutti/train/data_parallel.h"
#include "tutti/train/extra_targets.h"
#include "tutti/train/fused_adam.h"
#include "tutti/train/mixup.h"
#include "tutti/train/validation.h"
#include "tutti/train/weight_average.h"

namespace tutti::train {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// A snapshot of every parameter and buffer (the best epoch so far).
struct Snapshot {
  std::vector<torch::Tensor> tensors;

  static std::vector<torch::Tensor> live(models::BagModelImpl& m) {
    std::vector<torch::Tensor> v;
    for (auto& p : m.parameters(true)) v.push_back(p);
    for (auto& b : m.buffers(true)) v.push_back(b);
    return v;
  }
  void take(models::BagModelImpl& m) {
    torch::NoGradGuard ng;
    auto v = live(m);
    if (tensors.size() != v.size()) {
      tensors.clear();
      for (auto& t : v) tensors.push_back(t.detach().clone());
    } else {
      for (std::size_t i = 0; i < v.size(); ++i) tensors[i].copy_(v[i]);
    }
  }
  void restore(models::BagModelImpl& m) const {
    torch::NoGradGuard ng;
    auto v = live(m);
    for (std::size_t i = 0; i < v.size(); ++i) v[i].copy_(tensors[i]);
  }
};

// Batch boundaries over n shuffled rows; a trailing batch of fewer than min_last clips joins the
// previous batch (batch normalization needs two; data-parallel training one per rank).
std::vector<std::pair<std::int64_t, std::int64_t>> batch_ranges(std::int64_t n, std::int64_t bs,
                                                                std::int64_t min_last = 2) {
  std::vector<std::pair<std::int64_t, std::int64_t>> r;
  for (std::int64_t s = 0; s < n; s += bs) r.emplace_back(s, std::min(n, s + bs));
  if (r.size() > 1 && r.back().second - r.back().first < min_last) {
    r[r.size() - 2].second = r.back().second;
    r.pop_back();
  }
  return r;
}

models::BagTensors on_device(const models::BagTensors& t, torch::Device device) {
  return {t.x.to(device), t.mask.to(device), t.y.to(device), t.y_mask.to(device)};
}

// The global batches of one epoch, as rows of `order`: in memory, one shuffle of every clip;
// streamed (data/shards.h), the epoch's windows of shards one after the other, each opened and
// shuffled by `rng` when its first batch is asked for and closed (pages dropped) after its last.
class EpochBatches {
 public:
  EpochBatches(const data::ShardStream* stream, int epoch, std::uint64_t seed,
               std::vector<std::int64_t>& order, std::mt19937_64& rng, std::int64_t global_batch,
               std::int64_t min_last)
      : stream_(stream), order_(order), rng_(rng), batch_(global_batch), min_last_(min_last) {
    if (stream_) {
      windows_ = stream_->epoch_windows(seed, epoch);
    } else {
      shuffle();
      ranges_ = batch_ranges(static_cast<std::int64_t>(order_.size()), batch_, min_last_);
    }
  }
  // The next global batch [gs, ge); false at the end of the epoch.
  bool next(std::int64_t& gs, std::int64_t& ge) {
    while (next_range_ == ranges_.size()) {
      if (next_window_ == windows_.size()) return false;
      window_.reset();  // unmaps the previous window first
      window_.emplace(*stream_, windows_[next_window_++]);
      order_.resize(static_cast<std::size_t>(window_->size()));
      clips_ += window_->size();
      shuffle();
      ranges_ = batch_ranges(window_->size(), batch_, min_last_);
      next_range_ = 0;
    }
    std::tie(gs, ge) = ranges_[next_range_++];
    return true;
  }
  // The open window (streamed), whose rows `order` indexes.
  const data::StreamWindow* window() const { return window_ ? &*window_ : nullptr; }
  std::int64_t streamed_clips() const { return clips_; }

 private:
  void shuffle() {
    std::iota(order_.begin(), order_.end(), std::int64_t{0});
    core::shuffle(order_.begin(), order_.end(), rng_);
  }
  const data::ShardStream* stream_;
  std::vector<std::int64_t>& order_;
  std::mt19937_64& rng_;
  std::int64_t batch_, min_last_;
  std::vector<std::vector<std::size_t>> windows_;
  std::size_t next_window_ = 0;
  std::optional<data::StreamWindow> window_;
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges_;
  std::size_t next_range_ = 0;
  std::int64_t clips_ = 0;
};

// The one line a diverged run ends with: the step whose loss (or clip probabilities) stopped being
// finite. Thrown before anything is written, so a diverged run leaves no model file.
[[noreturn]] void diverged(const TrainConfig& cfg, int epoch, std::size_t step,
                           double loss = std::nan("")) {
  fail(
      "train: {}: loss became {} at epoch {} step {} (learning rate {:g}): lower --lr or check "
      "the features",
      cfg.model, std::isnan(loss) ? "NaN" : "infinite", epoch, step, cfg.learning_rate);
}

// masked_bce_sum, with torch's range check on p (which throws a c10::Error with a backtrace when a
// probability is NaN or outside [0, 1]) turned into diverged(). Only a failing call pays for the
// extra look at p.
torch::Tensor checked_bce_sum(const torch::Tensor& p, const torch::Tensor& y,
                              const torch::Tensor& y_mask, const TrainConfig& cfg, int epoch,
                              std::size_t step) {
  try {
    return models::masked_bce_sum(p, y, y_mask);
  } catch (const c10::Error&) {
    const bool out_of_range = !torch::isfinite(p).all().item<bool>() ||
                              p.lt(0).any().item<bool>() || p.gt(1).any().item<bool>();
    if (out_of_range) diverged(cfg, epoch, step);
    throw;
  }
}

// Mean masked BCE (+ nothing else: the extra loss is a training regularizer) and clip scores.
struct ValResult {
  double loss = 0;
  double map = 0;
};

// `epoch` and `steps` (the steps of that epoch) name the step whose update made the model diverge
// when the validation probabilities are no longer finite.
// In data-parallel training each rank scores its share of the clips and the scores are summed
// over the ranks, so that every rank computes the same loss and mAP from all of them.
ValResult validate_model(models::BagModelImpl& model, models::AttFused* fused,
                         const models::BagTensors& val, const data::BagDataset& val_ds,
                         torch::Device device, const TrainConfig& cfg, int epoch, std::size_t steps,
                         DataParallel* dp) {
  torch::NoGradGuard ng;
  model.eval();
  if (dp) {
    const auto [r0, r1] = dp->share(0, val.size());
    auto scores = torch::zeros({val_ds.size(), val_ds.num_classes()}, torch::kFloat32);
    float* sp = scores.data_ptr<float>();
    if (fused) {
      models::AttFused::EvalOut eo;
      eo.clip = sp + r0 * val_ds.num_classes();
      fused->eval_rows(models::BagSource::of(val_ds), r0, r1, eo);
    } else if (r1 > r0) {
      auto out =
          model.forward(val.x.slice(0, r0, r1).to(device), val.mask.slice(0, r0, r1).to(device));
      scores.slice(0, r0, r1).copy_(out.clip.to(torch::kCPU));
    }
    dp->sum(std::span<float>(sp, static_cast<std::size_t>(scores.numel())));
    ValResult r;
    const double known = val.y_mask.sum().item<double>();
    r.loss =
        known > 0
            ? checked_bce_sum(scores, val.y, val.y_mask, cfg, epoch, steps).item<double>() / known
            : std::nan("");
    r.map = macro_average_precision(val_ds, std::span<const float>(sp, scores.numel()));
    return r;
  }
  const std::int64_t n = val.size();
  const std::int64_t chunk = 4096;
  double loss_sum = 0, known = 0;
  auto scores = torch::zeros({val_ds.size(), val_ds.num_classes()}, torch::kFloat32);
  if (fused) {  // straight from the dataset, no float copy of it
    models::AttFused::EvalOut eo;
    eo.clip = scores.data_ptr<float>();
    fused->eval_rows(models::BagSource::of(val_ds), 0, n, eo);
    loss_sum = checked_bce_sum(scores, val.y, val.y_mask, cfg, epoch, steps).item<double>();
    known = val.y_mask.sum().item<double>();
  }
  for (std::int64_t s = 0; s < (fused ? 0 : n); s += chunk) {
    const std::int64_t e = std::min(n, s + chunk);
    auto out = model.forward(val.x.slice(0, s, e).to(device), val.mask.slice(0, s, e).to(device));
    auto p = out.clip.to(torch::kCPU);
    loss_sum +=
        checked_bce_sum(p, val.y.slice(0, s, e), val.y_mask.slice(0, s, e), cfg, epoch, steps)
            .item<double>();
    known += val.y_mask.slice(0, s, e).sum().item<double>();
    scores.slice(0, s, e).copy_(p);
  }
  ValResult r;
  r.loss = known > 0 ? loss_sum / known : std::nan("");
  const float* sp = scores.data_ptr<float>();
  r.map = macro_average_precision(val_ds, std::span<const float>(sp, scores.numel()));
  return r;
}

// Sets models::dropout_share() for one step (data-parallel training), inactive again after it.
struct DropoutShareGuard {
  DropoutShareGuard(bool active, std::int64_t clip_offset, std::int64_t instance_offset) {
    models::dropout_share() = {active, clip_offset, instance_offset};
  }
  ~DropoutShareGuard() { models::dropout_share() = {}; }
  DropoutShareGuard(const DropoutShareGuard&) = delete;
  DropoutShareGuard& operator=(const DropoutShareGuard&) = delete;
};

// Soft training targets y (1 - e) + e / 2 (Szegedy et al., "Rethinking the Inception
// Architecture", CVPR 2016, label smoothing; two classes per label here: present / absent).
torch::Tensor smoothed(const torch::Tensor& y, double e) { return y * (1 - e) + e / 2; }

// The cosine schedule (Loshchilov & Hutter, "SGDR", ICLR 2017, one cycle without restarts): the
// learning rate of epoch e (1-based) of E is lr (1 + cos(pi (e - 1) / E)) / 2.
void set_learning_rate(const TrainConfig& cfg, int epoch, FusedAdam::Options& adam,
                       std::optional<torch::optim::Adam>& optim) {
  const double lr = cfg.learning_rate * 0.5 *
                    (1 + std::cos(std::numbers::pi * (epoch - 1) / std::max(1, cfg.epochs)));
  adam.lr = lr;
  if (optim)
    for (auto& g : optim->param_groups())
      static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
}

// The autograd path's view of extra_targets.h: y_true as soft targets (a teacher, or a mixed
// batch's targets) and the known labels weighted per class (an auxiliary task's weight), as the
// fused engine reads them. `class_weights`: class_loss_weights of tr's classes (empty: none).
void apply_extra_targets(const std::vector<float>& class_weights, const data::BagDataset& tr,
                         models::BagTensors& tt, bool soft) {
  if (soft)
    tt.y = torch::from_blob(const_cast<float*>(tr.y_true.data()), {tr.size(), tr.num_classes()},
                            torch::kFloat32)
               .clone();
  if (!class_weights.empty())
    tt.y_mask = tt.y_mask * torch::from_blob(const_cast<float*>(class_weights.data()),
                                             {1, tr.num_classes()}, torch::kFloat32);
}

// "att, mmgat": the models whose declaration has a fused engine.
std::string models_with_fused_engine() {
  std::string s;
  for (const auto& d : models::model_decls())
    if (d.fused_engine() != models::Engine::kAutograd) s += (s.empty() ? "" : ", ") + d.name;
  return s;
}

// What the epoch loop carries from one epoch to the next (checkpoint.h), taken and put back.
struct LoopState {
  models::BagModelImpl& model;
  Snapshot& best;
  std::mt19937_64& rng;
  models::AttFused* fused;
  FusedAdam* fused_adam;
  std::optional<torch::optim::Adam>& optim;
  infer::TrainingSummary& sum;
  int& since_best;
  WeightAverage* average;  // --ema, else null

  TrainState take(int epoch, double seconds) const {
    TrainState s;
    s.epoch = epoch;
    s.since_best = since_best;
    s.summary = sum;
    s.summary.train_seconds = seconds;
    for (auto& t : Snapshot::live(model)) s.model.push_back(t.detach());
    s.best = best.tensors;
    if (average) {
      s.average = average->tensors();
      s.average_updates = average->updates();
    }
    std::ostringstream os;
    os << rng;
    s.shuffle_rng = os.str();
    s.torch_rng = torch_rng_state();
    if (fused) s.dropout_counter = fused->dropout_counter();
    s.has_fused_adam = fused_adam != nullptr;
    if (fused_adam) {
      s.fused_adam = fused_adam->state();
    } else {
      torch::serialize::OutputArchive ar;
      optim->save(ar);
      std::ostringstream bytes;
      ar.save_to(bytes);
      const std::string b = bytes.str();
      s.adam.assign(b.begin(), b.end());
    }
    return s;
  }

  // Returns the first epoch to run.
  int restore(const TrainState& s, const std::string& what) {
    torch::NoGradGuard ng;
    const auto live = Snapshot::live(model);
    check(s.model.size() == live.size() && (s.best.empty() || s.best.size() == live.size()) &&
              s.has_fused_adam == (fused_adam != nullptr),
          "train: --resume: {}: holds another model or engine than this run builds", what);
    for (std::size_t i = 0; i < live.size(); ++i) live[i].copy_(s.model[i]);
    best.tensors.clear();
    for (const auto& t : s.best) best.tensors.push_back(t.clone());
    if (average) {
      check(s.average.empty() || s.average.size() == live.size(),
            "train: --resume: {}: its weight average holds another model", what);
      average->restore(s.average, s.average_updates);
    }
    std::istringstream is(s.shuffle_rng);
    is >> rng;
    check(!is.fail(), "train: --resume: {}: unreadable batch-order state", what);
    set_torch_rng_state(s.torch_rng);
    if (fused) fused->set_dropout_counter(s.dropout_counter);
    if (fused_adam) {
      fused_adam->load_state(s.fused_adam);
    } else {
      torch::serialize::InputArchive ar;
      ar.load_from(reinterpret_cast<const char*>(s.adam.data()), s.adam.size());
      optim->load(ar);
    }
    const auto n_train = sum.n_train, n_val = sum.n_val, params = sum.params;
    sum = s.summary;
    sum.n_train = n_train;
    sum.n_val = n_val;
    sum.params = params;
    if (sum.best_epoch == 0) sum.val_loss = std::numeric_limits<double>::infinity();
    since_best = s.since_best;
    return s.epoch + 1;
  }
};

}  // namespace

torch::Device setup_torch(const TrainConfig& cfg) {
  return models::setup_torch(cfg.threads, cfg.device);
}

NeuralTrainResult train_neural(const data::BagDataset& train_in, const data::BagDataset& val,
                               const TrainConfig& cfg, const EpochCallback& on_epoch,
                               const CancelCheck& cancelled, DataParallel* dp,
                               const std::filesystem::path& checkpoint,
                               const data::ShardStream* stream) {
  // Streamed: no clip is in memory; `train` only gives the shape (stream->like()).
  const data::BagDataset& train = stream ? stream->like() : train_in;
  const bool mmgat = models::model_decl(cfg.model).name.starts_with("mmgat");
  if (stream)
    check<UsageError>(!mmgat,
                      "train: {}: streamed training data is not supported for this model (its "
                      "label embeddings need every training clip's labels first); train on one "
                      ".npz",
                      cfg.model);
  else
    check_trainable(train, cfg.model, "training set");
  // Mixing changes a share's instance counts, by which data-parallel dropout masks are keyed;
  // MMGAT's label-graph and onset losses read 0/1 and instance labels a mixed bag does not have.
  check<UsageError>(cfg.mixup == 0 || (!dp && !mmgat), "train: --mixup {}: not supported {}",
                    cfg.mixup, dp ? "with data-parallel training" : "for " + cfg.model);
  check(val.size() > 0, "validation set: no clips");
  check(val.classes == train.classes && val.dim == train.dim &&
            val.max_instances == train.max_instances,
        "validation set: classes or shape differ from the training set");
  const torch::Device device = setup_torch(cfg);

  // Clips without instances carry no evidence and cannot pass through a model.
  const auto train_rows = data::nonempty_rows(train);
  const auto val_rows = data::nonempty_rows(val);
  check(!val_rows.empty(), "validation set: no clip has any instance");
  std::optional<data::BagDataset> train_sub;
  if (train_rows.size() != static_cast<std::size_t>(train.size()))
    train_sub = train.subset(train_rows);
  const data::BagDataset& tr = train_sub ? *train_sub : train;
  const data::BagDataset val_sub = val.subset(val_rows);
  // Labels now; the features as float tensors only for the autograd path (below).
  models::BagTensors tt = models::to_tensors(tr, false);
  models::BagTensors vt = models::to_tensors(val_sub, false);

  torch::manual_seed(cfg.seed);
  // Label embeddings and onset groups (MMGAT; a no-op for the others) from the training clips.
  const models::ModelSpec spec = models::mmgat_training_spec(model_spec(cfg, train), tr);
  models::BagModel model = models::make_model(spec);
  model->to(device);
  if (dp) dp->broadcast_state(*model);
  // The engine comes from the declaration: on the CPU its fused one (ATT: the whole step in
  // att_fused.h; MMGAT: fused ops in autograd + FusedAdam) unless --engine autograd; LibTorch
  // ops, autograd and torch::optim::Adam otherwise.
  const models::ModelDecl& decl = models::model_decl(cfg.model);
  const models::Engine fused_kind =
      device.is_cpu() ? decl.fused_engine() : models::Engine::kAutograd;
  check<UsageError>(cfg.engine != "fused" || fused_kind != models::Engine::kAutograd,
                    "--engine fused: model '{}' on {} has no fused engine ({} on the CPU only)",
                    cfg.model, cfg.device, models_with_fused_engine());
  const models::Engine engine = cfg.engine == "autograd" ? models::Engine::kAutograd : fused_kind;
  model->set_fused(engine == models::Engine::kFusedOps);
  std::unique_ptr<models::AttFused> fused;
  std::unique_ptr<FusedAdam> fused_adam;
  std::optional<torch::optim::Adam> optim;
  // Computed once: every step of a mixed batch on the autograd path applies them again.
  const std::vector<float> class_weights = class_loss_weights(cfg, tr.classes);
  if (engine == models::Engine::kFusedStep) {
    fused = std::make_unique<models::AttFused>(*model, cfg.seed);
    if (dp) fused->set_cross_process_sum([dp](std::span<double> v) { dp->sum(v); });
    fused->set_label_smoothing(static_cast<float>(cfg.label_smoothing));
    // A mixed batch carries its targets already mixed (mix_bags), to be read as they are.
    fused->set_soft_targets(soft_targets(cfg) || cfg.mixup > 0);
    fused->set_class_weights(class_weights);
  }
  if (engine != models::Engine::kAutograd) {
    fused_adam = std::make_unique<FusedAdam>(model->parameters());
  } else {
    optim.emplace(model->parameters(),
                  torch::optim::AdamOptions(cfg.learning_rate).weight_decay(cfg.weight_decay));
  }
  if (!fused) {
    tt.x = models::to_tensors(tr).x;
    vt.x = models::to_tensors(val_sub).x;
    apply_extra_targets(class_weights, tr, tt, soft_targets(cfg));
    if (device.is_cuda()) tt = on_device(tt, device);
  }
  const models::BagSource train_src = models::BagSource::of(tr);
  FusedAdam::Options adam;
  adam.lr = cfg.learning_rate;
  adam.weight_decay = cfg.weight_decay;

  std::mt19937_64 rng(cfg.seed);
  const std::int64_t n = tt.size();
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  const std::int64_t world = dp ? dp->world_size() : 1;
  const std::vector<torch::Tensor> params = model->parameters();

  NeuralTrainResult result;
  infer::TrainingSummary& sum = result.summary;
  sum.n_train = n;  // streamed: counted over the run's first epoch's windows (below)
  sum.n_val = vt.size();
  sum.params = models::count_parameters(*model);
  sum.val_loss = std::numeric_limits<double>::infinity();
  Snapshot best;
  int since_best = 0;
  const auto t_start = Clock::now();
  // Checkpoints: what a resumed run must share with this one, and the state it left.
  // --ema: the average of the weights, updated after every step; validated, selected, written.
  std::optional<WeightAverage> average;
  if (cfg.ema > 0) average.emplace(cfg.ema);
  const std::vector<torch::Tensor> live = Snapshot::live(*model);
  LoopState loop{*model,
                 best,
                 rng,
                 fused.get(),
                 fused_adam.get(),
                 optim,
                 sum,
                 since_best,
                 average ? &*average : nullptr};
  CheckpointIdentity ckpt_id;
  if (!checkpoint.empty()) {
    ckpt_id.options = cfg.to_json();
    // Streamed: `tr` is only the shape; the shard list's digest (names, sizes, clip counts,
    // window) stands for the clips.
    ckpt_id.data = checkpoint_data_digest(tr, val_sub) + (stream ? "+" + stream->digest() : "");
    ckpt_id.world_size = static_cast<int>(world);
  }
  int first_epoch = 1;
  double seconds_before = 0;  // training time of the run a checkpoint continues
  if (!checkpoint.empty() && cfg.resume) {
    first_epoch = loop.restore(load_checkpoint(checkpoint, ckpt_id, dp ? &dp->group() : nullptr),
                               checkpoint.string());
    seconds_before = sum.train_seconds;
  }
  for (int epoch = first_epoch; epoch <= cfg.epochs; ++epoch) {
    const auto t0 = Clock::now();
    if (cfg.lr_schedule == "cosine") set_learning_rate(cfg, epoch, adam, optim);
    model->train();
    EpochBatches batches(stream, epoch, cfg.seed, order, rng, cfg.batch_size * world,
                         std::max<std::int64_t>(2, world));
    auto perm =
        stream ? torch::Tensor() : torch::from_blob(order.data(), {n}, torch::kInt64).to(device);
    double loss_sum = 0;
    double known_sum = 0;
    std::size_t step = 0;
    // Any other LibTorch failure inside a step (e.g. Adam's step size overflowing float at an
    // absurd --lr) ends in one line too, instead of a backtrace; tutti's own errors pass.
    try {
      for (std::int64_t gs = 0, ge = 0; batches.next(gs, ge);) {
        ++step;
        const auto [s, e] = dp ? dp->share(gs, ge) : std::pair{gs, ge};
        if (cancelled && cancelled())
          fail<Cancelled>("train: {}: cancelled at epoch {} step {}", cfg.model, epoch, step);
        std::int64_t instance_offset = 0;  // real instances of the global batch before [s, e)
        const data::StreamWindow* win = batches.window();
        for (std::int64_t i = gs; i < s; ++i)
          instance_offset += win ? win->n_instances(order[i]) : train_src.n_instances[order[i]];
        std::span<const std::int64_t> rows = std::span<const std::int64_t>(order).subspan(
            static_cast<std::size_t>(s), static_cast<std::size_t>(e - s));
        // Streamed: this share's clips copied out of the mapped shards, read as rows 0..e-s-1.
        std::optional<data::BagDataset> batch;
        std::vector<std::int64_t> batch_rows;
        auto set_batch = [&](data::BagDataset clips) {
          batch = std::move(clips);
          batch_rows.resize(rows.size());
          std::iota(batch_rows.begin(), batch_rows.end(), std::int64_t{0});
          rows = batch_rows;
        };
        if (win) set_batch(win->gather(rows));
        // Mixup: the share's clips mixed in pairs, read as rows 0..e-s-1 as well.
        if (cfg.mixup > 0)
          set_batch(mix_bags(batch ? *batch : tr, rows,
                             draw_mixup(cfg.mixup, cfg.seed, epoch, step, e - s),
                             soft_targets(cfg)));
        if (fused) {  // reads the batch from the dataset; fused Adam
          const auto l = fused->train_step(batch ? models::BagSource::of(*batch) : train_src, rows,
                                           instance_offset);
          // The kernel's BCE lets a NaN probability through (std::max(NaN, -100) is NaN).
          if (!std::isfinite(l.bce_sum)) diverged(cfg, epoch, step, l.bce_sum);
          if (dp) dp->allreduce_grads(params);
          fused_adam->step(adam);
          if (average) average->update(live);
          loss_sum += l.bce_sum;
          known_sum += l.known;
          continue;
        }
        models::BagTensors bt =
            batch ? models::to_tensors(*batch) : models::select_rows(tt, perm.slice(0, s, e));
        if (cfg.mixup > 0) apply_extra_targets(class_weights, *batch, bt, true);
        if (batch) bt = on_device(bt, device);
        const auto& [xb, mb, yb, ymb] = bt;
        // Dropout masks keyed by the global batch in data-parallel training.
        const DropoutShareGuard share(dp != nullptr, s - gs, instance_offset);
        auto out = model->forward(xb, mb);
        auto bce_sum = checked_bce_sum(
            out.clip, cfg.label_smoothing > 0 ? smoothed(yb, cfg.label_smoothing) : yb, ymb, cfg,
            epoch, step);
        auto known = ymb.sum();
        // Data-parallel: this share's part of the global batch's loss (BCE over the global known
        // labels, the extra loss over the model's global counts), summed over the ranks below.
        const auto global_known =
            !dp    ? known
            : !win ? tt.y_mask.index_select(0, perm.slice(0, gs, ge)).sum()
                   : torch::tensor(
                         static_cast<double>(
                             win->known_labels(std::span<const std::int64_t>(order).subspan(
                                 static_cast<std::size_t>(gs), static_cast<std::size_t>(ge - gs)))),
                         known.options());
        auto loss = bce_sum / global_known.clamp_min(1.0);
        models::LossShare loss_share;
        if (dp) loss_share = {true, s - gs, ge - gs, [dp](std::span<float> v) { dp->sum(v); }};
        auto extra = model->extra_loss(out, yb, ymb.to(torch::kBool), loss_share);
        if (extra.defined()) {
          const double x = extra.item<double>();
          if (!std::isfinite(x)) diverged(cfg, epoch, step, x);
          loss = loss + extra;
        }
        if (fused_adam) {
          fused_adam->zero_grad();
          loss.backward();
          if (dp) dp->allreduce_grads(params);
          fused_adam->step(adam);
        } else {
          optim->zero_grad();
          loss.backward();
          if (dp) dp->allreduce_grads(params);
          optim->step();
        }
        if (average) average->update(live);
        const double bce = bce_sum.item<double>();
        if (!std::isfinite(bce)) diverged(cfg, epoch, step, bce);
        loss_sum += bce;
        known_sum += known.item<double>();
      }
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // c10::Error, or std::runtime_error from c10's casts
      const auto* c10_error = dynamic_cast<const c10::Error*>(&e);
      const std::string what = c10_error ? c10_error->what_without_backtrace() : e.what();
      fail("train: {}: LibTorch failed at epoch {} step {} (learning rate {:g}): {}", cfg.model,
           epoch, step, cfg.learning_rate, what.substr(0, what.find('\n')));
    }
    // Every epoch streams the same clips (in another order): count them in the run's first.
    if (stream && epoch == first_epoch) sum.n_train = batches.streamed_clips();
    if (dp) {  // the epoch's training loss over every rank's shares
      std::vector<double> sums = {loss_sum, known_sum};
      dp->sum(std::span<double>(sums));
      loss_sum = sums[0];
      known_sum = sums[1];
    }
    if (average) average->swap(live);  // validate (and keep as the best) the average
    const ValResult v =
        validate_model(*model, fused.get(), vt, val_sub, device, cfg, epoch, step, dp);
    models::adapt_threads_to_load();  // other processes may have come or gone
    infer::EpochRecord rec{epoch, known_sum > 0 ? loss_sum / known_sum : 0.0, v.loss, v.map,
                           seconds_since(t0)};
    sum.history.push_back(rec);
    sum.epochs_run = epoch;
    if (v.loss < sum.val_loss) {
      sum.val_loss = v.loss;
      sum.val_map = v.map;
      sum.best_epoch = epoch;
      best.take(*model);
      since_best = 0;
    } else {
      ++since_best;
    }
    if (average) average->swap(live);
    const bool stop = cfg.patience > 0 && since_best >= cfg.patience;
    if (!checkpoint.empty() && cfg.checkpoint_every > 0 && epoch % cfg.checkpoint_every == 0 &&
        epoch < cfg.epochs && !stop && (!dp || dp->rank() == 0))
      write_checkpoint(checkpoint, ckpt_id,
                       loop.take(epoch, seconds_before + seconds_since(t_start)));
    if (on_epoch) on_epoch(rec, cfg.epochs);
    if (stop) break;
  }
  check(sum.best_epoch > 0, "training failed: the validation loss was never finite");
  best.restore(*model);
  model->to(torch::kCPU);
  model->eval();
  sum.train_seconds = seconds_before + seconds_since(t_start);
  result.model = model;
  return result;
}

std::vector<std::uint8_t> save_weights(models::BagModelImpl& model) {
  torch::serialize::OutputArchive ar;
  model.save(ar);
  std::ostringstream os;
  ar.save_to(os);
  const std::string s = os.str();
  return {s.begin(), s.end()};
}

}  // namespace tutti::train
