// The AudioSet ontology, class list parsing and the named taxonomies.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "test_util.h"
#include "tutti/core/error.h"
#include "tutti/core/json.h"
#include "tutti/data/taxonomy.h"

namespace tutti::data {
namespace {

using tutti::testing::fixture;
using tutti::testing::TempDir;

using tutti::testing::error_of;

TEST(ClassLabelsCsv, QuotedNamesWithCommasAndEscapes) {
  const auto c = parse_class_labels_csv(
      "index,mid,display_name\r\n0,/m/a,\"Speech\"\r\n1,/m/b,\"Male speech, man speaking\"\n"
      "2,/m/c,Plain\n3,/m/d,\"Say \"\"hi\"\"\"\n\n",
      "x.csv");
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[1].display_name, "Male speech, man speaking");
  EXPECT_EQ(c[1].mid, "/m/b");
  EXPECT_EQ(c[2].display_name, "Plain");
  EXPECT_EQ(c[3].display_name, "Say \"hi\"");
  EXPECT_EQ(c[3].index, 3);
}

TEST(ClassLabelsCsv, Errors) {
  EXPECT_NE(error_of([] { parse_class_labels_csv("", "x.csv"); }).find("x.csv: empty file"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_class_labels_csv("a,b,c\n", "x.csv"); }).find("expected header"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_class_labels_csv("index,mid,display_name\n1,/m/a,A\n", "x.csv");
            }).find("x.csv: line 2: index 1 out of order (expected 0)"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_class_labels_csv("index,mid,display_name\n0,/m/a,A, B\n", "x.csv");
            }).find("expected 3 fields"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_class_labels_csv("index,mid,display_name\n0,/m/a,\"A\n", "x.csv");
            }).find("unterminated"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_class_labels_csv("index,mid,display_name\nx,/m/a,A\n", "x.csv");
            }).find("'x' is not an integer"),
            std::string::npos);
}

// A small hand-made ontology: Music > Instrument > {Guitar > {Bass guitar, Electric guitar >
// Jazz guitar}, Drum}; Noise > {Hiss}; "Twang" is a child of both Guitar and Noise (a DAG, as in
// AudioSet). Classes are every node except the abstract "Instrument".
AudioSetOntology mini() {
  std::vector<OntologyNode> n{
      {"/m/music", "Music", {"/m/instr"}},
      {"/m/instr", "Instrument", {"/m/guitar", "/m/drum"}},
      {"/m/guitar", "Guitar", {"/m/bass", "/m/egtr", "/m/twang"}},
      {"/m/bass", "Bass guitar", {}},
      {"/m/egtr", "Electric guitar", {"/m/jazz"}},
      {"/m/jazz", "Jazz guitar", {}},
      {"/m/drum", "Drum", {}},
      {"/m/noise", "Noise", {"/m/hiss", "/m/twang"}},
      {"/m/hiss", "Hiss", {}},
      {"/m/twang", "Twang", {}},
  };
  std::vector<AudioSetClass> c;
  for (const char* mid : {"/m/music", "/m/guitar", "/m/bass", "/m/egtr", "/m/jazz", "/m/drum",
                          "/m/noise", "/m/hiss", "/m/twang"}) {
    const auto it = std::find_if(n.begin(), n.end(), [&](auto& x) { return x.id == mid; });
    c.push_back({static_cast<int>(c.size()), mid, it->name});
  }
  return AudioSetOntology(std::move(c), std::move(n), "mini");
}

