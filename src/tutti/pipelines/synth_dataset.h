// `tutti synth --embed EMBEDDER`: a rendered synth folder plus its bag dataset, written as one
// atomic folder (the synth stage and the embed stage joined; neither depends on the other).
//
//   tutti::synth::SynthConfig cfg;  cfg.n_clips = 500;
//   tutti::pipelines::SynthEmbedOptions o;  o.embedder = "logmel-stats";
//   auto s = tutti::pipelines::write_embedded_synth_dataset(cfg, "data/synth", o);
//   // data/synth/{audio/, labels.csv, strong.csv, instances.csv, synth.json, dataset.npz}
//
// dataset.npz (data/bag_io.h): X [N, K, 128] uint8 from the embedder, keys = WAV file names
// ("synth_000017.wav"), classes = the OpenMIC-20 list, Y_true / Y_mask from labels.csv (mandolin,
// ukulele and classes the soundfont lacks stay unknown), Y_instance [N, K, C] from instances.csv
// (class c active in instance t when it sounds for >= SynthConfig::instance_fraction of it).
// synth.json gains "dataset": {"file", "embedder", "clips", "instances_per_clip"}.
//
// Atomicity: the embedder is built first (an unknown name or missing weights fail before any
// rendering); the folder is rendered and embedded inside DIR.tmp-XXXXXX next to DIR and renamed
// into place only when dataset.npz is written; any failure removes it. An existing DIR is a
// UsageError unless overwrite (then replaced only at the end).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "tutti/embed/embedder.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/synth_config.h"

namespace tutti::pipelines {

struct SynthEmbedOptions {
  std::string embedder = "logmel-stats";
  embed::EmbedderOptions embedder_options;
  int threads = 0;          // files embedded at once (0 = all cores)
  bool noise_only = false;  // synth::write_noise_dataset instead of music
  // Called with the finished staging folder just before it is published (tests inject failures).
  std::function<void(const std::filesystem::path&)> before_publish;
};

struct SynthEmbedSummary {
  synth::SynthSummary synth;
  std::int64_t clips = 0, max_instances = 0;
  std::int64_t active_instance_cells = 0;  // ones in Y_instance
  std::int64_t dropped_instance_rows = 0;  // instances.csv rows beyond a clip's instance count
  std::vector<std::string> warnings;       // from the embed stage
};

SynthEmbedSummary write_embedded_synth_dataset(
    const synth::SynthConfig& cfg, const std::filesystem::path& out_dir,
    const SynthEmbedOptions& options, bool overwrite = false,
    const std::function<void(int)>& on_clip_rendered = {},
    const std::function<void(std::size_t done, std::size_t total)>& on_file_embedded = {});

}  // namespace tutti::pipelines
