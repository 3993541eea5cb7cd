#include "tutti/data/taxonomy.h"

#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"
#include "tutti/core/json.h"
#include "tutti/data/csv.h"

namespace tutti::data {

namespace fs = std::filesystem;

// The one CSV reader (csv.h): quoting, CRLF, a byte-order mark and UTF-8 checks as everywhere.
std::vector<AudioSetClass> parse_class_labels_csv(std::string_view text, std::string_view what) {
  const std::string name(what);
  const auto rows = parse_csv(text, name);
  check(!rows.empty(), "{}: empty file (expected header 'index,mid,display_name')", what);
  const auto& head = rows.front().fields;
  check(head.size() == 3 && head[0] == "index" && head[1] == "mid" && head[2] == "display_name",
        "{}: line {}: expected header 'index,mid,display_name', got '{}'", what, rows.front().line,
        fmt::join(head, ","));
  std::vector<AudioSetClass> classes;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    auto f = rows[r].fields;
    const auto line_no = rows[r].line;
    check(f.size() == 3, "{}: line {}: expected 3 fields (index,mid,display_name), got {}", what,
          line_no, f.size());
    int index = -1;
    const auto [ptr, ec] = std::from_chars(f[0].data(), f[0].data() + f[0].size(), index);
    check(ec == std::errc{} && ptr == f[0].data() + f[0].size(),
          "{}: line {}: index '{}' is not an integer", what, line_no, f[0]);
    check(index == static_cast<int>(classes.size()),
          "{}: line {}: index {} out of order (expected {})", what, line_no, index, classes.size());
    check(!f[1].empty(), "{}: line {}: empty mid", what, line_no);
    classes.push_back({index, std::move(f[1]), std::move(f[2])});
  }
  check(!classes.empty(), "{}: no classes", what);
  return classes;
}

AudioSetOntology::AudioSetOntology(std::vector<AudioSetClass> classes,
                                   std::vector<OntologyNode> nodes, std::string what)
    : classes_(std::move(classes)), nodes_(std::move(nodes)) {
  for (std::size_t i = 0; i < classes_.size(); ++i) {
    check(class_by_mid_.emplace(classes_[i].mid, static_cast<int>(i)).second,
          "{}: duplicate class mid '{}'", what, classes_[i].mid);
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    check(node_by_id_.emplace(n.id, static_cast<int>(i)).second, "{}: duplicate node id '{}'", what,
          n.id);
    // Names select taxonomy sources, so they must be unambiguous.
    check(node_by_name_.emplace(n.name, static_cast<int>(i)).second,
          "{}: duplicate node name '{}' (ids {} and {})", what, n.name,
          node_by_name_.count(n.name) ? nodes_[node_by_name_.at(n.name)].id : "", n.id);
  }
  for (const auto& n : nodes_) {
    for (const auto& c : n.child_ids) {
      check(node_by_id_.count(c) != 0, "{}: node '{}' ({}) has unknown child id '{}'", what, n.name,
            n.id, c);
    }
  }
}

AudioSetOntology AudioSetOntology::load(const fs::path& metadata_dir) {
  return load(metadata_dir / "class_labels_indices.csv", metadata_dir / "ontology.json");
}

AudioSetOntology AudioSetOntology::load(const fs::path& class_labels_csv,
                                        const fs::path& ontology_json) {
  check(fs::is_regular_file(class_labels_csv), "audioset: {}: class list not found",
        class_labels_csv.string());
  check(fs::is_regular_file(ontology_json), "audioset: {}: ontology not found",
        ontology_json.string());
  auto classes =
      parse_class_labels_csv(core::read_file_text(class_labels_csv), class_labels_csv.string());
  const auto j = core::read_json_file(ontology_json);
  const std::string what = ontology_json.string();
  check(j.is_array(), "{}: expected a JSON array of nodes", what);
  std::vector<OntologyNode> nodes;
  nodes.reserve(j.size());
  for (std::size_t i = 0; i < j.size(); ++i) {
    const auto& n = j[i];
    check(n.is_object() && n.contains("id") && n["id"].is_string() && n.contains("name") &&
              n["name"].is_string(),
          "{}: node {} lacks a string 'id' or 'name'", what, i);
    OntologyNode node{n["id"].get<std::string>(), n["name"].get<std::string>(), {}};
    if (n.contains("child_ids")) {
      check(n["child_ids"].is_array(), "{}: node '{}': 'child_ids' is not an array", what, node.id);
      for (const auto& c : n["child_ids"]) {
        check(c.is_string(), "{}: node '{}': child id is not a string", what, node.id);
        node.child_ids.push_back(c.get<std::string>());
      }
    }
    nodes.push_back(std::move(node));
  }
  return AudioSetOntology(std::move(classes), std::move(nodes), what);
}

const OntologyNode& AudioSetOntology::node_by_name(std::string_view name) const {
  const auto it = node_by_name_.find(std::string(name));
  check(it != node_by_name_.end(), "audioset ontology: no node named '{}'", name);
  return nodes_[it->second];
}

int AudioSetOntology::node_index(std::string_view id) const {
  const auto it = node_by_id_.find(std::string(id));
  return it == node_by_id_.end() ? -1 : it->second;
}

int AudioSetOntology::class_index(std::string_view mid) const {
  const auto it = class_by_mid_.find(std::string(mid));
  return it == class_by_mid_.end() ? -1 : it->second;
}

