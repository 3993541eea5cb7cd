// The AudioSet ontology and the taxonomies that map its 527 classes onto tutti's class lists.
//
// AudioSet labels are indices 0..526 into class_labels_indices.csv (index, mid, display_name); the
// ontology (ontology.json: id, name, child_ids) arranges those mids, plus abstract nodes, in a
// DAG. A taxonomy maps each of its classes to a set of AudioSet class indices, chosen by ontology
// node name and, by default, all descendants of that node (child_ids, transitively).
//
//   auto onto = tutti::data::AudioSetOntology::load("../shared/data/audioset");
//   auto tax = tutti::data::resolve_taxonomy("openmic20", onto);
//   // tax.classes[8] == "guitar"; tax.source_names[8] lists the AudioSet classes it covers.
//
// Named taxonomies (taxonomy_names()):
//   "audioset"  : the 527 AudioSet classes themselves (display names), identity mapping.
//   "openmic20" : the 20 OpenMIC-2018 instruments (class-map.json order), see taxonomy.cpp.
// Both carry the "Music" and "Singing" subtrees as their music filter (AudioSetOptions.music_only).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tutti::data {

struct AudioSetClass {
  int index = 0;             // row of class_labels_indices.csv, the label value in records
  std::string mid;           // e.g. "/m/0342h"
  std::string display_name;  // e.g. "Guitar"
};

struct OntologyNode {
  std::string id;  // mid
  std::string name;
  std::vector<std::string> child_ids;
};

class AudioSetOntology {
 public:
  // Reads <dir>/class_labels_indices.csv and <dir>/ontology.json.
  static AudioSetOntology load(const std::filesystem::path& metadata_dir);
  // Throws tutti::Error naming the file when a file is missing or malformed: a CSV row without 3
  // fields or with an index out of order, duplicate ids or names in the ontology, a child id that
  // is not a node.
  static AudioSetOntology load(const std::filesystem::path& class_labels_csv,
                               const std::filesystem::path& ontology_json);
  // From already-parsed parts (tests); same checks.
  AudioSetOntology(std::vector<AudioSetClass> classes, std::vector<OntologyNode> nodes,
                   std::string what = "ontology");

  const std::vector<AudioSetClass>& classes() const { return classes_; }
  int num_classes() const { return static_cast<int>(classes_.size()); }
  const std::vector<OntologyNode>& nodes() const { return nodes_; }

  // The ontology node with this exact name; throws tutti::Error naming it when there is none.
  const OntologyNode& node_by_name(std::string_view name) const;
  // Index into nodes() of this id, or -1.
  int node_index(std::string_view id) const;
  // Class index (label value) of this mid, or -1 when the node is not one of the 527 classes.
  int class_index(std::string_view mid) const;

  // Node ids of `id` and all its descendants (child_ids, transitively; each once, sorted).
  std::vector<std::string> subtree_ids(std::string_view id) const;
  // The class indices (sorted, unique) of the named nodes, each with its descendants when
  // with_descendants. Throws tutti::Error for an unknown name.
  std::vector<int> class_indices(std::span<const std::string> names,
                                 bool with_descendants = true) const;

 private:
  std::vector<AudioSetClass> classes_;
  std::vector<OntologyNode> nodes_;
  std::unordered_map<std::string, int> node_by_id_, node_by_name_, class_by_mid_;
};

// One AudioSet source of a taxonomy class: an ontology node name, with or without descendants.
struct TaxonomySource {
  std::string name;
  bool with_descendants = true;
};

struct TaxonomyClassSpec {
  std::string name;
  std::vector<TaxonomySource> sources;
};

// A taxonomy by ontology names, before it is resolved against an ontology.
struct TaxonomySpec {
  std::string name;
  bool identity = false;  // "audioset": every AudioSet class is its own class
  std::vector<TaxonomyClassSpec> classes;
  std::vector<std::string> filter_roots;  // music filter: these nodes and their descendants
};

// Names accepted by taxonomy_spec() / resolve_taxonomy(): {"audioset", "openmic20"}.
std::vector<std::string> taxonomy_names();
// Throws tutti::UsageError listing the known names for an unknown one.
const TaxonomySpec& taxonomy_spec(std::string_view name);

// A taxonomy resolved against an ontology.
struct Taxonomy {
  std::string name;
  std::vector<std::string> classes;                    // [C] target class names, in order
  std::vector<std::vector<int>> sources;               // [C] AudioSet class indices, sorted
  std::vector<std::vector<std::string>> source_names;  // [C] their display names (for docs)
  std::vector<std::vector<int>> targets;               // [527] target classes of each index
  std::vector<std::uint8_t> in_filter;                 // [527] 1 = in the music filter subtrees

  int num_classes() const { return static_cast<int>(classes.size()); }
};

Taxonomy resolve_taxonomy(const TaxonomySpec& spec, const AudioSetOntology& ontology);
Taxonomy resolve_taxonomy(std::string_view name, const AudioSetOntology& ontology);

// Parses class_labels_indices.csv text (header "index,mid,display_name"; display names may be
// double-quoted and contain commas, "" escapes a quote). `what` names the file in errors.
std::vector<AudioSetClass> parse_class_labels_csv(std::string_view text, std::string_view what);

}  // namespace tutti::data
