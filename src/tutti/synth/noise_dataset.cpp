#include "tutti/synth/noise_dataset.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <fstream>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/core/random.h"
#include "tutti/synth/instruments.h"
#include "tutti/synth/mix.h"

namespace tutti::synth {

namespace fs = std::filesystem;

std::string noise_clip_name(int clip_index) { return fmt::format("noise_{:06d}", clip_index); }

SynthSummary write_noise_dataset(const SynthConfig& cfg, const fs::path& out_dir, bool overwrite,
                                 const std::function<void(int)>& on_clip_done) {
  const auto t_start = std::chrono::steady_clock::now();
  cfg.validate();
  check<UsageError>(!out_dir.empty(), "synth: output folder path is empty");
  std::error_code ec;
  check<UsageError>(overwrite || !fs::exists(out_dir, ec), "synth: output folder {} already exists",
                    out_dir.string());
  const fs::path target = fs::absolute(out_dir);
  core::StagingDir tmp(target);
  fs::create_directories(tmp.path() / "audio");

  const auto frames = static_cast<std::int64_t>(std::llround(cfg.duration_s * cfg.sample_rate_hz));
  const auto& cs = instrument_classes();
  std::string weak_csv = "file,instrument,relevance\n";
  for (int i = 0; i < cfg.n_clips; ++i) {
    auto audio = make_noise(frames, cfg.channels, cfg.noise_color, clip_seed(cfg.seed, i, 1));
    core::Rng rng(clip_seed(cfg.seed, i, 2));
    const double peak_db = rng.uniform(cfg.min_peak_dbfs, cfg.max_peak_dbfs);
    normalize_peak(audio, std::pow(10.0, peak_db / 20.0));
    const std::string file = noise_clip_name(i) + ".wav";
    write_wav(tmp.path() / "audio" / file, audio, cfg.channels, cfg.sample_rate_hz,
              cfg.sample_format);
    for (const auto& c : cs) weak_csv += fmt::format("{},{},0\n", file, c.name);
    if (on_clip_done) on_clip_done(i + 1);
  }
  auto write_text = [&](const char* name, const std::string& text) {
    std::ofstream f(tmp.path() / name, std::ios::binary);
    f << text;
    f.close();
    check(static_cast<bool>(f), "synth: cannot write {}", (tmp.path() / name).string());
  };
  write_text("labels.csv", weak_csv);
  write_text("strong.csv", "file,instrument,onset_s,offset_s\n");
  write_text("instances.csv", "file,instance,onset_s,offset_s,instrument\n");
  core::Json meta;
  meta["tutti_version"] = TUTTI_VERSION;
  meta["noise_only"] = true;
  meta["config"] = to_json(cfg);
  meta["summary"] = {{"n_clips", cfg.n_clips}, {"pairs", 0}, {"partial_pairs", 0}};
  meta["files"] = {{"audio", "audio/<file>"},
                   {"labels", "labels.csv"},
                   {"strong", "strong.csv"},
                   {"instances", "instances.csv"}};
  write_text("synth.json", meta.dump(2) + "\n");

  tmp.publish(overwrite);
  SynthSummary s;
  s.out_dir = target;
  s.n_clips = cfg.n_clips;
  s.audio_s = cfg.n_clips * cfg.duration_s;
  s.clips_per_class.assign(cs.size(), 0);
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return s;
}

}  // namespace tutti::synth
