// Audio files -> bag datasets: the library part of `tutti embed` (docs/embed.md, "## embed").
// Torch-free header.
//
//   auto emb = tutti::embed::make_embedder("logmel-stats");
//   // One file, streaming: features of each batch of up to 32 examples as soon as they exist.
//   auto info = tutti::embed::embed_file_batches(*emb, "song.flac", 32,
//       [](std::size_t first, std::size_t n, std::span<const std::uint8_t> f) { /* [n, D] */ });
//
//   // Many files and folders (recursing into folders for audio extensions), several threads:
//   tutti::embed::EmbedOptions opt;
//   opt.threads = 2;
//   auto r = tutti::embed::embed_paths({"synth/audio"}, *emb, opt);
//   tutti::embed::attach_weak_labels(r, "synth/labels.csv");      // Y_true / Y_mask
//   tutti::embed::attach_instance_truth(r.dataset, "synth/instances.csv", r.paths);
//   tutti::data::save_bags("features.npz", r.dataset);           // r.dataset.embedder is set
//   if (!r.failures.empty()) /* report them; `tutti embed` exits 1 */;
//
// Policies (all documented in docs/embed.md):
// - Instance t of a file is the VGGish example [0.96 t, 0.96 (t + 1)) s; a file shorter than one
//   example (0.975 s at 16 kHz) gives zero instances: it is kept as a clip with n_instances = 0
//   and listed in EmbedResult::warnings (training skips such clips; prediction scores them 0).
// - K = the largest instance count over the files, at most EmbedOptions::max_instances (default
//   kEmbedMaxInstances, 0 = no bound); a file with more instances keeps its first K (the first
//   K * 0.96 s), listed in warnings. The bound keeps one hour-long file from padding every clip of
//   the dataset to an hour.
// - Keys: a file named on the command line keeps the path as given; a file found in a folder is
//   keyed by its path relative to that folder (generic '/' separators). Duplicate keys are a
//   UsageError. Output order = input order, folders in sorted path order, whatever the threads.
// - A file that cannot be embedded (missing, not audio, corrupt) is listed in failures with the
//   decoder's message (which names the file) and left out of the dataset; the others go on.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tutti/data/bag_dataset.h"
#include "tutti/embed/embedder.h"
#include "tutti/features/file_examples.h"

