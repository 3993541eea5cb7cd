#include "tutti/synth/noise_dataset.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>

#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/synth/instruments.h"
#include "tutti/synth/mix.h"
#include "tutti/synth/rng.h"

namespace tutti::synth {

namespace fs = std::filesystem;

namespace {

// Removes a staging folder unless released.
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
  void release() { path_.clear(); }

 private:
  fs::path path_;
};

}  // namespace

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
  if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
  std::string tmpl = target.string() + ".tmp-XXXXXX";
  check(::mkdtemp(tmpl.data()) != nullptr,
        "synth: cannot create a temporary folder next to {}: {}", target.string(),
        std::strerror(errno));
  Staging tmp{fs::path(tmpl)};
  fs::create_directories(tmp.path() / "audio");

  const auto frames = static_cast<std::int64_t>(std::llround(cfg.duration_s * cfg.sample_rate_hz));
  const auto& cs = instrument_classes();
  std::string weak_csv = "file,instrument,relevance\n";
  for (int i = 0; i < cfg.n_clips; ++i) {
    auto audio = make_noise(frames, cfg.channels, cfg.noise_color, clip_seed(cfg.seed, i, 1));
    Rng rng(clip_seed(cfg.seed, i, 2));
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

  if (fs::exists(target, ec)) {
    std::string old_t = target.string() + ".old-XXXXXX";
    check(::mkdtemp(old_t.data()) != nullptr, "synth: cannot create a temporary folder next to {}",
          target.string());
    const fs::path old(old_t);
    fs::remove(old);
    fs::rename(target, old);
    try {
      fs::rename(tmp.path(), target);
    } catch (...) {
      fs::rename(old, target, ec);
      throw;
    }
    fs::remove_all(old, ec);
  } else {
    fs::rename(tmp.path(), target);
  }
  tmp.release();
  SynthSummary s;
  s.out_dir = target;
  s.n_clips = cfg.n_clips;
  s.audio_s = cfg.n_clips * cfg.duration_s;
  s.clips_per_class.assign(cs.size(), 0);
  s.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  return s;
}

}  // namespace tutti::synth
