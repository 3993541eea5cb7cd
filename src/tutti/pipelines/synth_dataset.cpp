#include "tutti/pipelines/synth_dataset.h"

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/embed/embed_files.h"
#include "tutti/synth/instruments.h"
#include "tutti/synth/noise_dataset.h"

namespace tutti::pipelines {

namespace fs = std::filesystem;

SynthEmbedSummary write_embedded_synth_dataset(
    const synth::SynthConfig& cfg, const fs::path& out_dir, const SynthEmbedOptions& options,
    bool overwrite, const std::function<void(int)>& on_clip_rendered,
    const std::function<void(std::size_t, std::size_t)>& on_file_embedded) {
  cfg.validate();
  check<UsageError>(!out_dir.empty(), "synth: output folder path is empty");
  std::error_code ec;
  check<UsageError>(overwrite || !fs::exists(out_dir, ec), "synth: output folder {} already exists",
                    out_dir.string());
  check<UsageError>(options.threads >= 0, "synth: --threads {} must be >= 0", options.threads);
  // Fails before any rendering for an unknown name or missing weights.
  const auto embedder = embed::make_embedder(options.embedder, options.embedder_options);

  const fs::path target = fs::absolute(out_dir);
  core::StagingDir stage(target);
  const fs::path dir = stage.path() / "synth";

  SynthEmbedSummary out;
  out.synth = options.noise_only ? synth::write_noise_dataset(cfg, dir, false, on_clip_rendered)
                                 : synth::write_synth_dataset(cfg, dir, false, on_clip_rendered);

  embed::EmbedOptions eo;
  eo.threads = options.threads;
  const std::vector<fs::path> inputs = {dir / "audio"};
  auto r = embed::embed_paths(inputs, *embedder, eo, on_file_embedded);
  if (!r.failures.empty())
    fail("synth: embedding {} of the rendered clips failed; first: {}", r.failures.size(),
         r.failures.front().message);
  std::vector<std::string> classes;
  for (const auto& c : synth::instrument_classes()) classes.push_back(c.name);
  embed::attach_weak_labels(r, dir / "labels.csv", classes);
  const auto truth = embed::attach_instance_truth(r.dataset, dir / "instances.csv", r.paths);
  check(truth.unmatched_rows == 0, "synth: {} rows of instances.csv match no rendered clip",
        truth.unmatched_rows);
  data::save_bags(dir / "dataset.npz", r.dataset);

  out.clips = r.dataset.size();
  out.max_instances = r.dataset.max_instances;
  for (auto v : r.dataset.y_instance) out.active_instance_cells += v;
  out.dropped_instance_rows = truth.dropped_beyond_clip;
  out.warnings = r.warnings;

  // Provenance in synth.json.
  core::Json meta = core::read_json_file(dir / "synth.json");
  meta["dataset"] = {{"file", "dataset.npz"},
                     {"embedder", embedder->info().name},
                     {"embedder_source", embedder->info().source},
                     {"clips", out.clips},
                     {"instances_per_clip", out.max_instances},
                     {"dropped_instance_rows", out.dropped_instance_rows}};
  core::write_json_file(dir / "synth.json", meta);

  if (options.before_publish) options.before_publish(dir);

  stage.publish(overwrite, dir);  // replaces an old folder only now
  out.synth.out_dir = target;
  return out;
}

}  // namespace tutti::pipelines