TEST(Ontology, SubtreesAndClassIndices) {
  const auto o = mini();
  EXPECT_EQ(o.num_classes(), 9);
  EXPECT_EQ(o.class_index("/m/instr"), -1);  // abstract node, not a class
  EXPECT_EQ(o.class_index("/m/jazz"), 4);
  EXPECT_EQ(o.subtree_ids("/m/guitar"),
            (std::vector<std::string>{"/m/bass", "/m/egtr", "/m/guitar", "/m/jazz", "/m/twang"}));
  const std::vector<std::string> guitar{"Guitar"}, music{"Music"}, noise_drum{"Noise", "Drum"};
  EXPECT_EQ(o.class_indices(guitar), (std::vector<int>{1, 2, 3, 4, 8}));
  EXPECT_EQ(o.class_indices(guitar, false), (std::vector<int>{1}));
  // Through the abstract node; every node reached once.
  EXPECT_EQ(o.class_indices(music), (std::vector<int>{0, 1, 2, 3, 4, 5, 8}));
  EXPECT_EQ(o.class_indices(noise_drum), (std::vector<int>{5, 6, 7, 8}));
  const std::vector<std::string> bad{"Kazoo"};
  EXPECT_NE(error_of([&] { o.class_indices(bad); }).find("no node named 'Kazoo'"),
            std::string::npos);
}

TEST(Ontology, InvalidOntologiesAreRejected) {
  std::vector<AudioSetClass> c{{0, "/m/a", "A"}};
  EXPECT_NE(error_of([&] {
              AudioSetOntology(c, {{"/m/a", "A", {}}, {"/m/b", "A", {}}}, "o.json");
            }).find("o.json: duplicate node name 'A'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              AudioSetOntology(c, {{"/m/a", "A", {}}, {"/m/a", "B", {}}}, "o.json");
            }).find("duplicate node id '/m/a'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              AudioSetOntology(c, {{"/m/a", "A", {"/m/zz"}}}, "o.json");
            }).find("unknown child id '/m/zz'"),
            std::string::npos);
  // A cycle in a broken file does not hang the subtree walk.
  AudioSetOntology cyc(c, {{"/m/a", "A", {"/m/b"}}, {"/m/b", "B", {"/m/a"}}}, "o.json");
  EXPECT_EQ(cyc.subtree_ids("/m/b").size(), 2u);
}

TEST(Taxonomy, CustomSpecWithAndWithoutDescendants) {
  const auto o = mini();
  // "guitar" = the Guitar node alone + Electric guitar with descendants; not Bass guitar.
  TaxonomySpec spec{"test",
                    false,
                    {{"guitar", {{"Guitar", false}, {"Electric guitar", true}}},
                     {"bass", {{"Bass guitar", true}}},
                     {"noise", {{"Noise", true}}}},
                    {"Music"}};
  const auto t = resolve_taxonomy(spec, o);
  EXPECT_EQ(t.classes, (std::vector<std::string>{"guitar", "bass", "noise"}));
  EXPECT_EQ(t.sources[0], (std::vector<int>{1, 3, 4}));
  EXPECT_EQ(t.source_names[0],
            (std::vector<std::string>{"Guitar", "Electric guitar", "Jazz guitar"}));
  EXPECT_EQ(t.sources[1], (std::vector<int>{2}));
  EXPECT_EQ(t.sources[2], (std::vector<int>{6, 7, 8}));
  EXPECT_EQ(t.targets[8], (std::vector<int>{2}));  // Twang: under Guitar, but only noise maps it
  EXPECT_TRUE(t.targets[0].empty());
  EXPECT_EQ(t.in_filter, (std::vector<std::uint8_t>{1, 1, 1, 1, 1, 1, 0, 0, 1}));
  spec.classes.push_back({"empty", {{"Hiss", false}}});
  spec.classes.back().sources[0].name = "Instrument";  // abstract: maps to no class
  EXPECT_NE(error_of([&] { resolve_taxonomy(spec, o); }).find("'empty' maps to no AudioSet class"),
            std::string::npos);
}

TEST(Taxonomy, UnknownNameIsUsageError) {
  EXPECT_THROW(taxonomy_spec("openmic21"), UsageError);
  try {
    taxonomy_spec("openmic21");
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("known: audioset, openmic20"), std::string::npos);
  }
  EXPECT_EQ(taxonomy_names(), (std::vector<std::string>{"audioset", "openmic20"}));
}

