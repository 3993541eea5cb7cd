// `tutti tag --model MODEL.tutti AUDIO...`: which instruments play in each file, and when
// (docs/embed.md, "## tag"). A table on stdout by default, --format json|jsonl|csv|tsv|events for
// machines, --out-dir for one output per file (sed-scores too), --plot for an SVG timeline. Exit 1
// when any file failed (the others are still reported; when none worked, one error line).
// Started as several ranks (torchrun, srun, mpirun, `tutti launch`) with --out-dir, each rank tags
// its slice of the files sorted by key.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <mutex>
#include <numeric>

#include "batch_failures.h"
#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/progress.h"
#include "tutti/dist/dist_env.h"
#include "tutti/infer/model_file.h"
#include "tutti/infer/tag.h"
#include "tutti/infer/tag_output.h"
#include "tutti/report/plots.h"
#include "tutti/report/svg.h"

namespace tutti::cli {
namespace {

void print_table(const infer::FileTags& t) {
  std::printf("%s  (%.2f s, %lld instances, windows of %lld)%s%s\n", t.file.c_str(), t.duration_s,
              static_cast<long long>(t.n_instances), static_cast<long long>(t.window_instances),
              t.note.empty() ? "" : ": ", t.note.c_str());
  std::vector<int> order(t.classes.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return t.probability[a] > t.probability[b]; });
  std::size_t width = 10;
  for (const auto& c : t.classes) width = std::max(width, c.size());
  std::printf("  %-*s  %11s  %9s  %-7s  %s\n", static_cast<int>(width), "instrument", "probability",
              "threshold", "present", "segments (s)");
  for (int c : order)
    std::printf("  %-*s  %11.3f  %9.3f  %-7s  %s\n", static_cast<int>(width), t.classes[c].c_str(),
                t.probability[c], t.thresholds[c], t.present[c] ? "yes" : "no",
                infer::segments_text(t, c).c_str());
}

// One timeline per file, stacked in one SVG (each file's plot keeps its own size).
std::string plot(const std::vector<infer::FileTags>& files) {
  std::vector<std::string> parts;
  double width = 0, height = 0;
  std::vector<double> offsets;
  for (const auto& t : files) {
    report::Timeline tl;
    tl.title = fmt::format("{} ({:.1f} s)", t.file, t.duration_s);
    tl.hop_s = t.hop_s;
    tl.classes = t.classes;
    const auto c = static_cast<std::size_t>(t.num_classes());
    tl.prob.assign(c, {});
    if (!t.attention.empty()) tl.attention.assign(c, {});
    for (std::int64_t i = 0; i < t.n_instances; ++i)
      for (std::size_t k = 0; k < c; ++k) {
        const std::size_t at = static_cast<std::size_t>(i) * c + k;
        tl.prob[k].push_back(t.instance_prob.empty()
                                 ? t.window_score_of(i, static_cast<std::int64_t>(k))
                                 : t.instance_prob[at]);
        if (!t.attention.empty()) tl.attention[k].push_back(t.attention[at]);
      }
    tl.clip_scores.assign(t.probability.begin(), t.probability.end());
    std::string svg = report::timeline_svg(tl);
    auto attr = [&](const char* name) {
      const std::string key = std::string(" ") + name + "=\"";
      const auto p = svg.find(key);
      return p == std::string::npos ? 0.0 : std::stod(svg.substr(p + key.size()));
    };
    offsets.push_back(height);
    width = std::max(width, attr("width"));
    height += attr("height");
    parts.push_back(std::move(svg));
  }
  if (parts.size() == 1) return parts.front();
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} "
      "{}\">\n",
      report::svg_num(width), report::svg_num(height), report::svg_num(width),
      report::svg_num(height));
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += parts[i].insert(4, fmt::format(" x=\"0\" y=\"{}\"", report::svg_num(offsets[i])));
  return out + "</svg>\n";
}

