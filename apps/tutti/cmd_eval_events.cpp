// `tutti eval-events REFERENCE ESTIMATE [--resolution S] [--json]`: scores a list of detected
// sound events against a strongly labelled reference with sed_eval's segment-based metrics
// (docs/embed.md, "## eval-events"). A verb of its own rather than a `localize` option: it needs
// neither a model nor audio, only two event lists (`tutti tag --format events`, DCASE files).
#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <set>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/eval/event_list.h"

namespace tutti::cli {
namespace {

std::string num(double x) { return std::isfinite(x) ? fmt::format("{:.4f}", x) : "n/a"; }

void setup(CLI::App& root) {
  struct Opts {
    std::string reference, estimate;
    double resolution = 1.0;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  auto* cmd = root.add_subcommand(
      "eval-events",
      "Segment-based F1 and error rate of detected events against reference events (sed_eval)");
  cmd->add_option("REFERENCE", o->reference,
                  "Reference events (TSV/CSV: filename, onset, offset, event_label)")
      ->required();
  cmd->add_option("ESTIMATE", o->estimate, "Estimated events, same format")->required();
  cmd->add_option("--resolution", o->resolution, "Segment length in seconds")
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "One JSON object on stdout");
  cmd->callback([o] {
    check<UsageError>(std::isfinite(o->resolution) && o->resolution > 0,
                      "eval-events: --resolution {} must be > 0 seconds", o->resolution);
    const auto ref = eval::read_event_list(o->reference);
    const auto est = eval::read_event_list(o->estimate);
    // An estimate for a file the reference does not know is scored (every segment an
    // insertion), but it usually means mismatched file names: say so.
    const std::set<std::string> ref_files(ref.files.begin(), ref.files.end());
    std::size_t unknown = 0;
    for (const auto& f : est.files) unknown += ref_files.count(f) == 0;
    if (unknown > 0)
      std::fprintf(stderr, "tutti: warning: %zu of %zu files of %s are not in %s\n", unknown,
                   est.files.size(), o->estimate.c_str(), o->reference.c_str());
    const auto r = eval::segment_based_metrics(ref.events, est.events, {}, o->resolution);
    if (o->json) {
      core::Json j = r.to_json();
      j["reference"] = o->reference;
      j["estimate"] = o->estimate;
      j["files"] = ref.files.size();
      std::printf("%s\n", j.dump(2).c_str());
      return;
    }
    std::printf("segment-based metrics, %g s segments, %zu reference files\n", o->resolution,
                ref.files.size());
    std::printf("  overall (micro): F1 %s  precision %s  recall %s\n", num(r.f1).c_str(),
                num(r.precision).c_str(), num(r.recall).c_str());
    std::printf("  error rate %s = substitutions %s + deletions %s + insertions %s\n",
                num(r.error_rate).c_str(), num(r.substitution_rate).c_str(),
                num(r.deletion_rate).c_str(), num(r.insertion_rate).c_str());
    const auto& cw = r.class_wise;
    std::printf("  class-wise (macro): F1 %s  precision %s  recall %s  error rate %s\n",
                num(cw.f1).c_str(), num(cw.precision).c_str(), num(cw.recall).c_str(),
                num(cw.error_rate).c_str());
    // sed_eval divides by N_ref + eps: a class the reference never has would show ~1e16.
    auto er = [](const eval::SegmentClassMetrics& m) {
      return m.counts.tp + m.counts.fn == 0 ? std::string("no ref") : num(m.error_rate);
    };
    std::size_t width = 5;
    for (const auto& m : r.per_class) width = std::max(width, m.label.size());
    std::printf("  %-*s  %6s  %9s  %6s  %10s  %5s  %5s  %5s\n", static_cast<int>(width), "class",
                "F1", "precision", "recall", "error rate", "tp", "fp", "fn");
    for (const auto& m : r.per_class)
      std::printf("  %-*s  %6s  %9s  %6s  %10s  %5lld  %5lld  %5lld\n", static_cast<int>(width),
                  m.label.c_str(), num(m.f1).c_str(), num(m.precision).c_str(),
                  num(m.recall).c_str(), er(m).c_str(), static_cast<long long>(m.counts.tp),
                  static_cast<long long>(m.counts.fp), static_cast<long long>(m.counts.fn));
  });
}

}  // namespace
}  // namespace tutti::cli

TUTTI_COMMAND("eval-events", 36, tutti::cli::setup);
