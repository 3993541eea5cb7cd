// The dataset writer: layout, CSVs, WAV files, determinism across runs and thread counts,
// atomic output, noise at the requested SNR, and soundfonts that lack classes.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include "synth_test_util.h"
#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/mix.h"

namespace ts = tutti::synth;
namespace fs = std::filesystem;

namespace {

const std::string kTim = "/usr/share/sounds/sf2/TimGM6mb.sf2";

#define REQUIRE_TIM() \
  if (!fs::exists(kTim)) GTEST_SKIP() << "not installed: " << kTim

ts::SynthConfig small_config() {
  ts::SynthConfig c;
  c.soundfont = kTim;
  c.n_clips = 5;
  c.duration_s = 2.0;
  c.seed = 17;
  c.clips_per_synth = 2;
  c.threads = 1;
  return c;
}

bool leftovers(const fs::path& parent) {
  for (const auto& e : fs::directory_iterator(parent))
    if (e.path().filename().string().find(".tmp-") != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(SynthDataset, WritesAudioWeakStrongAndInstanceLabels) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  auto cfg = small_config();
  cfg.n_clips = 4;
  int callbacks = 0;
  const auto sum = ts::write_synth_dataset(cfg, tmp / "out", false, [&](int) { ++callbacks; });
  EXPECT_EQ(callbacks, 4);
  EXPECT_EQ(sum.n_clips, 4);
  EXPECT_FALSE(leftovers(tmp.path()));
  const fs::path out = tmp / "out";
  for (const char* f : {"labels.csv", "strong.csv", "instances.csv", "synth.json"})
    EXPECT_TRUE(fs::exists(out / f)) << f;

  const auto weak = tutti::testing::csv_cells(out / "labels.csv");
  ASSERT_EQ(weak[0], (std::vector<std::string>{"file", "instrument", "relevance"}));
  EXPECT_EQ(weak.size(), 1u + 4u * 18u);  // 18 known classes per clip; mandolin/ukulele absent
  std::map<std::string, std::set<std::string>> present;
  for (std::size_t i = 1; i < weak.size(); ++i) {
    ASSERT_EQ(weak[i].size(), 3u);
    EXPECT_NE(weak[i][1], "mandolin");
    EXPECT_NE(weak[i][1], "ukulele");
    ASSERT_TRUE(weak[i][2] == "0" || weak[i][2] == "1");
    if (weak[i][2] == "1") present[weak[i][0]].insert(weak[i][1]);
  }
  const auto strong = tutti::testing::csv_cells(out / "strong.csv");
  ASSERT_EQ(strong[0], (std::vector<std::string>{"file", "instrument", "onset_s", "offset_s"}));
  std::map<std::string, std::set<std::string>> strong_classes;
  for (std::size_t i = 1; i < strong.size(); ++i) {
    ASSERT_EQ(strong[i].size(), 4u);
    const double on = std::stod(strong[i][2]), off = std::stod(strong[i][3]);
    EXPECT_GE(on, 0.0);
    EXPECT_LT(on, off);
    EXPECT_LE(off, cfg.duration_s + 1e-9);
    strong_classes[strong[i][0]].insert(strong[i][1]);
  }
  EXPECT_EQ(present, strong_classes) << "weak positives are exactly the strongly labeled classes";

  const auto inst = tutti::testing::csv_cells(out / "instances.csv");
  ASSERT_EQ(inst[0],
            (std::vector<std::string>{"file", "instance", "onset_s", "offset_s", "instrument"}));
  for (std::size_t i = 1; i < inst.size(); ++i) {
    EXPECT_TRUE(present[inst[i][0]].count(inst[i][4])) << "active instance of an absent class";
    EXPECT_LT(std::stoi(inst[i][1]), 2);  // 2 s -> 2 instances of 0.96 s
  }

  for (int i = 0; i < 4; ++i) {
    const auto name = ts::clip_name(i) + ".wav";
    EXPECT_FALSE(present[name].empty());
    SF_INFO info{};
    SNDFILE* f = sf_open((out / "audio" / name).c_str(), SFM_READ, &info);
    ASSERT_NE(f, nullptr) << name;
    EXPECT_EQ(info.samplerate, 44100);
    EXPECT_EQ(info.channels, 2);
    EXPECT_EQ(info.frames, 88200);
    EXPECT_EQ(info.format, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    std::vector<float> x(static_cast<std::size_t>(info.frames * info.channels));
    sf_readf_float(f, x.data(), info.frames);
    sf_close(f);
    const double peak_db = 20 * std::log10(ts::peak_abs(x));
    EXPECT_GE(peak_db, cfg.min_peak_dbfs - 0.01);
    EXPECT_LE(peak_db, cfg.max_peak_dbfs + 0.01);
  }
  const auto meta = tutti::core::read_json_file(out / "synth.json");
  EXPECT_EQ(meta["config"]["seed"], 17);
  EXPECT_EQ(meta["soundfont"]["classes"].size(), 20u);
}

TEST(SynthDataset, SameSeedSameBytesWhateverTheThreadCount) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  auto cfg = small_config();
  cfg.sample_format = ts::SampleFormat::kFloat;  // float WAV: no PEAK chunk timestamp
  ts::write_synth_dataset(cfg, tmp / "t1");
  cfg.threads = 3;
  ts::write_synth_dataset(cfg, tmp / "t3");
  cfg.threads = 2;
  ts::write_synth_dataset(cfg, tmp / "t2");
  const auto h1 = tutti::testing::file_md5s(tmp / "t1");
  EXPECT_EQ(h1.size(), 5u + 3u);
  EXPECT_EQ(h1, tutti::testing::file_md5s(tmp / "t3"));
  EXPECT_EQ(h1, tutti::testing::file_md5s(tmp / "t2"));
  cfg.seed = 18;
  ts::write_synth_dataset(cfg, tmp / "other");
  const auto h_other = tutti::testing::file_md5s(tmp / "other");
  for (int i = 0; i < 5; ++i) {
    const auto f = "audio/" + ts::clip_name(i) + ".wav";
    EXPECT_NE(h1.at(f), h_other.at(f)) << f;
  }
}

TEST(SynthDataset, ExistingFolderFailuresAndOverwrite) {
  REQUIRE_TIM();
  tutti::testing::TempDir tmp;
  auto cfg = small_config();
  cfg.n_clips = 3;
  const fs::path out = tmp / "out";
  ts::write_synth_dataset(cfg, out);
  EXPECT_THROW(ts::write_synth_dataset(cfg, out), tutti::UsageError);

  // A failure in the middle (here: the progress callback) leaves the old folder untouched and
  // no temporary folder behind.
  const auto before = tutti::testing::file_md5s(out);
  cfg.seed = 99;
  EXPECT_THROW(ts::write_synth_dataset(cfg, out, true,
                                       [](int done) {
                                         if (done == 2) throw tutti::Error("interrupted");
                                       }),
               tutti::Error);
  EXPECT_EQ(tutti::testing::file_md5s(out), before);
  EXPECT_FALSE(leftovers(tmp.path()));
  // A fresh target that fails leaves nothing at all.
  EXPECT_THROW(ts::write_synth_dataset(cfg, tmp / "fresh", false,
                                       [](int) { throw tutti::Error("interrupted"); }),
               tutti::Error);
  EXPECT_FALSE(fs::exists(tmp / "fresh"));
  EXPECT_FALSE(leftovers(tmp.path()));

  // Overwrite replaces the folder once the new one is complete.
  ts::write_synth_dataset(cfg, out, true);
  EXPECT_NE(tutti::testing::file_md5s(out), before);
  EXPECT_FALSE(leftovers(tmp.path()));

  // A missing soundfont: an error naming it, and no output.
  cfg.soundfont = (tmp / "missing.sf2").string();
  try {
    ts::write_synth_dataset(cfg, tmp / "nofont");
    ADD_FAILURE() << "no error";
  } catch (const tutti::Error& e) {
    EXPECT_NE(std::string(e.what()).find(cfg.soundfont), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp / "nofont"));
  EXPECT_FALSE(leftovers(tmp.path()));

  cfg = small_config();
  cfg.n_clips = 0;
  EXPECT_THROW(ts::write_synth_dataset(cfg, tmp / "zero"), tutti::UsageError);
  EXPECT_FALSE(fs::exists(tmp / "zero"));
}

TEST(SynthDataset, FontLackingClassesMarksThemUnknown) {
  tutti::testing::TempDir tmp;
  auto cfg = small_config();
  cfg.soundfont = tutti::testing::fixture("synth/tiny.sf2").string();
  cfg.n_clips = 3;
  cfg.channels = 1;
  cfg.sample_rate_hz = 22050;
  cfg.instruments_per_clip = {1, 1, 1, 1, 1};  // 5 > the 4 classes this font plays
  EXPECT_THROW(ts::write_synth_dataset(cfg, tmp / "too_many"), tutti::UsageError);
  EXPECT_FALSE(fs::exists(tmp / "too_many"));
  cfg.instruments_per_clip = {1, 1};
  const auto sum = ts::write_synth_dataset(cfg, tmp / "out");
  EXPECT_EQ(sum.soundfont.problems().size(), 20u);
  const auto weak = tutti::testing::csv_cells(tmp / "out" / "labels.csv");
  EXPECT_EQ(weak.size(), 1u + 3u * 4u);  // piano, guitar, violin, drums known per clip
  const std::set<std::string> playable = {"piano", "guitar", "violin", "drums"};
  for (std::size_t i = 1; i < weak.size(); ++i)
    EXPECT_TRUE(playable.count(weak[i][1])) << weak[i][1];
  SF_INFO info{};
  SNDFILE* f = sf_open((tmp / "out" / "audio" / "synth_000000.wav").c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(info.channels, 1);
  EXPECT_EQ(info.samplerate, 22050);
  EXPECT_EQ(info.frames, 44100);
  sf_close(f);
}

TEST(SynthDataset, ClipNoiseHasTheRequestedSnrAndSameSeedGivesSameAudio) {
  REQUIRE_TIM();
  auto cfg = small_config();
  cfg.duration_s = 4.0;
  ts::FluidSynthesizer synth(kTim, cfg.sample_rate_hz, cfg.reverb);
  const auto pal = synth.check().palette();
  int checked = 0;
  for (int i = 0; i < 4; ++i) {
    ts::FluidSynthesizer fresh_a(kTim, cfg.sample_rate_hz, cfg.reverb);
    ts::FluidSynthesizer fresh_b(kTim, cfg.sample_rate_hz, cfg.reverb);
    cfg.noise_snr_db.reset();
    const auto clean = ts::synthesize_clip(fresh_a, cfg, pal, i);
    EXPECT_EQ(ts::synthesize_clip(fresh_b, cfg, pal, i).audio, clean.audio);
    for (double snr : {30.0, 15.0}) {
      for (auto color : {ts::NoiseColor::kWhite, ts::NoiseColor::kPink}) {
        ts::FluidSynthesizer fresh_c(kTim, cfg.sample_rate_hz, cfg.reverb);
        cfg.noise_snr_db = snr;
        cfg.noise_color = color;
        const auto noisy = ts::synthesize_clip(fresh_c, cfg, pal, i);
        ASSERT_EQ(noisy.audio.size(), clean.audio.size());
        EXPECT_EQ(noisy.strong, clean.strong);
        const double peak = ts::peak_abs(noisy.audio);
        if (peak >= 0.999 - 1e-6) continue;  // rescaled to avoid clipping: SNR kept, diff not
        std::vector<float> diff(clean.audio.size());
        for (std::size_t t = 0; t < diff.size(); ++t) diff[t] = noisy.audio[t] - clean.audio[t];
        const double measured =
            10 * std::log10(ts::mean_square(clean.audio) / ts::mean_square(diff));
        EXPECT_NEAR(measured, snr, 0.01) << "clip " << i << " " << ts::noise_color_name(color);
        ++checked;
      }
    }
  }
  EXPECT_GE(checked, 8);
}