namespace tutti::embed {

// File name extensions (lower case, with the dot) that folder recursion picks up.
const std::vector<std::string>& audio_extensions();

// ---- one file -----------------------------------------------------------------------------------

// Decodes `path` and embeds its examples in batches of up to `batch_size` (>= 1), calling
// on_batch(first_example_index, count, features [count, dim]) as each batch completes, so only
// one batch of examples is in memory (an hour-long file streams). Returns the front end's summary
// (count, duration, source format; values empty). Errors: tutti::Error "audio: <path>: ..." from
// the decoder; UsageError for batch_size 0.
using BatchCallback =
    std::function<void(std::size_t first, std::size_t count, std::span<const std::uint8_t>)>;
// `window`: the part of the file to analyse and the short-file policy (features::ReadWindow).
features::FileExamples embed_file_batches(const Embedder& embedder,
                                          const std::filesystem::path& path, std::size_t batch_size,
                                          const BatchCallback& on_batch,
                                          const features::ReadWindow& window = {});

struct FileEmbedding {
  std::vector<std::uint8_t> features;  // [count, dim] (at most max_instances rows when > 0)
  std::size_t count = 0;               // rows kept
  std::size_t total_examples = 0;      // examples in the file (count < total when truncated)
  std::int64_t dim = 0;
  double duration_s = 0;        // mono 16 kHz samples analysed / 16000
  std::int64_t bad_frames = 0;  // damaged codec frames skipped while decoding
  bool padded = false;          // shorter than one example, padded with silence to one
};
// The whole file's features (max_instances > 0: only the first max_instances are kept; the rest
// of the file is still decoded to count them).
FileEmbedding embed_file(const Embedder& embedder, const std::filesystem::path& path,
                         std::int64_t max_instances = 0, std::size_t batch_size = 128,
                         const features::ReadWindow& window = {});

// ---- many files ---------------------------------------------------------------------------------

struct InputFile {
  std::filesystem::path path;  // to open
  std::string key;             // sample_key in the dataset
};
// Expands files and folders into the files to embed (see the key policy above). A folder with no
// audio file, or a path that does not exist, throws UsageError naming it; duplicate keys too.
// Files named explicitly are taken whatever their extension (the decoder decides).
std::vector<InputFile> collect_audio_files(std::span<const std::filesystem::path> inputs);

// 625 instances = 600 s, the longest clip `tutti synth` makes.
inline constexpr std::int64_t kEmbedMaxInstances = 625;

struct EmbedOptions {
  int threads = 0;  // files embedded at once (one front end each); 0 = all cores
  std::int64_t max_instances = kEmbedMaxInstances;  // K cap; 0 = the longest file's count
  std::size_t batch_size = 128;  // examples per embedder call (VGGish: more per call, less cost)
  features::ReadWindow window;   // part of each file; pad_short: pad short files to 1 example
  // Called from the worker after each embedded file with its seconds of audio (calls may overlap:
  // the callee locks), e.g. for a progress bar's hours of audio.
  std::function<void(double audio_s)> on_audio;
  void validate() const;  // UsageError for negative values or batch_size 0
};

struct EmbedFailure {
  std::string file;     // path as opened
  std::string message;  // the error (names the file)
};

struct EmbedResult {
  data::BagDataset dataset;  // uint8 [N, K, D]; no classes yet (C = 0); embedder recorded
  std::vector<std::filesystem::path> paths;  // [N] the file behind each clip
  std::vector<double> durations_s;           // [N]
  std::vector<EmbedFailure> failures;        // files left out
  std::vector<std::string> warnings;         // short files, truncated files, label notes
};

// Progress: called once per finished file (success or failure) with (done, total), from worker
// threads (serialized by a mutex).
using FileProgress = std::function<void(std::size_t done, std::size_t total)>;

EmbedResult embed_files(std::span<const InputFile> files, const Embedder& embedder,
                        const EmbedOptions& options = {}, const FileProgress& progress = {});
// collect_audio_files + embed_files.
EmbedResult embed_paths(std::span<const std::filesystem::path> inputs, const Embedder& embedder,
                        const EmbedOptions& options = {}, const FileProgress& progress = {});

// ---- labels -------------------------------------------------------------------------------------

// Weak labels from a CSV with a header naming the columns file, instrument, relevance (any order;
// the format `tutti synth` writes as labels.csv). Rows are matched to clips, first level that
// matches wins:
//   1. the CSV's `file` resolved against the CSV's folder is the clip's file (same canonical path),
//   2. `file` equals the clip's key,
//   3. the file names (last path component) are equal,
//   4. the stems (file name without extension) are equal (OpenMIC-style keys like 000046_3840).
// A clip matched by two different `file` values at its first matching level is an error
// (ambiguous). Classes: `classes` when not empty (an instrument outside it is an error), else the
// sorted instrument names of the CSV. Y_true = relevance, Y_mask = 1 for every (clip, instrument)
// row; classes without a row stay unknown (mask 0). Clips without any row keep mask 0 everywhere
// and are listed in the report; rows that match no clip are counted.
// Errors (tutti::Error "<csv>:<line>: ..."): missing file, a missing or unknown column, an empty
// file or instrument, relevance not a number or outside [0, 1], the same (file, instrument) twice
// with different relevances.
struct LabelReport {
  std::vector<std::string> unlabeled;        // keys of clips without any row
  std::int64_t unmatched_rows = 0;           // rows whose file is not among the clips
  std::vector<std::string> unmatched_files;  // their distinct `file` values (first 20)
};
LabelReport attach_weak_labels(data::BagDataset& ds, std::span<const std::filesystem::path> paths,
                               const std::filesystem::path& labels_csv,
                               const std::vector<std::string>& classes = {});
// Convenience: labels EmbedResult in place and appends the report's notes to r.warnings (rows
// naming other files only with note_unmatched: a shard of a corpus expects them).
LabelReport attach_weak_labels(EmbedResult& r, const std::filesystem::path& labels_csv,
                               const std::vector<std::string>& classes = {},
                               bool note_unmatched = true);

// Instance truth from `tutti synth`'s instances.csv (columns file, instance, onset_s, offset_s,
// instrument: one row per active (instance, class) pair) -> ds.y_instance [N, K, C]. Rows are
// matched to clips as in attach_weak_labels (paths may be empty: then levels 2-4 only). When ds
// has no classes yet, they become the sorted instruments of the CSV (labels unknown). A row whose
// instance index is >= the clip's n_instances (the synth counts floor(duration / 0.96) instances,
// the front end one fewer for durations that are exact multiples of 0.96 s) is dropped and
// counted in the return value. Errors "<csv>:<line>: ...": missing file or column, instance not a
// non-negative integer, an instrument outside ds.classes.
struct InstanceTruthReport {
  std::int64_t rows = 0, set = 0, dropped_beyond_clip = 0, unmatched_rows = 0;
};
InstanceTruthReport attach_instance_truth(data::BagDataset& ds,
                                          const std::filesystem::path& instances_csv,
                                          std::span<const std::filesystem::path> paths = {});

}  // namespace tutti::embed