void setup(CLI::App& root) {
  struct Opts {
    std::string model, embedder, vggish, plot, format, out_dir, files_from, failures;
    std::vector<std::string> inputs;
    bool json = false, csv = false, resume = false, no_pad = false;
    int threads = 1;
    double start_s = 0, duration_s = 0;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "tag", "Tag audio files with a trained model: instruments, probabilities, time segments");
  cmd->add_option("--model,-m", o->model,
                  fmt::format("Model file (.tutti) or shipped model name (as20; default {})",
                              infer::kDefaultTagModel))
      ->transform(model_file_or_name());
  cmd->add_option("AUDIO", o->inputs, "Audio files and folders (searched recursively)");
  cmd->add_option("--files-from", o->files_from,
                  "More inputs: a list with one path per line ('-' = stdin)");
  auto* format = cmd->add_option(
      "--format", o->format,
      fmt::format("Output: {} (default table)", fmt::join(infer::tag_format_names(), ", ")));
  auto* json = cmd->add_flag("--json", o->json, "Same as --format json")->excludes(format);
  cmd->add_flag("--csv", o->csv, "Same as --format csv")->excludes(json)->excludes(format);
  auto* out_dir = cmd->add_option(
      "--out-dir", o->out_dir,
      "One output per input file in this folder (input's key, audio extension replaced)");
  cmd->add_flag("--resume", o->resume,
                "With --out-dir: skip inputs whose output exists (outputs are written atomically)")
      ->needs(out_dir);
  cmd->add_option("--failures", o->failures, "Write the failed inputs, one per line");
  cmd->add_option("--start", o->start_s, "Tag from this time on (seconds)");
  cmd->add_option("--duration", o->duration_s, "Tag at most this many seconds (0 = to the end)");
  cmd->add_flag("--no-pad", o->no_pad,
                "Files shorter than one 0.96 s example: report nothing instead of padding them");
  cmd->add_option("--plot", o->plot, "Write the per-instrument timelines as one SVG");
  cmd->add_option("--threads", o->threads, "Files tagged at once (default 1; 0 = all cores)");
  cmd->add_option("--embedder", o->embedder,
                  "Embedder (default and only accepted value: the model's; a learned embedder's "
                  "file, default the .tutti-embedder beside the model)");
  cmd->add_option("--vggish", o->vggish, "VGGish weights (.tutti-embedder)");
  cmd->callback([o] {
    check<UsageError>(!o->inputs.empty() || !o->files_from.empty(),
                      "tag: no inputs (name audio files or folders, or --files-from LIST)");
    if (o->model.empty()) o->model = infer::resolve_model(infer::kDefaultTagModel).string();
    const std::string format_name = o->json ? "json" : o->csv ? "csv" : o->format;
    const infer::TagFormat format =
        format_name.empty() ? infer::TagFormat::kTable : infer::parse_tag_format(format_name);
    std::vector<NamedPath> in = {{"--model", o->model}, {"--vggish", o->vggish}};
    for (const auto& a : o->inputs) in.push_back({"AUDIO", a});
    check_outputs_differ("tag", in, {{"--plot", o->plot}, {"--failures", o->failures}});
    const bool per_file = !o->out_dir.empty();
    if (per_file) {
      infer::tag_format_suffix(format);  // the table has no per-file form: a usage error
      std::error_code ec;
      std::filesystem::create_directories(o->out_dir, ec);
      check(!ec && std::filesystem::is_directory(o->out_dir),
            "tag: --out-dir {}: cannot create: {}", o->out_dir,
            ec ? ec.message() : "a file of that name exists");
      check(::access(o->out_dir.c_str(), W_OK) == 0, "tag: --out-dir {}: not writable", o->out_dir);
    } else {
      check<UsageError>(format != infer::TagFormat::kSedScores,
                        "tag: --format sed-scores writes one table per file: add --out-dir DIR");
    }

    std::vector<std::filesystem::path> inputs(o->inputs.begin(), o->inputs.end());
    std::vector<MissingInput> missing;
    if (!o->files_from.empty()) read_files_from(o->files_from, inputs, missing);
    std::vector<infer::TagFailure> failures;
    for (const auto& m : missing) failures.push_back({m.file, m.message});
    auto files =
        inputs.empty() ? std::vector<embed::InputFile>{} : embed::collect_audio_files(inputs);
    // A distributed run (torchrun, srun, mpirun, `tutti launch`): each rank tags its slice of the
    // files sorted by key, writing their outputs to --out-dir; rank 0 reports missing inputs.
    const auto env = dist::read_dist_env();
    if (env) {
      check<UsageError>(per_file && o->plot.empty(),
                        "tag: a distributed run (rank {} of {}) writes one output per file: give "
                        "--out-dir DIR and no --plot",
                        env->rank, env->world_size);
      take_rank_slice(files, env->rank, env->world_size);
      if (env->rank != 0) failures.clear();
    }

    // Per-file outputs: one per key, and with --resume only the inputs without one.
    std::vector<std::filesystem::path> outputs;
    std::size_t skipped = 0;
    if (per_file) {
      std::map<std::filesystem::path, std::string> owner;
      std::vector<embed::InputFile> todo;
      for (const auto& f : files) {
        auto out = infer::per_file_output(o->out_dir, f.key, format);
        const auto [it, fresh] = owner.emplace(out, f.key);
        check<UsageError>(fresh, "tag: inputs '{}' and '{}' would both write {}", it->second, f.key,
                          out.string());
        std::error_code ec;
        if (o->resume && std::filesystem::is_regular_file(out, ec)) {
          ++skipped;
          continue;
        }
        todo.push_back(f);
        outputs.push_back(std::move(out));
      }
      files = std::move(todo);
    }

    infer::TagOptions opt;
    opt.embedder = o->embedder;
    opt.embedder_options.vggish_file = o->vggish;
    opt.embedder_options.parallel = network_split(o->threads, files.size());
    opt.window.start_s = o->start_s;
    opt.window.duration_s = o->duration_s;
    opt.window.pad_short = !o->no_pad;
    opt.window.validate();
    const infer::Tagger tagger(o->model, opt);
    const std::string embedder_name = tagger.embedder().info().name;
    infer::TagBatch b;
    {
      core::Progress bar("tag", static_cast<std::int64_t>(files.size()));
      std::mutex mu;
      double audio_s = 0;
      infer::TagEach each;
      each.threads = o->threads;
      each.keep = !per_file || !o->plot.empty();
      each.on_file = [&](std::size_t i, infer::FileTags& t) {
        {
          std::lock_guard lock(mu);
          audio_s += t.duration_s;
          bar.set_status(audio_hours_status(audio_s));
        }
        if (!per_file) return;
        std::error_code ec;
        std::filesystem::create_directories(outputs[i].parent_path(), ec);
        check(!ec, "{}: cannot create the output folder: {}", outputs[i].parent_path().string(),
              ec.message());
        core::write_file_atomic(
            outputs[i], infer::format_tags(format, o->model, embedder_name, std::span(&t, 1), {}));
      };
      each.progress = [&](std::size_t, std::size_t) { bar.advance(); };
      b = infer::tag_each(tagger, files, each);
    }
    failures.insert(failures.end(), b.failures.begin(), b.failures.end());
    const std::size_t done = per_file ? files.size() - b.failures.size() : b.files.size();
    if (skipped > 0)
      std::fprintf(stderr, "tutti: %zu inputs skipped: their output exists (--resume)\n", skipped);
    print_partial_failures(failures, done + skipped);
    write_failures_file(rank_failures_path(o->failures, env ? env->rank : 0, env.has_value()),
                        failures);
    if (!per_file) {
      if (format == infer::TagFormat::kTable) {
        for (std::size_t i = 0; i < b.files.size(); ++i) {
          if (i > 0) std::printf("\n");
          print_table(b.files[i]);
        }
      } else {
        std::fputs(infer::format_tags(format, o->model, embedder_name, b.files, b.failures).c_str(),
                   stdout);
      }
    } else {
      std::fprintf(stderr, "tagged %zu files -> %s\n", done, o->out_dir.c_str());
    }
    std::fflush(stdout);
    if (!o->plot.empty() && !b.files.empty()) report::write_svg_file(o->plot, plot(b.files));
    if (!failures.empty() && done + skipped == 0) throw all_failed_error(failures, "tag", "inputs");
    check(failures.empty(), "tag: {} of {} inputs failed", failures.size(),
          failures.size() + done + skipped);
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("tag", 42, tutti::cli::setup);
