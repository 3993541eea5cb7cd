#include "tutti/models/mmgat_labels.h"

#include <torch/torch.h>

#include <cmath>
#include <map>

#include "tutti/core/error.h"
#include "tutti/data/csv.h"
#include "tutti/data/npz.h"
#include "tutti/models/mmgat.h"
#include "tutti/models/model_decl.h"

namespace tutti::models {

std::vector<double> ppmi_matrix(const data::BagDataset& ds) {
  const std::int64_t c = ds.num_classes();
  std::vector<double> n(static_cast<std::size_t>(c * c), 0.0);
  std::vector<std::int64_t> present;
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    present.clear();
    for (std::int64_t a = 0; a < c; ++a)
      if (ds.positive(i, a)) present.push_back(a);
    for (auto a : present)
      for (auto b : present) n[static_cast<std::size_t>(a * c + b)] += 1.0;
  }
  double total = 0;
  std::vector<double> row(static_cast<std::size_t>(c), 0.0);
  for (std::int64_t a = 0; a < c; ++a)
    for (std::int64_t b = 0; b < c; ++b) {
      row[static_cast<std::size_t>(a)] += n[static_cast<std::size_t>(a * c + b)];
      total += n[static_cast<std::size_t>(a * c + b)];
    }
  std::vector<double> out(n.size(), 0.0);
  for (std::int64_t a = 0; a < c; ++a)
    for (std::int64_t b = 0; b < c; ++b) {
      const double v = n[static_cast<std::size_t>(a * c + b)];
      if (v <= 0) continue;
      const double pmi = std::log(
          v * total / (row[static_cast<std::size_t>(a)] * row[static_cast<std::size_t>(b)]));
      out[static_cast<std::size_t>(a * c + b)] = std::max(pmi, 0.0);
    }
  return out;
}

std::vector<std::vector<double>> ppmi_label_embeddings(const data::BagDataset& ds,
                                                       std::int64_t dim) {
  const std::int64_t c = ds.num_classes();
  check(c > 0 && dim > 0, "mmgat: PPMI label embeddings need classes and dim > 0");
  auto ppmi = ppmi_matrix(ds);
  const auto m = torch::from_blob(ppmi.data(), {c, c}, torch::kFloat64).clone();
  const auto [u, s, vh] = torch::linalg_svd(m, /*full_matrices=*/false);
  const std::int64_t d = std::min(dim, c);
  auto e = u.slice(1, 0, d) * s.slice(0, 0, d).sqrt().unsqueeze(0);  // [C,d]
  std::vector<std::vector<double>> out(static_cast<std::size_t>(c),
                                       std::vector<double>(static_cast<std::size_t>(d)));
  const auto acc = e.accessor<double, 2>();
  for (std::int64_t j = 0; j < d; ++j) {
    std::int64_t arg = 0;
    for (std::int64_t i = 1; i < c; ++i)
      if (std::abs(acc[i][j]) > std::abs(acc[arg][j]) + 1e-12) arg = i;
    const double sign = acc[arg][j] < 0 ? -1.0 : 1.0;
    for (std::int64_t i = 0; i < c; ++i)
      out[static_cast<std::size_t>(i)][static_cast<std::size_t>(j)] = sign * acc[i][j] + 0.0;
  }
  return out;
}

std::vector<std::vector<double>> read_label_embeddings(const std::filesystem::path& path,
                                                       std::int64_t num_classes) {
  const std::string what = path.string();
  std::vector<std::vector<double>> out;
  const std::string ext = path.extension().string();
  if (ext == ".npy") {
    const data::NpyArray a = data::read_npy(path);
    check(a.shape.size() == 2 && a.shape[0] > 0 && a.shape[1] > 0,
          "{}: label embeddings must be a 2-D array (classes, dims), got shape {}", what,
          a.shape_str());
    const auto v = a.as_f32(what);
    for (std::int64_t i = 0; i < a.shape[0]; ++i)
      out.emplace_back(v.begin() + i * a.shape[1], v.begin() + (i + 1) * a.shape[1]);
  } else if (ext == ".csv") {
    for (const auto& row : data::read_csv(path)) {
      std::vector<double> r;
      for (const auto& f : row.fields)
        r.push_back(data::parse_number_field(f, what, row.line, "value"));
      check(out.empty() || r.size() == out.front().size(), "{}:{}: {} values, the first row has {}",
            what, row.line, r.size(), out.empty() ? 0 : out.front().size());
      out.push_back(std::move(r));
    }
  } else {
    fail<UsageError>("{}: label embeddings must be a .npy or .csv file", what);
  }
  check(static_cast<std::int64_t>(out.size()) == num_classes,
        "{}: {} rows of label embeddings, the data has {} classes", what, out.size(), num_classes);
  for (const auto& r : out)
    for (double x : r) check(std::isfinite(x), "{}: label embeddings hold {}", what, x);
  return out;
}

std::vector<std::int64_t> onset_groups_for(const std::vector<std::string>& classes,
                                           const std::filesystem::path& table) {
  std::map<std::string, std::int64_t> group_of;
  if (table.empty()) {
    // Onset type of the OpenMIC-2018 instruments (the MMGAT authors' table).
    for (const char* n : {"banjo", "cymbals", "drums", "guitar", "mallet_percussion", "mandolin",
                          "piano", "synthesizer", "trombone", "trumpet", "ukulele"})
      group_of[n] = 0;  // hard
    for (const char* n :
         {"accordion", "bass", "cello", "clarinet", "flute", "organ", "saxophone", "violin"})
      group_of[n] = 1;      // soft
    group_of["voice"] = 2;  // other
  } else {
    const std::string what = table.string();
    std::map<std::string, std::int64_t> groups;
    bool first = true;
    for (const auto& row : data::read_csv(table)) {
      check(row.fields.size() == 2, "{}:{}: expected 2 fields (class,group), got {}", what,
            row.line, row.fields.size());
      if (first && row.fields[0] == "class" && row.fields[1] == "group") {
        first = false;
        continue;
      }
      first = false;
      const auto g = groups.emplace(row.fields[1], static_cast<std::int64_t>(groups.size()));
      check(group_of.emplace(row.fields[0], g.first->second).second,
            "{}:{}: class '{}' listed twice", what, row.line, row.fields[0]);
    }
    check(!group_of.empty(), "{}: no class,group rows", what);
  }
  std::vector<std::int64_t> out;
  for (const auto& c : classes) {
    const auto it = group_of.find(c);
    out.push_back(it == group_of.end() ? -1 : it->second);
  }
  return out;
}

ModelSpec mmgat_training_spec(ModelSpec spec, const data::BagDataset& train) {
  if (!is_mmgat(spec.name)) return spec;
  spec = resolve_model_spec(std::move(spec));
  auto& opt = spec.options;
  if (opt.is_null()) opt = core::Json::object();
  const MmgatOptions o = MmgatOptions::from_spec(spec);  // validates the options first
  if (o.use_labels && !opt.contains("label_embedding_matrix") && o.label_embeddings != "learned") {
    const auto m = o.label_embeddings == "ppmi"
                       ? ppmi_label_embeddings(train, o.label_dim)
                       : read_label_embeddings(o.label_embeddings, train.num_classes());
    opt["label_embedding_matrix"] = m;
  }
  opt["scale_fusion"] = o.scale_fusion;  // recorded: the default changed once (model format 2)
  // (o.use_aux is still false here without groups: the option decides.)
  if (o.aux_task && !opt.contains("onset_groups"))
    opt["onset_groups"] = onset_groups_for(train.classes, o.onset_table);
  return spec;
}

}  // namespace tutti::models
