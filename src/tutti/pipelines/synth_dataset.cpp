#include "tutti/pipelines/synth_dataset.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/bag_io.h"
#include "tutti/embed/embed_files.h"
#include "tutti/synth/instruments.h"
#include "tutti/synth/noise_dataset.h"

namespace tutti::tag {

namespace fs = std::filesystem;

namespace {

fs::path temp_dir_next_to(const fs::path& target, const char* tag) {
  std::string tmpl = target.string() + tag + "-XXXXXX";
  check(::mkdtemp(tmpl.data()) != nullptr, "synth: cannot create a temporary folder next to {}: {}",
        target.string(), std::strerror(errno));
  return fs::path(tmpl);
}

class Staging {
 public:
  explicit Staging(fs::path p) : path_(std::move(p)) {}
  ~Staging() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

}  // namespace

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
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
  Staging stage(temp_dir_next_to(target, ".tmp"));
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

  // Publish (replacing an old folder only now).
  if (fs::exists(target, ec)) {
    const fs::path old = temp_dir_next_to(target, ".old");
    fs::remove(old);
    fs::rename(target, old);
    try {
      fs::rename(dir, target);
    } catch (...) {
      fs::rename(old, target, ec);
      throw;
    }
    fs::remove_all(old, ec);
  } else {
    fs::rename(dir, target);
  }
  out.synth.out_dir = target;
  return out;
}

}  // namespace tutti::tag
