// The composer: determinism, ranges, channels, roles, grid, and how often instruments come and go.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "tutti/core/error.h"
#include "tutti/data/taxonomy.h"
#include "tutti/synth/composer.h"
#include "tutti/synth/dataset.h"
#include "tutti/synth/labels.h"

namespace ts = tutti::synth;

namespace {

bool same_notes(const ts::Score& a, const ts::Score& b) {
  if (a.parts.size() != b.parts.size()) return false;
  for (std::size_t i = 0; i < a.parts.size(); ++i) {
    const auto& x = a.parts[i];
    const auto& y = b.parts[i];
    if (x.class_index != y.class_index || x.program != y.program || x.channel != y.channel ||
        x.notes.size() != y.notes.size())
      return false;
    for (std::size_t j = 0; j < x.notes.size(); ++j)
      if (x.notes[j].on != y.notes[j].on || x.notes[j].off != y.notes[j].off ||
          x.notes[j].key != y.notes[j].key || x.notes[j].velocity != y.notes[j].velocity)
        return false;
  }
  return a.tempo_bpm == b.tempo_bpm && a.peak_dbfs == b.peak_dbfs;
}

}  // namespace

TEST(SynthInstruments, ClassListIsOpenMic20WithGeneralMidiPrograms) {
  const auto& cs = ts::instrument_classes();
  ASSERT_EQ(cs.size(), 20u);
  // Same names and order as the data module's openmic20 taxonomy (class-map.json order).
  const auto& spec = tutti::data::taxonomy_spec("openmic20");
  ASSERT_EQ(spec.classes.size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(cs[i].name, spec.classes[i].name) << i;
  EXPECT_FALSE(cs[*ts::instrument_index("mandolin")].synthesizable);
  EXPECT_FALSE(cs[*ts::instrument_index("ukulele")].synthesizable);
  EXPECT_EQ(ts::synthesizable_classes().size(), 18u);
  EXPECT_EQ(cs[*ts::instrument_index("accordion")].gm_programs, (std::vector<int>{22, 24}));
  EXPECT_EQ(cs[*ts::instrument_index("bass")].gm_programs,
            (std::vector<int>{33, 34, 35, 36, 37, 38}));
  EXPECT_EQ(cs[*ts::instrument_index("synthesizer")].gm_programs.size(), 16u);
  EXPECT_EQ(cs[*ts::instrument_index("violin")].gm_programs, (std::vector<int>{41, 111}));
  EXPECT_EQ(ts::class_of_gm_program(106), *ts::instrument_index("banjo"));
  EXPECT_EQ(ts::class_of_gm_program(7), -1);  // harpsichord: no class
  const auto& drums = cs[*ts::instrument_index("drums")];
  EXPECT_TRUE(drums.percussion);
  EXPECT_EQ(std::set<int>(drums.percussion_keys.begin(), drums.percussion_keys.end()),
            (std::set<int>{35, 36, 37, 38, 40, 41, 43, 45, 47, 48, 50}));
  const auto& cym = cs[*ts::instrument_index("cymbals")];
  EXPECT_EQ(std::set<int>(cym.percussion_keys.begin(), cym.percussion_keys.end()),
            (std::set<int>{42, 44, 46, 49, 51, 52, 55, 57, 59}));
  for (const auto& c : cs) {
    if (!c.synthesizable) continue;
    EXPECT_LT(c.low_key, c.high_key) << c.name;
    EXPECT_GE(c.high_key - c.low_key, 19) << c.name;  // room for melodies and voicings
    EXPECT_FALSE(c.roles.empty()) << c.name;
  }
}

TEST(SynthComposer, SameSeedSameScoreDifferentSeedDifferentScore) {
  ts::ComposerOptions opt;
  const auto pal = ts::Palette::general_midi();
  for (std::uint64_t seed : {0ULL, 1ULL, 12345ULL}) {
    EXPECT_TRUE(same_notes(ts::compose(opt, pal, seed), ts::compose(opt, pal, seed)));
    EXPECT_FALSE(same_notes(ts::compose(opt, pal, seed), ts::compose(opt, pal, seed + 1)));
  }
}

TEST(SynthComposer, PartsArePlausibleOver200Pieces) {
  ts::ComposerOptions opt;
  const auto pal = ts::Palette::general_midi();
  const auto& cs = ts::instrument_classes();
  std::map<int, int> count_hist;
  int bass_downbeats = 0, bass_downbeats_on_root = 0;
  std::set<int> velocities;
  for (int i = 0; i < 200; ++i) {
    const auto s = ts::compose(opt, pal, ts::clip_seed(99, i));
    ASSERT_GE(s.parts.size(), 1u);
    ASSERT_LE(s.parts.size(), 5u);
    ++count_hist[static_cast<int>(s.parts.size())];
    EXPECT_GE(s.tempo_bpm, 80);
    EXPECT_LE(s.tempo_bpm, 160);
    std::set<int> classes;
    std::set<int> melodic_channels;
    const std::vector<int> major = {0, 2, 4, 5, 7, 9, 11}, minor = {0, 2, 3, 5, 7, 8, 10};
    const auto& steps = s.minor ? minor : major;
    for (const auto& p : s.parts) {
      const auto& c = cs[static_cast<std::size_t>(p.class_index)];
      EXPECT_TRUE(c.synthesizable);
      EXPECT_TRUE(classes.insert(p.class_index).second) << "class twice in one clip";
      ASSERT_FALSE(p.notes.empty());
      if (c.percussion) {
        EXPECT_EQ(p.channel, ts::kPercussionChannel);
        EXPECT_EQ(p.bank, 128);
      } else {
        EXPECT_NE(p.channel, ts::kPercussionChannel);
        EXPECT_TRUE(melodic_channels.insert(p.channel).second);
        EXPECT_EQ(p.bank, 0);
        EXPECT_NE(std::find(c.gm_programs.begin(), c.gm_programs.end(), p.program + 1),
                  c.gm_programs.end());
      }
      std::map<int, std::int64_t> last_off;  // per key
      for (std::size_t j = 0; j < p.notes.size(); ++j) {
        const auto& n = p.notes[j];
        velocities.insert(n.velocity);
        EXPECT_EQ(n.on % ts::kBlockSamples, 0);
        EXPECT_EQ(n.off % ts::kBlockSamples == 0 || n.off == s.num_samples, true);
        EXPECT_GE(n.on, 0);
        EXPECT_LT(n.on, n.off);
        EXPECT_LE(n.off, s.num_samples);
        if (j > 0) {
          EXPECT_LE(p.notes[j - 1].on, n.on);
        }
        if (c.percussion) {
          EXPECT_NE(std::find(c.percussion_keys.begin(), c.percussion_keys.end(), n.key),
                    c.percussion_keys.end())
              << c.name << " key " << n.key;
        } else {
          EXPECT_GE(n.key, c.low_key) << c.name;
          EXPECT_LE(n.key, c.high_key) << c.name;
        }
        auto it = last_off.find(n.key);
        if (it != last_off.end()) {
          EXPECT_LE(it->second, n.on) << "same key overlaps itself";
        }
        last_off[n.key] = n.off;
        if (p.role == ts::Role::kMelody) {
          // Melodies are single lines in the piece's key.
          if (j > 0) {
            EXPECT_LE(p.notes[j - 1].off, n.on);
          }
          const int pc = ((n.key - s.tonic) % 12 + 12) % 12;
          EXPECT_NE(std::find(steps.begin(), steps.end(), pc), steps.end());
        }
        if (p.role == ts::Role::kBass) {
          const double t = static_cast<double>(n.on) / s.sample_rate_hz;
          const double bars = (t - s.first_bar_s) / s.bar_s;
          const double frac = bars - std::floor(bars);
          if (frac * s.bar_s < 0.002 || (1 - frac) * s.bar_s < 0.002) {
            const int bar = static_cast<int>(std::lround(bars));
            ++bass_downbeats;
            bass_downbeats_on_root += (n.key % 12) == s.bar_roots[static_cast<std::size_t>(bar)];
          }
        }
      }
    }
  }
  // Every count 1..5 occurs, roughly as weighted (0.15, 0.25, 0.25, 0.2, 0.15).
  for (int k = 1; k <= 5; ++k) {
    EXPECT_GT(count_hist[k], 10) << k;
    EXPECT_LT(count_hist[k], 80) << k;
  }
  ASSERT_GT(bass_downbeats, 50);
  EXPECT_EQ(bass_downbeats_on_root, bass_downbeats) << "bass lines start each bar on the root";
  EXPECT_GT(velocities.size(), 40u) << "velocities vary";
}

TEST(SynthComposer, AboutHalfOfTheInstrumentsPlayOnlyPartOfTheClip) {
  auto partial_fraction = [](double p) {
    ts::ComposerOptions opt;
    opt.partial_probability = p;
    const auto pal = ts::Palette::general_midi();
    int pairs = 0, partial = 0;
    for (int i = 0; i < 200; ++i) {
      const auto s = ts::compose(opt, pal, ts::clip_seed(5, i));
      const auto strong = ts::strong_labels(s, 0.1, 0.5);
      for (const auto& part : s.parts) {
        ++pairs;
        partial += ts::active_fraction(strong, part.class_index, s.duration_s()) < 0.9;
      }
    }
    return static_cast<double>(partial) / pairs;
  };
  const double f = partial_fraction(0.5);
  std::printf("partial fraction at p=0.5: %.3f\n", f);
  EXPECT_GT(f, 0.4);
  EXPECT_LT(f, 0.6);
  EXPECT_LT(partial_fraction(0.0), 0.05);
  EXPECT_GT(partial_fraction(1.0), 0.9);
}

TEST(SynthComposer, AnyRoleLetsMelodicInstrumentsPlayEveryRole) {
  // Over 300 pieces: the fraction of melodic parts playing a role that is not their class's, the
  // roles flute (melody only) plays, and whether every key stays in its class's range.
  struct Tally {
    double outside = 0;
    std::set<ts::Role> flute_roles;
    bool in_range = true, percussion_own_role = true;
  };
  auto tally = [](double p) {
    ts::ComposerOptions opt;
    opt.any_role_probability = p;
    const auto pal = ts::Palette::general_midi();
    const auto& cs = ts::instrument_classes();
    Tally t;
    int melodic = 0, outside = 0;
    for (int i = 0; i < 300; ++i) {
      for (const auto& part : ts::compose(opt, pal, ts::clip_seed(9, i)).parts) {
        const auto& cls = cs[static_cast<std::size_t>(part.class_index)];
        const bool own =
            std::find(cls.roles.begin(), cls.roles.end(), part.role) != cls.roles.end();
        if (cls.percussion) {
          t.percussion_own_role &= own;
          continue;
        }
        ++melodic;
        outside += !own;
        if (cls.name == "flute") t.flute_roles.insert(part.role);
        for (const auto& n : part.notes)
          t.in_range &= n.key >= cls.low_key && n.key <= cls.high_key;
      }
    }
    t.outside = static_cast<double>(outside) / melodic;
    return t;
  };
  // Expected fraction outside at p = 1: the mean over the 16 melodic GM classes of
  // 1 - (own roles) / 4 = 1 - 22 / 64 = 0.656; at p = 0.5 half of that.
  const auto none = tally(0), half = tally(0.5), all = tally(1);
  EXPECT_EQ(none.outside, 0.0);
  EXPECT_EQ(none.flute_roles, std::set<ts::Role>{ts::Role::kMelody});
  EXPECT_NEAR(half.outside, 0.328, 0.06);
  EXPECT_NEAR(all.outside, 0.656, 0.06);
  EXPECT_EQ(all.flute_roles, (std::set<ts::Role>{ts::Role::kBass, ts::Role::kChords,
                                                 ts::Role::kArpeggio, ts::Role::kMelody}));
  for (const auto* t : {&none, &half, &all}) {
    EXPECT_TRUE(t->in_range);
    EXPECT_TRUE(t->percussion_own_role);
  }
}

TEST(SynthComposer, RhythmSectionJoinsTheDrawnInstruments) {
  // Over 400 pieces: the fraction that has drums, cymbals and bass, each playing its own role.
  const auto pal = ts::Palette::general_midi();
  const int drums = *ts::instrument_index("drums"), cymbals = *ts::instrument_index("cymbals"),
            bass = *ts::instrument_index("bass");
  auto fractions = [&](double p) {
    ts::ComposerOptions opt;
    opt.rhythm_section_probability = p;
    int with_drums = 0, with_all = 0;
    for (int i = 0; i < 400; ++i) {
      std::set<int> present;
      for (const auto& part : ts::compose(opt, pal, ts::clip_seed(11, i)).parts) {
        present.insert(part.class_index);
        if (part.class_index == bass) EXPECT_EQ(part.role, ts::Role::kBass);
      }
      with_drums += present.count(drums) > 0;
      with_all += present.count(drums) && present.count(cymbals) && present.count(bass);
    }
    return std::pair{with_drums / 400.0, with_all / 400.0};
  };
  // Without it drums come in with the drawn instruments: E[k] / 18 playable classes = 2.95 / 18;
  // with it, all three come in a fraction p of the clips (plus the 0.3 % that draw all three).
  const auto [none_drums, none_all] = fractions(0);
  EXPECT_NEAR(none_drums, 0.164, 0.056);
  EXPECT_LT(none_all, 0.02);
  EXPECT_NEAR(fractions(0.5).second, 0.502, 0.075);
  EXPECT_EQ(fractions(1).second, 1.0);
}

TEST(SynthComposer, RespectsClassesAndPalette) {
  ts::ComposerOptions opt;
  opt.classes = {*ts::instrument_index("piano"), *ts::instrument_index("drums")};
  opt.instruments_per_clip = {0, 0, 1};  // asks for 3, only 2 allowed: capped
  auto pal = ts::Palette::general_midi();
  for (int i = 0; i < 20; ++i) {
    const auto s = ts::compose(opt, pal, static_cast<std::uint64_t>(i));
    ASSERT_EQ(s.parts.size(), 2u);
  }
  // A palette without piano programs: only drums remain.
  pal.programs[static_cast<std::size_t>(*ts::instrument_index("piano"))].clear();
  EXPECT_EQ(ts::compose(opt, pal, 3).parts.size(), 1u);
  // Nothing playable: a usage error naming the problem.
  pal.percussion_keys[static_cast<std::size_t>(*ts::instrument_index("drums"))].clear();
  EXPECT_THROW(ts::compose(opt, pal, 3), tutti::UsageError);
}
