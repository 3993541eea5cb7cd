// Tagger with small trained models: windows over long files, agreement with predicting the
// windows by hand, RF/FC behaviour, embedder refusal, batch failures and determinism.
#include <gtest/gtest.h>

#include "audio/audio_test_util.h"
#include "tag_test_util.h"
#include "tutti/infer/predictor.h"
#include "tutti/infer/tag.h"

namespace tutti::infer {
namespace {

using testing::TempDir;
using testing::error_of;
using testing::tag_models;
namespace fs = std::filesystem;

// Predicts the file's windows directly (whole-file embedding, windows cut by hand) to compare
// with the streaming tagger.
infer::Predictions by_hand(const fs::path& model, const fs::path& audio,
                           std::vector<Window>& windows) {
  const auto p = infer::Predictor::load(model);
  const auto emb = embed::make_embedder("logmel-stats");
  const auto f = embed::embed_file(*emb, audio);
  const std::int64_t W = p.info().features.max_instances, D = 128;
  windows = plan_windows(static_cast<std::int64_t>(f.count), W,
                         p.info().spec.name == "fc");
  auto ds = data::BagDataset::zeros(static_cast<std::int64_t>(windows.size()), W, D,
                                    p.info().classes, data::FeatureType::kUint8);
  for (std::size_t j = 0; j < windows.size(); ++j) {
    std::copy_n(f.features.begin() + windows[j].first * D, windows[j].count * D,
                ds.x_u8.begin() + static_cast<std::ptrdiff_t>(j * W * D));
    ds.n_instances[j] = static_cast<std::int32_t>(windows[j].count);
    ds.keys[j] = std::to_string(j);
  }
  return p.predict(ds, p.info().spec.name != "rf", 1);
}

TEST(Tagger, LongFileIsTaggedPerWindowOverItsWholeLength) {
  const auto& m = tag_models();
  TempDir tmp;
  const auto wav = tmp / "long.wav";
  testing::write_test_wav(wav, 180.0, 7);  // 3 minutes
  const Tagger tagger(m.models.at("att"));
  EXPECT_EQ(tagger.embedder().info().name, "logmel-stats");
  const FileTags t = tagger.tag_file(wav);
  // 180 s at 16 kHz: 1 + (2880000 - 400) // 160 = 17998 frames -> 187 examples; W = 3.
  EXPECT_EQ(t.n_instances, 187);
  EXPECT_EQ(t.window_instances, 3);
  ASSERT_EQ(t.num_windows(), 63);  // 62 full + 1 of one instance
  EXPECT_EQ(t.window_first.back(), 186);
  EXPECT_EQ(t.window_count.back(), 1);
  ASSERT_EQ(t.window_of.size(), 187u);
  EXPECT_EQ(t.window_of[185], 61);
  EXPECT_EQ(t.window_of[186], 62);
  EXPECT_EQ(t.instance_prob.size(), 187u * 2);
  EXPECT_EQ(t.attention.size(), 187u * 2);
  EXPECT_NEAR(t.duration_s, 180.0, 1e-3);
  EXPECT_NO_THROW(t.validate());

  std::vector<Window> w;
  const auto p = by_hand(m.models.at("att"), wav, w);
  ASSERT_EQ(w.size(), 63u);
  for (std::size_t j = 0; j < w.size(); ++j)
    for (int c = 0; c < 2; ++c)
      EXPECT_NEAR(t.window_scores[j * 2 + c], p.score(static_cast<std::int64_t>(j), c), 1e-6);
  for (int c = 0; c < 2; ++c) {
    float mx = 0;
    for (std::size_t j = 0; j < w.size(); ++j)
      mx = std::max(mx, p.score(static_cast<std::int64_t>(j), c));
    EXPECT_NEAR(t.probability[c], mx, 1e-6);
    EXPECT_EQ(t.present[c], t.probability[c] >= t.thresholds[c] ? 1 : 0);
  }
  // Instance 100 is instance 1 of window 33.
  for (int c = 0; c < 2; ++c) {
    EXPECT_NEAR(t.instance_prob[100 * 2 + c], p.instance[(33 * 3 + 1) * 2 + c], 1e-6);
    EXPECT_NEAR(t.attention[100 * 2 + c], p.attention[(33 * 3 + 1) * 2 + c], 1e-6);
  }
  EXPECT_EQ(t.segments.size(), segments_from_timeline(t).size());
}

TEST(Tagger, FixedLengthModelReusesTheLastFullWindow) {
  const auto& m = tag_models();
  TempDir tmp;
  testing::write_test_wav(tmp / "a.wav", 11.0, 9);  // 11 instances, W = 3
  const Tagger tagger(m.models.at("fc"));
  const FileTags t = tagger.tag_file(tmp / "a.wav");
  EXPECT_EQ(t.n_instances, 11);
  EXPECT_EQ(t.window_first, (std::vector<std::int64_t>{0, 3, 6, 8}));
  EXPECT_EQ(t.window_count, (std::vector<std::int64_t>{3, 3, 3, 3}));
  EXPECT_EQ(t.window_of, (std::vector<std::int32_t>{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3}));
  std::vector<Window> w;
  const auto p = by_hand(m.models.at("fc"), tmp / "a.wav", w);
  for (std::size_t j = 0; j < 4; ++j)
    EXPECT_NEAR(t.window_scores[j * 2], p.score(static_cast<std::int64_t>(j), 0), 1e-6);
  // Shorter than one window (2 s: 1 + 31600 // 160 = 198 frames, 2 instances): an error.
  testing::write_test_wav(tmp / "b.wav", 2.0, 9);
  const std::string e = error_of([&] { tagger.tag_file(tmp / "b.wav"); });
  EXPECT_NE(e.find("b.wav: 2 instances"), std::string::npos) << e;
}

TEST(Tagger, RandomForestHasWindowScoresOnly) {
  const auto& m = tag_models();
  TempDir tmp;
  testing::write_test_wav(tmp / "a.wav", 8.0, 10);
  const Tagger tagger(m.models.at("rf"));
  const FileTags t = tagger.tag_file(tmp / "a.wav");
  EXPECT_EQ(t.n_instances, 8);
  EXPECT_TRUE(t.instance_prob.empty());
  EXPECT_TRUE(t.attention.empty());
  EXPECT_EQ(t.num_windows(), 3);
  const auto j = t.to_json();
  EXPECT_FALSE(j["timeline"][0].contains("prob"));
  EXPECT_TRUE(j["timeline"][0].contains("window_prob"));
}

TEST(Tagger, ShortFileGivesANoteNotAnError) {
  const auto& m = tag_models();
  TempDir tmp;
  testing::write_test_wav(tmp / "s.wav", 0.5, 1);
  const FileTags t = Tagger(m.models.at("att")).tag_file(tmp / "s.wav");
  EXPECT_EQ(t.n_instances, 0);
  EXPECT_EQ(t.present, (std::vector<std::uint8_t>{0, 0}));
  EXPECT_NE(t.note.find("shorter than one 0.96 s example"), std::string::npos);
  EXPECT_TRUE(t.segments.empty());
}

// A few damaged MP3 frames are skipped by the decoder; the tags stand and the note says so (what
// `tutti embed` prints as a warning).
TEST(Tagger, DamagedFramesAreNamedInTheNote) {
  const auto& m = tag_models();
  TempDir tmp;
  const auto bytes = testing::write_mp3(tmp / "good.mp3");
  if (bytes.empty()) GTEST_SKIP() << "libsndfile cannot write MP3";
  const Tagger tagger(m.models.at("att"));
  EXPECT_EQ(tagger.tag_file(tmp / "good.mp3").note, "");
  testing::write_bytes(tmp / "scratched.mp3", testing::damage_frames(bytes, 20));
  ::testing::internal::CaptureStderr();
  const FileTags t = tagger.tag_file(tmp / "scratched.mp3");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  EXPECT_GE(t.n_instances, 2);  // 3 s less the skipped frames
  EXPECT_NE(t.note.find(" damaged audio frames were skipped"), std::string::npos) << t.note;
  EXPECT_EQ(t.to_json()["note"], t.note);
}

TEST(Tagger, RefusesEmbedderMismatches) {
  const auto& m = tag_models();
  auto usage = [](auto f) {
    try {
      f();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
    ADD_FAILURE() << "expected UsageError";
    return std::string();
  };
  TagOptions o;
  o.embedder = "logmel-stats";
  const std::string e1 = usage([&] { Tagger(m.models.at("att-vggish"), o); });
  EXPECT_NE(e1.find("was trained on 'vggish' features"), std::string::npos) << e1;
  EXPECT_NE(e1.find("'logmel-stats'"), std::string::npos) << e1;
  o.embedder = "mfcc";
  EXPECT_NE(usage([&] { Tagger(m.models.at("att"), o); }).find("'mfcc'"), std::string::npos);
  const std::string e3 = usage([&] { Tagger(m.models.at("att-openl3")); });
  EXPECT_NE(e3.find("'openl3' features, which tutti cannot compute"), std::string::npos) << e3;
  // The model's own embedder named explicitly is fine.
  o.embedder = "logmel-stats";
  EXPECT_NO_THROW(Tagger(m.models.at("att"), o));
}

TEST(TagFiles, FailuresNamedOthersGoOnSameResultsWhateverTheThreads) {
  const auto& m = tag_models();
  TempDir tmp;
  for (int i = 0; i < 5; ++i)
    testing::write_test_wav(tmp / "d" / fmt::format("f{}.wav", i), 2.0 + 1.5 * i, 20 + i);
  {
    std::ofstream(tmp / "d" / "broken.wav") << "not audio";
  }
  const Tagger tagger(m.models.at("att"));
  const std::vector<fs::path> in = {tmp / "d"};
  const TagBatch a = tag_files(tagger, in, 1);
  const TagBatch b = tag_files(tagger, in, 3);
  ASSERT_EQ(a.failures.size(), 1u);
  EXPECT_NE(a.failures[0].message.find("broken.wav"), std::string::npos);
  ASSERT_EQ(a.files.size(), 5u);
  ASSERT_EQ(b.files.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(a.files[i].file, fmt::format("f{}.wav", i));
    EXPECT_EQ(a.files[i].file, b.files[i].file);
    EXPECT_EQ(a.files[i].window_scores, b.files[i].window_scores);
    EXPECT_EQ(a.files[i].instance_prob, b.files[i].instance_prob);
  }
}

}  // namespace
}  // namespace tutti::infer