// ---- against the real metadata (fixture copy: class list + ontology id/name/child_ids) -------

TEST(Taxonomy, OpenMic20MatchesPythonReference) {
  const auto o = AudioSetOntology::load(fixture("audioset/meta"));
  ASSERT_EQ(o.num_classes(), 527);
  EXPECT_EQ(o.classes()[1].display_name, "Male speech, man speaking");
  const auto t = resolve_taxonomy("openmic20", o);
  const auto e = core::read_json_file(fixture("audioset/expected.json"));
  EXPECT_EQ(t.classes, e["openmic20_classes"].get<std::vector<std::string>>());
  for (int c = 0; c < t.num_classes(); ++c) {
    EXPECT_EQ(t.sources[c], e["openmic20_sources"][t.classes[c]].get<std::vector<int>>())
        << t.classes[c];
  }
  // Guitar: the node itself, not its child Bass guitar (that is "bass").
  const auto& g = t.source_names[8];
  EXPECT_NE(std::find(g.begin(), g.end(), "Guitar"), g.end());
  EXPECT_NE(std::find(g.begin(), g.end(), "Electric guitar"), g.end());
  EXPECT_EQ(std::find(g.begin(), g.end(), "Bass guitar"), g.end());
  const auto& b = t.source_names[2];
  EXPECT_EQ(b, (std::vector<std::string>{"Bass guitar", "Double bass"}));
}

TEST(Taxonomy, OpenMic20ClassOrderIsTheClassMap) {
  TUTTI_REQUIRE_SHARED("openmic/class-map.json");
  const auto m = core::read_json_file(tutti::testing::shared_data_dir() / "openmic/class-map.json");
  const auto t = resolve_taxonomy("openmic20", AudioSetOntology::load(fixture("audioset/meta")));
  ASSERT_EQ(m.size(), 20u);
  for (const auto& [name, index] : m.items()) EXPECT_EQ(t.classes[index.get<int>()], name);
}

TEST(Taxonomy, AudioSetIsIdentity) {
  const auto o = AudioSetOntology::load(fixture("audioset/meta"));
  const auto t = resolve_taxonomy("audioset", o);
  ASSERT_EQ(t.num_classes(), 527);
  EXPECT_EQ(t.classes[0], "Speech");
  EXPECT_EQ(t.classes[526], o.classes()[526].display_name);
  for (int i = 0; i < 527; ++i) EXPECT_EQ(t.targets[i], (std::vector<int>{i}));
  EXPECT_EQ(t.in_filter[0], 0);  // Speech is not music
}

TEST(Ontology, LoadErrorsNameTheFile) {
  TempDir tmp;
  auto msg = error_of([&] { AudioSetOntology::load(tmp.path()); });
  EXPECT_NE(msg.find("class_labels_indices.csv: class list not found"), std::string::npos) << msg;
  std::ofstream(tmp / "class_labels_indices.csv") << "index,mid,display_name\n0,/m/a,A\n";
  msg = error_of([&] { AudioSetOntology::load(tmp.path()); });
  EXPECT_NE(msg.find("ontology.json: ontology not found"), std::string::npos) << msg;
  std::ofstream(tmp / "ontology.json") << "[{\"id\": \"/m/a\"}]";
  msg = error_of([&] { AudioSetOntology::load(tmp.path()); });
  EXPECT_NE(msg.find("ontology.json: node 0 lacks"), std::string::npos) << msg;
  std::ofstream(tmp / "ontology.json") << "[{\"id\": ";
  msg = error_of([&] { AudioSetOntology::load(tmp.path()); });
  EXPECT_NE(msg.find("ontology.json"), std::string::npos) << msg;
  std::ofstream(tmp / "ontology.json") << "[{\"id\": \"/m/a\", \"name\": \"A\"}]";
  EXPECT_EQ(AudioSetOntology::load(tmp.path()).nodes().size(), 1u);
}

}  // namespace
}  // namespace tutti::data
