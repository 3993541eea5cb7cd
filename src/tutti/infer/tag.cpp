#include "tutti/infer/tag.h"

#include <fmt/format.h>

#include <algorithm>
#include <mutex>
#include <optional>

#include "tutti/core/error.h"
#include "tutti/core/work_pool.h"
#include "tutti/data/bag_dataset.h"
#include "tutti/embed/cnn_embedder.h"
#include "tutti/embed/embed_files.h"
#include "tutti/infer/predictor.h"
#include "tutti/models/model_decl.h"
#include "tutti/models/model_spec.h"

namespace tutti::infer {

namespace fs = std::filesystem;

void TagOptions::validate() const {
  check<UsageError>(batch_examples >= 1, "tag: batch of examples must be >= 1");
  check<UsageError>(batch_windows >= 1, "tag: batch of windows must be >= 1");
  check<UsageError>(model_threads >= 0, "tag: model threads must be >= 0, got {}", model_threads);
}

std::vector<Window> plan_windows(std::int64_t n_instances, std::int64_t window, bool fixed_length) {
  check<UsageError>(window >= 1, "tag: window of {} instances, expected >= 1", window);
  check<UsageError>(n_instances >= 0, "tag: {} instances", n_instances);
  std::vector<Window> w;
  for (std::int64_t first = 0; first < n_instances; first += window)
    w.push_back({first, std::min(window, n_instances - first)});
  if (fixed_length && !w.empty() && w.back().count < window) {
    check(n_instances >= window, "{} instances, fewer than the {} a fixed-length model needs",
          n_instances, window);
    w.back() = {n_instances - window, window};
  }
  return w;
}

bool is_learned_embedder(const std::string& name) {
  const std::string prefix = std::string(embed::kCnnEmbedderName) + ":";
  return name.rfind(prefix, 0) == 0;
}

fs::path learned_embedder_file(const fs::path& model_file) {
  return fs::path(model_file).replace_extension(".tutti-embedder");
}

struct Tagger::Impl {
  Impl(infer::Predictor p, TagOptions o) : predictor(std::move(p)), options(std::move(o)) {}
  infer::Predictor predictor;
  TagOptions options;
  std::unique_ptr<embed::Embedder> embedder;
  bool fixed = false;
  bool instance_outputs = false;
  mutable std::mutex model_mu;  // Predictor::predict sets LibTorch's global thread count
};

Tagger::Tagger(const fs::path& model_file, const TagOptions& options)
    : impl_(std::make_unique<Impl>(infer::Predictor::load(model_file), options)) {
  options.validate();
  const infer::ModelInfo& m = impl_->predictor.info();
  const std::string& want = m.features.embedder;
  const std::string model_name = model_file.string();
  const bool given_file = embed::is_embedder_file_name(options.embedder);
  if (!options.embedder.empty() && !given_file && options.embedder != want)
    fail<UsageError>(
        "tag: {} was trained on '{}' features; the embedder '{}' would give it features it has "
        "never seen (leave out --embedder, or train a model on {} features)",
        model_name, want, options.embedder, options.embedder);
  if (given_file || is_learned_embedder(want)) {
    // A learned embedder's weights: the file given, else the one beside the model.
    const fs::path file =
        given_file ? fs::path(options.embedder) : learned_embedder_file(model_file);
    impl_->embedder = embed::load_embedder_file(file, options.embedder_options);
    check<UsageError>(impl_->embedder->info().name == want,
                      "tag: {} was trained on '{}' features; the embedder file {} gives '{}' "
                      "features",
                      model_name, want, file.string(), impl_->embedder->info().name);
  } else {
    const auto known = embed::embedder_names();
    if (std::find(known.begin(), known.end(), want) == known.end())
      fail<UsageError>(
          "tag: {} was trained on '{}' features, which tutti cannot compute from audio "
          "(known embedders: {})",
          model_name, want, fmt::join(known, ", "));
    impl_->embedder = embed::make_embedder(want, options.embedder_options);
  }
  const auto& e = impl_->embedder->info();
  check(e.dim == m.features.dim,
        "tag: {} expects {}-dimensional features, the embedder '{}' gives {}", model_name,
        m.features.dim, e.name, e.dim);
  check(m.features.scaling == "uint8/255",
        "tag: {} was trained on float features (scaling '{}'); embedders give uint8 features",
        model_name, m.features.scaling);
  check(m.features.max_instances >= 1, "tag: {} has a bag length of {}", model_name,
        m.features.max_instances);
  impl_->fixed = !m.is_forest() && models::requires_fixed_length(m.spec.name);
  impl_->instance_outputs = !m.is_forest();
}

Tagger::~Tagger() = default;
Tagger::Tagger(Tagger&&) noexcept = default;
Tagger& Tagger::operator=(Tagger&&) noexcept = default;

const infer::ModelInfo& Tagger::model() const { return impl_->predictor.info(); }
const embed::Embedder& Tagger::embedder() const { return *impl_->embedder; }

FileTags Tagger::tag_file(const fs::path& audio) const { return tag_file(audio, {}); }

FileTags Tagger::tag_file(const fs::path& audio, const std::function<void()>& between) const {
  const Impl& im = *impl_;
  const infer::ModelInfo& m = im.predictor.info();
  const std::int64_t W = m.features.max_instances, D = m.features.dim;
  const std::int64_t C = static_cast<std::int64_t>(m.classes.size());
  const auto wd = static_cast<std::size_t>(W * D);
  const auto uC = static_cast<std::size_t>(C);

  FileTags r;
  r.file = audio.string();
  r.classes = m.classes;
  r.thresholds = m.thresholds;
  r.window_instances = W;
  r.probability.assign(uC, 0.0f);

  // pending: instances not yet predicted, starting at instance pending_first. recent: the last W
  // instances already predicted (a fixed-length model's final window may reach back into them).
  std::vector<std::uint8_t> pending, recent;
  std::int64_t pending_first = 0;

  // Predicts windows made of rows [row0, row0 + count) of `feats` (instance index of row 0 =
  // first_instance) and records the outputs for the instances [assign_from, ...) they cover.
  auto run = [&](const std::vector<Window>& windows, std::span<const std::uint8_t> feats,
                 std::int64_t feats_first) {
    if (windows.empty()) return;
    const auto nw = static_cast<std::int64_t>(windows.size());
    auto ds = data::BagDataset::zeros(nw, W, D, m.classes, data::FeatureType::kUint8);
    for (std::int64_t j = 0; j < nw; ++j) {
      const Window& w = windows[static_cast<std::size_t>(j)];
      std::copy_n(feats.begin() + (w.first - feats_first) * D, w.count * D,
                  ds.x_u8.begin() + static_cast<std::ptrdiff_t>(j * W * D));
      ds.n_instances[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(w.count);
      ds.keys[static_cast<std::size_t>(j)] = fmt::format("{}@{}", r.file, w.first);
    }
    infer::Predictions p;
    {
      std::lock_guard lock(im.model_mu);
      p = im.predictor.predict(ds, im.instance_outputs, im.options.model_threads, r.file);
    }
    for (std::int64_t j = 0; j < nw; ++j) {
      const Window& w = windows[static_cast<std::size_t>(j)];
      const auto wi = static_cast<std::int32_t>(r.window_first.size());
      r.window_first.push_back(w.first);
      r.window_count.push_back(w.count);
      for (std::int64_t c = 0; c < C; ++c) {
        const float s = p.score(j, c);
        r.window_scores.push_back(s);
        r.probability[static_cast<std::size_t>(c)] =
            std::max(r.probability[static_cast<std::size_t>(c)], s);
      }
      // Instances not yet described by an earlier window.
      const auto already = static_cast<std::int64_t>(r.window_of.size());
      for (std::int64_t t = std::max(w.first, already); t < w.first + w.count; ++t) {
        r.window_of.push_back(wi);
        const std::int64_t k = t - w.first;
        for (std::int64_t c = 0; c < C; ++c) {
          const auto at = static_cast<std::size_t>((j * W + k) * C + c);
          if (!p.instance.empty()) r.instance_prob.push_back(p.instance[at]);
          if (!p.attention.empty()) r.attention.push_back(p.attention[at]);
        }
      }
    }
  };

  const std::size_t chunk = im.options.batch_windows * wd;
  auto flush_full = [&] {
    // All complete windows in pending.
    const auto n_pend = static_cast<std::int64_t>(pending.size()) / D;
    const std::int64_t full = n_pend / W;
    if (full == 0) return;
    std::vector<Window> ws;
    for (std::int64_t j = 0; j < full; ++j) ws.push_back({pending_first + j * W, W});
    run(ws, pending, pending_first);
    const std::size_t used = static_cast<std::size_t>(full) * wd;
    recent.assign(pending.begin() + static_cast<std::ptrdiff_t>(used - wd),
                  pending.begin() + static_cast<std::ptrdiff_t>(used));
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(used));
    pending_first += full * W;
  };

  const auto summary = embed::embed_file_batches(
      *im.embedder, audio, im.options.batch_examples,
      [&](std::size_t, std::size_t, std::span<const std::uint8_t> f) {
        pending.insert(pending.end(), f.begin(), f.end());
        if (pending.size() >= chunk) flush_full();
        if (between) between();
      },
      im.options.window);
  flush_full();
  r.duration_s = summary.duration_s();
  r.start_s = summary.start_s;
  r.padded = summary.padded;
  r.n_instances = static_cast<std::int64_t>(summary.count);
  const auto rest = static_cast<std::int64_t>(pending.size()) / D;
  if (rest > 0) {
    if (!im.fixed) {
      run({{pending_first, rest}}, pending, pending_first);
    } else {
      check(r.n_instances >= W,
            "{}: {} instances ({:.2f} s), fewer than the {} the fixed-length model '{}' needs",
            r.file, r.n_instances, r.duration_s, W, m.spec.name);
      // The last W instances: the tail of `recent` plus the pending ones.
      std::vector<std::uint8_t> last(recent.end() - static_cast<std::ptrdiff_t>((W - rest) * D),
                                     recent.end());
      last.insert(last.end(), pending.begin(), pending.end());
      run({{r.n_instances - W, W}}, last, r.n_instances - W);
    }
  }
  if (r.padded)
    r.note = fmt::format(
        "{:.3f} s of audio is shorter than one 0.96 s example: padded with "
        "silence to one",
        r.duration_s);
  else if (r.n_instances == 0)
    r.note = fmt::format("{:.3f} s of audio is shorter than one 0.96 s example: nothing to tag",
                         r.duration_s);
  // The decoder skips a few damaged frames (more than half is an error): the result stands, but
  // the reader is told, as `tutti embed` warns.
  if (summary.bad_frames > 0)
    r.note += fmt::format("{}{} damaged audio frames were skipped", r.note.empty() ? "" : "; ",
                          summary.bad_frames);
  for (std::size_t c = 0; c < uC; ++c)
    r.present.push_back(r.n_instances > 0 && r.probability[c] >= r.thresholds[c] ? 1 : 0);
  r.segments = segments_from_timeline(r);
  return r;
}

TagBatch tag_each(const Tagger& tagger, std::span<const embed::InputFile> files,
                  const TagEach& each) {
  check<UsageError>(each.threads >= 0, "tag: threads must be >= 0, got {}", each.threads);
  const std::size_t n = files.size();
  std::vector<std::optional<FileTags>> out(n);
  // A file that fails is recorded with its message and the others go on.
  const auto errors = core::parallel_for_each(
      n, each.threads,
      [&](std::size_t i) {
        FileTags t = tagger.tag_file(files[i].path);
        t.file = files[i].key;
        if (each.on_file) each.on_file(i, t);
        if (each.keep) out[i] = std::move(t);
      },
      each.progress);
  TagBatch b;
  for (std::size_t i = 0; i < n; ++i) {
    if (!errors[i].empty())
      b.failures.push_back({files[i].path.string(), errors[i]});
    else if (out[i])
      b.files.push_back(std::move(*out[i]));
  }
  return b;
}

TagBatch tag_files(const Tagger& tagger, std::span<const fs::path> inputs, int threads,
                   const TagProgress& progress) {
  const auto files = embed::collect_audio_files(inputs);
  TagEach each;
  each.threads = threads;
  each.progress = progress;
  return tag_each(tagger, files, each);
}

}  // namespace tutti::infer
