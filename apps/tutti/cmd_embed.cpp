// `tutti embed AUDIO_OR_DIR... --embedder NAME -o FEATURES.npz [--labels LABELS.csv]`: audio
// files -> a bag dataset of per-0.96 s features (docs/embed.md, "## embed").
//
// Exit status: 0 when every file was embedded; 1 when some failed — the dataset of the others is
// still written (unless --strict) and each failure is printed as one line naming the file. When
// no file could be embedded, the one error line says why (the failure itself for one file).
//
// Started as several ranks (torchrun, srun, mpirun, `tutti launch`), -o names a folder: each rank
// embeds its slice of the files sorted by key into OUT/shard-RRRRR-of-WWWWW.npz (with a record
// .json once complete), and rank 0 writes OUT/manifest.json when every rank is done. A rerun
// with the same files and options keeps the complete shards (data/shards.h).
#include <fmt/format.h>

#include <cstdio>
#include <mutex>
#include <sstream>

#include "batch_failures.h"
#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/progress.h"
#include "tutti/data/bag_io.h"
#include "tutti/data/openmic.h"
#include "tutti/data/shards.h"
#include "tutti/dist/process_group.h"
#include "tutti/embed/embed_files.h"

namespace tutti::cli {
namespace {

std::vector<std::string> parse_classes(const std::string& s) {
  if (s.empty()) return {};
  if (s == "openmic" || s == "openmic20") return data::openmic_classes();
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) {
    check<UsageError>(!item.empty(), "--classes {}: empty class name", s);
    out.push_back(item);
  }
  return out;
}

// This rank's part of a distributed run: its shard, and what decides whether an existing one is
// current (the options and its files).
struct ShardJob {
  std::unique_ptr<dist::ProcessGroup> group;
  std::filesystem::path dir, shard;
  std::string inputs;
  bool done = false;  // a complete shard from an earlier run
};

// Joins the group, checks that every rank has the same options and files, and keeps this rank's
// slice of `files` (sorted by key).
ShardJob join_shard_job(const dist::DistEnv& env, const std::string& out,
                        const std::string& options, std::vector<embed::InputFile>& files) {
  ShardJob job;
  job.group = dist::ProcessGroup::connect(env);
  job.group->check_same("version", TUTTI_VERSION, "tutti version");
  job.group->check_same("options", options, "embedding options");
  job.group->check_same("inputs", take_rank_slice(files, env.rank, env.world_size),
                        "input file list (MD5 of the keys)");
  std::string mine = options;
  for (const auto& f : files) mine += '\n' + f.key + '\t' + f.path.string();
  job.inputs = core::md5_hex(mine);
  job.dir = out;
  std::filesystem::create_directories(job.dir);
  job.shard = job.dir / data::shard_file_name(env.rank, env.world_size);
  job.done = files.empty() || data::completed_shard(job.shard, job.inputs).has_value();
  return job;
}

// After this rank's shard: waits for every rank, then rank 0 writes the manifest.
void finish_shard_job(ShardJob& job) {
  job.group->barrier();
  if (job.group->rank() != 0) return;
  std::vector<std::string> names;
  for (int r = 0; r < job.group->world_size(); ++r)
    names.push_back(data::shard_file_name(r, job.group->world_size()));
  const auto m = data::manifest_from_records(job.dir, names);
  const auto path = job.dir / "manifest.json";
  data::write_shard_manifest(path, m);
  std::fprintf(stderr, "manifest: %zu shards, %lld clips -> %s\n", m.shards.size(),
               static_cast<long long>(m.clips()), path.string().c_str());
}

void setup(CLI::App& root) {
  struct Opts {
    std::vector<std::string> inputs;
    std::string out, embedder = "logmel-stats", labels, instances, classes, vggish;
    std::string files_from, failures;
    int threads = 0;
    std::int64_t max_instances = embed::kEmbedMaxInstances;
    bool strict = false, no_pad = false;
    double start_s = 0, duration_s = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "embed", "Audio files and folders -> a bag dataset (.npz) of 0.96 s embeddings");
  cmd->add_option("AUDIO", o->inputs, "Audio files and folders (searched recursively)");
  cmd->add_option("--files-from", o->files_from,
                  "More inputs: a list with one path per line ('-' = stdin)");
  cmd->add_option("--failures", o->failures, "Write the failed inputs, one per line");
  cmd->add_option("--start", o->start_s, "Embed from this time on (seconds)");
  cmd->add_option("--duration", o->duration_s, "Embed at most this many seconds (0 = to the end)");
  cmd->add_flag("--no-pad", o->no_pad,
                "Files shorter than one 0.96 s example: keep 0 instances instead of padding them");
  cmd->add_option("-o,--output", o->out,
                  "Output bag dataset (.npz); in a distributed run a folder of shards")
      ->required();
  cmd->add_option("--embedder,-e", o->embedder,
                  "vggish, logmel-stats, or an embedder file (.tutti-embedder)")
      ->capture_default_str();
  cmd->add_option("--labels", o->labels,
                  "Weak labels CSV (file,instrument,relevance; as `tutti synth` writes)");
  cmd->add_option("--instances", o->instances,
                  "Instance truth CSV (file,instance,onset_s,offset_s,instrument) -> Y_instance");
  cmd->add_option("--classes", o->classes,
                  "Class list: comma-separated names or 'openmic' (default: the labels' names)");
  cmd->add_option("--threads", o->threads, "Files embedded at once (default: all cores)");
  cmd->add_option("--max-instances", o->max_instances,
                  "K: keep at most the first N instances of each file (0 = no bound: K = the "
                  "longest file)")
      ->capture_default_str();
  cmd->add_option("--vggish", o->vggish, "VGGish weights (.tutti-embedder)");
  cmd->add_flag("--strict", o->strict, "Write nothing when any file fails");
  cmd->callback([o] {
    check<UsageError>(!o->inputs.empty() || !o->files_from.empty(),
                      "embed: no inputs (name audio files or folders, or --files-from LIST)");
    std::vector<NamedPath> in = {
        {"--labels", o->labels}, {"--instances", o->instances}, {"--vggish", o->vggish}};
    for (const auto& a : o->inputs) in.push_back({"AUDIO", a});
    check_outputs_differ("embed", in, {{"-o", o->out}, {"--failures", o->failures}});
    embed::EmbedOptions opt;
    opt.threads = o->threads;
    opt.max_instances = o->max_instances;
    opt.window.start_s = o->start_s;
    opt.window.duration_s = o->duration_s;
    opt.window.pad_short = !o->no_pad;
    opt.validate();
    std::vector<std::filesystem::path> inputs(o->inputs.begin(), o->inputs.end());
    std::vector<MissingInput> missing;
    if (!o->files_from.empty()) read_files_from(o->files_from, inputs, missing);
    auto files =
        inputs.empty() ? std::vector<embed::InputFile>{} : embed::collect_audio_files(inputs);
    ShardJob job;
    if (const auto env = dist::read_dist_env()) {
      const std::string options = fmt::format(
          "embedder {} vggish {} K {} start {} duration {} pad {} labels {} instances {} "
          "classes {} strict {}",
          o->embedder, o->vggish.empty() ? "" : core::md5_file_hex(o->vggish), o->max_instances,
          o->start_s, o->duration_s, !o->no_pad,
          o->labels.empty() ? "" : core::md5_file_hex(o->labels),
          o->instances.empty() ? "" : core::md5_file_hex(o->instances), o->classes, o->strict);
      job = join_shard_job(*env, o->out, options, files);
      if (env->rank != 0) missing.clear();  // rank 0 reports the listed paths that do not exist
      if (job.done) {
        if (!files.empty())
          std::fprintf(stderr, "%s: complete from an earlier run, kept\n",
                       job.shard.string().c_str());
        finish_shard_job(job);
        return;
      }
    }
    embed::EmbedderOptions eo;
    eo.vggish_file = o->vggish;
    eo.parallel = network_split(o->threads, files.size());
    const auto embedder = embed::make_embedder(o->embedder, eo);
    embed::EmbedResult r;
    if (!files.empty()) {
      core::Progress bar(fmt::format("embed {}", o->embedder),
                         static_cast<std::int64_t>(files.size()));
      std::mutex mu;
      double audio_s = 0;
      opt.on_audio = [&](double s) {
        std::lock_guard lock(mu);
        audio_s += s;
        bar.set_status(audio_hours_status(audio_s));
      };
      r = embed::embed_files(files, *embedder, opt,
                             [&](std::size_t, std::size_t) { bar.advance(); });
    }
    // Listed paths that do not exist come first: they failed before anything ran.
    for (auto it = missing.rbegin(); it != missing.rend(); ++it)
      r.failures.insert(r.failures.begin(), {it->file, it->message});
    // Each rank of a distributed run lists its own failures (FILE.rank-R).
    write_failures_file(
        rank_failures_path(o->failures, job.group ? job.group->rank() : 0, job.group != nullptr),
        r.failures);
    const std::size_t total = files.size() + missing.size(), failed = r.failures.size();
    if (failed == total) throw all_failed_error(r.failures, "embed", "files");
    print_partial_failures(r.failures, total - failed);
    const auto classes = parse_classes(o->classes);
    if (!o->labels.empty())
      embed::attach_weak_labels(r, o->labels, classes, /*note_unmatched=*/!job.group);
    if (!o->instances.empty()) {
      if (o->labels.empty() && !classes.empty()) {
        r.dataset.classes = classes;
        r.dataset.y_true.assign(static_cast<std::size_t>(r.dataset.size()) * classes.size(), 0.0f);
        r.dataset.y_mask.assign(r.dataset.y_true.size(), 0);
      }
      const auto rep = embed::attach_instance_truth(r.dataset, o->instances, r.paths);
      if (rep.dropped_beyond_clip > 0)
        r.warnings.push_back(fmt::format("{}: {} rows name instances beyond their file's end",
                                         o->instances, rep.dropped_beyond_clip));
    }
    for (const auto& w : r.warnings) std::fprintf(stderr, "tutti: warning: %s\n", w.c_str());
    check(!(o->strict && failed > 0), "embed: {} of {} files failed; nothing written (--strict)",
          failed, total);
    const std::string out = job.group ? job.shard.string() : o->out;
    data::save_bags(out, r.dataset);
    if (job.group) data::write_shard_record(job.shard, job.inputs);
    std::fprintf(stderr, "embedded %lld files (K = %lld, D = %lld, %lld classes) with %s -> %s\n",
                 static_cast<long long>(r.dataset.size()),
                 static_cast<long long>(r.dataset.max_instances),
                 static_cast<long long>(r.dataset.dim),
                 static_cast<long long>(r.dataset.num_classes()), o->embedder.c_str(), out.c_str());
    if (job.group) finish_shard_job(job);
    check(failed == 0, "embed: {} of {} files failed (the others were written to {})", failed,
          total, out);
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("embed", 41, tutti::cli::setup);
