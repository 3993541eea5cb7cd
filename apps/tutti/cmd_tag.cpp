// `tutti tag --model MODEL.tutti AUDIO...`: which instruments play in each file, and when
// (docs/embed.md, "## tag"). A table on stdout by default, --json or --csv for machines, --plot
// for an SVG timeline. Exit 1 when any file failed (the others are still reported; when none
// worked, one error line).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "batch_failures.h"
#include "command.h"
#include "outputs.h"
#include "tutti/core/error.h"
#include "tutti/core/progress.h"
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
  std::printf("  %-*s  %11s  %9s  %-7s  %s\n", static_cast<int>(width), "instrument",
              "probability", "threshold", "present", "segments (s)");
  for (int c : order)
    std::printf("  %-*s  %11.3f  %9.3f  %-7s  %s\n", static_cast<int>(width),
                t.classes[c].c_str(), t.probability[c], t.thresholds[c],
                t.present[c] ? "yes" : "no", infer::segments_text(t, c).c_str());
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
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\">\n",
      report::svg_num(width), report::svg_num(height), report::svg_num(width),
      report::svg_num(height));
  for (std::size_t i = 0; i < parts.size(); ++i)
    out += parts[i].insert(4, fmt::format(" x=\"0\" y=\"{}\"", report::svg_num(offsets[i])));
  return out + "</svg>\n";
}

void setup(CLI::App& root) {
  struct Opts {
    std::string model, embedder, vggish, plot;
    std::vector<std::string> inputs;
    bool json = false, csv = false;
    int threads = 1;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "tag", "Tag audio files with a trained model: instruments, probabilities, time segments");
  cmd->add_option("--model,-m", o->model, "Model file (.tutti) or shipped model name (as20)")
      ->required()
      ->transform(model_file_or_name());
  cmd->add_option("AUDIO", o->inputs, "Audio files and folders (searched recursively)")
      ->required();
  auto* json = cmd->add_flag("--json", o->json, "One JSON object on stdout");
  cmd->add_flag("--csv", o->csv, "CSV on stdout: file,instrument,probability,threshold,present,segments")
      ->excludes(json);
  cmd->add_option("--plot", o->plot, "Write the per-instrument timelines as one SVG");
  cmd->add_option("--threads", o->threads, "Files tagged at once (default 1; 0 = all cores)");
  cmd->add_option("--embedder", o->embedder,
                  "Embedder (default and only accepted value: the model's)");
  cmd->add_option("--vggish", o->vggish, "VGGish weights (.tutti-embedder)");
  cmd->callback([o] {
    std::vector<NamedPath> in = {{"--model", o->model}, {"--vggish", o->vggish}};
    for (const auto& a : o->inputs) in.push_back({"AUDIO", a});
    check_outputs_differ("tag", in, {{"--plot", o->plot}});
    infer::TagOptions opt;
    opt.embedder = o->embedder;
    opt.embedder_options.vggish_file = o->vggish;
    const infer::Tagger tagger(o->model, opt);
    std::vector<std::filesystem::path> inputs(o->inputs.begin(), o->inputs.end());
    infer::TagBatch b;
    {
      core::Progress bar("tag", static_cast<std::int64_t>(inputs.size()));
      b = infer::tag_files(tagger, inputs, o->threads,
                         [&](std::size_t, std::size_t) { bar.advance(); });
    }
    print_partial_failures(b.failures, b.files.size());
    if (o->json) {
      const auto j = infer::tags_json(o->model, tagger.embedder().info().name, b.files, b.failures);
      std::printf("%s\n", j.dump(2).c_str());
    } else if (o->csv) {
      std::fputs(infer::tags_table(b.files, ',').c_str(), stdout);
    } else {
      for (std::size_t i = 0; i < b.files.size(); ++i) {
        if (i > 0) std::printf("\n");
        print_table(b.files[i]);
      }
    }
    std::fflush(stdout);
    if (!o->plot.empty() && !b.files.empty()) report::write_svg_file(o->plot, plot(b.files));
    if (!b.failures.empty() && b.files.empty()) throw all_failed_error(b.failures, "tag", "inputs");
    check(b.failures.empty(), "tag: {} of {} inputs failed", b.failures.size(),
          b.failures.size() + b.files.size());
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("tag", 42, tutti::cli::setup);