std::vector<std::string> AudioSetOntology::subtree_ids(std::string_view id) const {
  const int root = node_index(id);
  check(root >= 0, "audioset ontology: no node with id '{}'", id);
  std::vector<std::uint8_t> seen(nodes_.size(), 0);
  std::vector<int> stack{root};
  std::vector<std::string> out;
  while (!stack.empty()) {  // the visited set also guards against cycles in a bad file
    const int i = stack.back();
    stack.pop_back();
    if (seen[i]) continue;
    seen[i] = 1;
    out.push_back(nodes_[i].id);
    for (const auto& c : nodes_[i].child_ids) stack.push_back(node_index(c));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<int> AudioSetOntology::class_indices(std::span<const std::string> names,
                                                 bool with_descendants) const {
  std::vector<int> out;
  for (const auto& name : names) {
    const auto& node = node_by_name(name);
    if (with_descendants) {
      for (const auto& id : subtree_ids(node.id)) {
        if (const int c = class_index(id); c >= 0) out.push_back(c);
      }
    } else if (const int c = class_index(node.id); c >= 0) {
      out.push_back(c);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// ---- named taxonomies ----------------------------------------------------------------------

namespace {

std::vector<TaxonomySpec> make_specs() {
  const std::vector<std::string> music_filter{"Music", "Singing"};
  TaxonomySpec audioset{"audioset", true, {}, music_filter};
  // OpenMIC-2018's 20 instruments in class-map.json order. Each takes the named AudioSet nodes
  // with all their ontology descendants, except that "guitar" takes the Guitar node itself and
  // its guitar-technique/type children but not its child "Bass guitar" (that is OpenMIC's bass).
  auto d = [](std::string n) { return TaxonomySource{std::move(n), true}; };
  TaxonomySpec openmic{"openmic20",
                       false,
                       {
                           {"accordion", {d("Accordion")}},
                           {"banjo", {d("Banjo")}},
                           {"bass", {d("Bass guitar"), d("Double bass")}},
                           {"cello", {d("Cello")}},
                           {"clarinet", {d("Clarinet")}},
                           {"cymbals", {d("Cymbal")}},
                           {"drums", {d("Drum kit"), d("Drum")}},
                           {"flute", {d("Flute")}},
                           {"guitar",
                            {{"Guitar", false},
                             d("Electric guitar"),
                             d("Acoustic guitar"),
                             d("Steel guitar, slide guitar"),
                             d("Tapping (guitar technique)"),
                             d("Strum")}},
                           {"mallet_percussion", {d("Mallet percussion")}},
                           {"mandolin", {d("Mandolin")}},
                           {"organ", {d("Organ")}},
                           {"piano", {d("Piano")}},
                           {"saxophone", {d("Saxophone")}},
                           {"synthesizer", {d("Synthesizer")}},
                           {"trombone", {d("Trombone")}},
                           {"trumpet", {d("Trumpet")}},
                           {"ukulele", {d("Ukulele")}},
                           {"violin", {d("Violin, fiddle")}},
                           {"voice", {d("Singing")}},
                       },
                       music_filter};
  return {std::move(audioset), std::move(openmic)};
}

const std::vector<TaxonomySpec>& specs() {
  static const std::vector<TaxonomySpec> kSpecs = make_specs();
  return kSpecs;
}

}  // namespace

std::vector<std::string> taxonomy_names() {
  std::vector<std::string> out;
  for (const auto& s : specs()) out.push_back(s.name);
  return out;
}

const TaxonomySpec& taxonomy_spec(std::string_view name) {
  for (const auto& s : specs()) {
    if (s.name == name) return s;
  }
  fail<UsageError>("taxonomy: unknown taxonomy '{}' (known: {})", name,
                   fmt::join(taxonomy_names(), ", "));
}

Taxonomy resolve_taxonomy(const TaxonomySpec& spec, const AudioSetOntology& ontology) {
  const int n = ontology.num_classes();
  Taxonomy t;
  t.name = spec.name;
  if (spec.identity) {
    for (const auto& c : ontology.classes()) {
      t.classes.push_back(c.display_name);
      t.sources.push_back({c.index});
    }
  } else {
    for (const auto& c : spec.classes) {
      t.classes.push_back(c.name);
      std::vector<int> idx;
      for (const auto& s : c.sources) {
        const std::string names[1] = {s.name};
        const auto part = ontology.class_indices(names, s.with_descendants);
        idx.insert(idx.end(), part.begin(), part.end());
      }
      std::sort(idx.begin(), idx.end());
      idx.erase(std::unique(idx.begin(), idx.end()), idx.end());
      check(!idx.empty(), "taxonomy {}: class '{}' maps to no AudioSet class", spec.name, c.name);
      t.sources.push_back(std::move(idx));
    }
  }
  t.targets.assign(n, {});
  for (int c = 0; c < t.num_classes(); ++c) {
    std::vector<std::string> names;
    for (const int i : t.sources[c]) {
      t.targets[i].push_back(c);
      names.push_back(ontology.classes()[i].display_name);
    }
    t.source_names.push_back(std::move(names));
  }
  t.in_filter.assign(n, 0);
  for (const int i : ontology.class_indices(spec.filter_roots, true)) t.in_filter[i] = 1;
  return t;
}

Taxonomy resolve_taxonomy(std::string_view name, const AudioSetOntology& ontology) {
  return resolve_taxonomy(taxonomy_spec(name), ontology);
}

}  // namespace tutti::data
