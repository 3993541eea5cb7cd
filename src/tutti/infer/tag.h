// Tagging audio files with a trained model: which instruments play, and when (docs/embed.md,
// "## tag"). Torch-free header (the model is behind infer::Predictor's pimpl).
//
//   tutti::infer::Tagger tagger("att.tutti");                  // embedder = the model's
//   tutti::infer::FileTags t = tagger.tag_file("song.flac");
//   for (std::size_t c = 0; c < t.classes.size(); ++c)
//     if (t.present[c]) use(t.classes[c], t.probability[c]);
//   for (const auto& s : t.segments) use(s.instrument, s.start_s, s.end_s);
//
// How a file is tagged:
// - The file streams through the front end and the model's embedder in batches; instance t is
//   the 0.96 s example [0.96 t, 0.96 (t + 1)) s. Instances are cut into windows of W = the
//   model's bag length (FeatureSpec::max_instances, 10 for OpenMIC models): window w holds
//   instances [wW, (w+1)W); the last one may be shorter. A fixed-length model (FC) needs exactly
//   W instances: its last window is the file's last W instances (overlapping the previous one;
//   instances already covered keep the earlier window's outputs), and a file of fewer than W
//   instances is an error. Only a few windows are in memory at once, so an hour-long file is
//   tagged with bounded memory.
// - Clip level: probability[c] = the maximum over windows of the window's clip probability
//   (an instrument that plays anywhere in the file is present in it); present[c] = probability[c]
//   >= the model's threshold for c (chosen on its validation data).
// - Timeline: per instance the window's clip probability, and for models with instance outputs
//   (ATT: instance probabilities and attention; FC_T, RNN: what the model provides) the instance
//   values. RF_BR has no instance outputs: its timeline is the window scores only.
// - Segments: see segments_from_timeline (timeline.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tutti/embed/embed_files.h"
#include "tutti/embed/embedder.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/timeline.h"

namespace tutti::infer {

struct TagOptions {
  // "" = the embedder the model was trained on (FeatureSpec::embedder). A different name is
  // refused (UsageError): the model has never seen those features. An embedder file
  // (embed::is_embedder_file_name) is loaded and must give the model's features. A model trained
  // on a learned embedder ("logmel-cnn:<id>") finds its weights, when none is given, in the file
  // beside it: learned_embedder_file(model) (models/synth.tutti -> models/synth.tutti-embedder).
  std::string embedder;
  embed::EmbedderOptions embedder_options;  // vggish weights file, network threads
  std::size_t batch_examples = 128;         // examples per embedder call
  std::size_t batch_windows = 16;           // windows per model call
  int model_threads = 1;                    // LibTorch intra-op threads per model call
  // The part of each file to tag (--start/--duration) and the short-file policy: with
  // window.pad_short a file shorter than one example is padded to one (FileTags::padded, a note).
  features::ReadWindow window;
  void validate() const;  // UsageError for zero batches / negative threads
};

// The shipped model `tutti tag` uses without --model, by name (resolve_model): models/synth.tutti
// with its embedder models/synth.tutti-embedder (docs/models/synth.md).
inline constexpr const char* kDefaultTagModel = "synth";

// True for the names of learned embedders, whose weights are a file ("logmel-cnn:<id>").
bool is_learned_embedder(const std::string& name);
// Where a model's learned embedder is looked for: the model file with extension .tutti-embedder.
std::filesystem::path learned_embedder_file(const std::filesystem::path& model_file);

class Tagger {
 public:
  // Loads the model and its embedder. Errors: "model: <file>: ..." (unreadable model);
  // UsageError for an embedder that differs from the model's or that tutti does not know;
  // tutti::Error when the embedder's dimension or scaling differs from the model's features, or
  // when the VGGish weights are missing.
  explicit Tagger(const std::filesystem::path& model_file, const TagOptions& options = {});
  ~Tagger();
  Tagger(Tagger&&) noexcept;
  Tagger& operator=(Tagger&&) noexcept;

  const infer::ModelInfo& model() const;
  const embed::Embedder& embedder() const;

  // Tags one file. Thread-safe (several files may be tagged at once: the front ends run in
  // parallel, model calls are serialized). Errors: the decoder's "audio: <path>: ..."; a file
  // shorter than one example gives a FileTags with n_instances = 0, probabilities 0, nothing
  // present and a `note` (not an error); a fixed-length model and a file shorter than its window
  // throw tutti::Error naming the file.
  FileTags tag_file(const std::filesystem::path& audio) const;
  // Same, calling between(), when set, after each batch of examples: an exception it throws stops
  // the tagging and propagates (how a server enforces a time limit on one request).
  FileTags tag_file(const std::filesystem::path& audio, const std::function<void()>& between) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Several files (and folders, expanded by embed::collect_audio_files) over `threads` workers
// (0 = all cores). Results keep the input order whatever the thread count. A file that fails is
// recorded in `failures` (its message names it) and the others go on.
struct TagFailure {
  std::string file;
  std::string message;
};
struct TagBatch {
  std::vector<FileTags> files;
  std::vector<TagFailure> failures;
};
using TagProgress = std::function<void(std::size_t done, std::size_t total)>;
TagBatch tag_files(const Tagger& tagger, std::span<const std::filesystem::path> inputs,
                   int threads = 1, const TagProgress& progress = {});

// Many files, each handed over as soon as it is tagged, for batches too large to keep (tens of
// thousands of files written one output per file):
//   TagEach each;
//   each.on_file = [&](std::size_t i, FileTags& t) { write_outputs(t); };
//   TagBatch b = tag_each(tagger, embed::collect_audio_files(inputs), each);
struct TagEach {
  int threads = 1;  // files tagged at once (0 = all cores)
  // Called from the worker that tagged files[i] (calls for different files may overlap). An
  // exception it throws (an output that cannot be written) makes the file a failure with that
  // message; the batch goes on.
  std::function<void(std::size_t index, FileTags& tags)> on_file;
  bool keep = true;      // keep the results in TagBatch::files (false: only failures are returned)
  TagProgress progress;  // after each file, success or failure (serialized)
};
// FileTags::file = the input's key. Failures in input order.
TagBatch tag_each(const Tagger& tagger, std::span<const embed::InputFile> files,
                  const TagEach& each);

// Windows [first, first + count) of a file of n_instances instances for bag length `window`
// (see above). fixed_length: every window has exactly `window` instances (n_instances >= window).
struct Window {
  std::int64_t first = 0, count = 0;
};
std::vector<Window> plan_windows(std::int64_t n_instances, std::int64_t window, bool fixed_length);

}  // namespace tutti::infer
