#include "tutti/train/extra_targets.h"

#include <algorithm>
#include <set>
#include <unordered_map>

#include "tutti/core/error.h"
#include "tutti/data/bag_io.h"
#include "tutti/infer/predictor.h"

namespace tutti::train {

namespace {

std::unordered_map<std::string, std::int64_t> key_index(const data::BagDataset& ds,
                                                        const std::string& what) {
  std::unordered_map<std::string, std::int64_t> index;
  index.reserve(static_cast<std::size_t>(ds.size()));
  for (std::int64_t i = 0; i < ds.size(); ++i)
    check(index.emplace(ds.keys[static_cast<std::size_t>(i)], i).second,
          "{}: clip key '{}' appears twice (clips are joined by key)", what,
          ds.keys[static_cast<std::size_t>(i)]);
  return index;
}

// Copies clip `i` of `src` (features, instance count, key) to row `j` of `dst`, whose K may be
// larger (zero padding) and whose classes differ (labels are filled by the caller).
void copy_clip(const data::BagDataset& src, std::int64_t i, data::BagDataset& dst, std::int64_t j) {
  const auto n = static_cast<std::size_t>(src.max_instances * src.dim);
  const auto from = static_cast<std::size_t>(i) * n;
  const auto to = static_cast<std::size_t>(j * dst.max_instances * dst.dim);
  if (src.feature_type == data::FeatureType::kUint8)
    std::copy_n(src.x_u8.begin() + from, n, dst.x_u8.begin() + to);
  else
    std::copy_n(src.x_f32.begin() + from, n, dst.x_f32.begin() + to);
  dst.n_instances[static_cast<std::size_t>(j)] = src.n_instances[static_cast<std::size_t>(i)];
  dst.keys[static_cast<std::size_t>(j)] = src.keys[static_cast<std::size_t>(i)];
}

// Labels of clip `i` of `src` into columns [c0, c0 + C_src) of row `j` of `dst`.
void copy_labels(const data::BagDataset& src, std::int64_t i, data::BagDataset& dst, std::int64_t j,
                 std::int64_t c0) {
  const std::int64_t cs = src.num_classes(), cd = dst.num_classes();
  std::copy_n(src.y_true.begin() + i * cs, cs, dst.y_true.begin() + j * cd + c0);
  std::copy_n(src.y_mask.begin() + i * cs, cs, dst.y_mask.begin() + j * cd + c0);
}

data::BagDataset load_aux(const TrainConfig& cfg, const data::BagDataset& train) {
  const std::string& f = cfg.aux_labels;
  data::BagDataset aux = data::load_bags(f);
  check(aux.dim == train.dim, "{}: --aux-labels features have D = {}, the training data D = {}", f,
        aux.dim, train.dim);
  check(aux.feature_type == train.feature_type,
        "{}: --aux-labels features are {}, the training data's {} (both must be the same type)", f,
        aux.feature_type == data::FeatureType::kUint8 ? "uint8" : "float32",
        train.feature_type == data::FeatureType::kUint8 ? "uint8" : "float32");
  check(aux.max_instances <= train.max_instances,
        "{}: --aux-labels clips have up to K = {} instances, more than the training data's K = {} "
        "(cut them with `tutti data filter --max-instances`)",
        f, aux.max_instances, train.max_instances);
  check(aux.num_classes() > 0, "{}: --aux-labels has no classes", f);
  return aux;
}

// Mixes the teacher's probabilities into the task columns [0, C) of `ds` (see the header).
void apply_teacher(const TrainConfig& cfg, std::int64_t task_classes,
                   const std::vector<std::string>& classes, data::BagDataset& ds) {
  const std::string path = teacher_path(cfg);
  const infer::Predictor teacher = infer::Predictor::load(path);
  const std::vector<std::string> task(classes.begin(), classes.begin() + task_classes);
  check(teacher.info().classes == task,
        "{}: --teacher has {} classes, the training data {} (names and order must match)", path,
        teacher.info().classes.size(), task.size());
  // The teacher sees the clips with the task's classes only.
  data::BagDataset clips =
      data::BagDataset::zeros(0, ds.max_instances, ds.dim, task, ds.feature_type);
  clips.x_u8 = ds.x_u8;
  clips.x_f32 = ds.x_f32;
  clips.n_instances = ds.n_instances;
  clips.keys = ds.keys;
  clips.y_true.assign(ds.keys.size() * task.size(), 0.0f);
  clips.y_mask.assign(ds.keys.size() * task.size(), 0);
  const infer::Predictions p = teacher.predict(clips, false, cfg.threads, path);
  const double w = cfg.teacher_weight;
  const std::int64_t c = ds.num_classes();
  for (std::int64_t i = 0; i < ds.size(); ++i) {
    if (ds.n_instances[static_cast<std::size_t>(i)] == 0) continue;  // never trained on
    for (std::int64_t j = 0; j < task_classes; ++j) {
      const auto at = static_cast<std::size_t>(i * c + j);
      const double pt = p.score(i, j);
      const double y = ds.y_true[at] >= 0.5f ? 1.0 : 0.0;
      ds.y_true[at] = static_cast<float>(ds.y_mask[at] != 0 ? w * pt + (1 - w) * y : pt);
      ds.y_mask[at] = 1;
    }
  }
}

}  // namespace

bool uses_extra_targets(const TrainConfig& cfg) {
  return !cfg.aux_labels.empty() || !cfg.teacher.empty();
}

bool soft_targets(const TrainConfig& cfg) { return !cfg.teacher.empty(); }

std::vector<float> class_loss_weights(const TrainConfig& cfg,
                                      const std::vector<std::string>& classes) {
  std::vector<float> w(classes.size(), 1.0f);
  bool any = false;
  for (std::size_t j = 0; j < classes.size(); ++j)
    if (classes[j].starts_with(kAuxClassPrefix) && cfg.aux_weight != 1.0) {
      w[j] = static_cast<float>(cfg.aux_weight);
      any = true;
    }
  return any ? w : std::vector<float>{};
}

std::string teacher_path(const TrainConfig& cfg) {
  std::string p = cfg.teacher;
  const std::string seed = std::to_string(cfg.seed);
  for (auto at = p.find("{seed}"); at != std::string::npos; at = p.find("{seed}", at + 1))
    p.replace(at, 6, seed);
  return p;
}

ExtendedData extend_training_data(const data::BagDataset& train, const data::BagDataset& val,
                                  const TrainConfig& cfg, const std::string& data_name) {
  ExtendedData out;
  out.task_classes = train.num_classes();
  if (cfg.aux_labels.empty()) {
    out.train = train;
    out.val = val;
  } else {
    const data::BagDataset aux = load_aux(cfg, train);
    const auto aux_keys = key_index(aux, cfg.aux_labels);
    const auto train_keys = key_index(train, data_name + " (training part)");
    std::set<std::string> val_keys(val.keys.begin(), val.keys.end());

    std::vector<std::string> classes = train.classes;
    for (const auto& name : aux.classes) classes.push_back(std::string(kAuxClassPrefix) + name);
    check(std::set<std::string>(classes.begin(), classes.end()).size() == classes.size(),
          "{}: --aux-labels class names repeat after the '{}' prefix", cfg.aux_labels,
          kAuxClassPrefix);

    std::vector<std::int64_t> added;
    for (std::int64_t i = 0; i < aux.size(); ++i) {
      const std::string& key = aux.keys[static_cast<std::size_t>(i)];
      if (train_keys.count(key) != 0) continue;
      if (val_keys.count(key) != 0) {
        ++out.aux_left_out;
        continue;
      }
      added.push_back(i);
    }
    const std::int64_t n = train.size() + static_cast<std::int64_t>(added.size());
    data::BagDataset& t = out.train;
    t = data::BagDataset::zeros(n, train.max_instances, train.dim, classes, train.feature_type);
    t.embedder = train.embedder;
    for (std::int64_t i = 0; i < train.size(); ++i) {
      copy_clip(train, i, t, i);
      copy_labels(train, i, t, i, 0);
      if (const auto it = aux_keys.find(train.keys[static_cast<std::size_t>(i)]);
          it != aux_keys.end()) {
        copy_labels(aux, it->second, t, i, out.task_classes);
        ++out.aux_joined;
      }
    }
    for (std::size_t a = 0; a < added.size(); ++a) {
      const std::int64_t j = train.size() + static_cast<std::int64_t>(a);
      copy_clip(aux, added[a], t, j);
      copy_labels(aux, added[a], t, j, out.task_classes);
    }
    out.aux_added = static_cast<std::int64_t>(added.size());

    data::BagDataset& v = out.val;
    v = data::BagDataset::zeros(val.size(), train.max_instances, val.dim, classes,
                                val.feature_type);
    v.embedder = val.embedder;
    for (std::int64_t i = 0; i < val.size(); ++i) {
      copy_clip(val, i, v, i);
      copy_labels(val, i, v, i, 0);
    }
  }
  if (!cfg.teacher.empty()) apply_teacher(cfg, out.task_classes, out.train.classes, out.train);
  return out;
}

void check_aux_excludes(const TrainConfig& cfg, const data::BagDataset& test,
                        const std::string& test_name) {
  if (cfg.aux_labels.empty()) return;
  const data::BagDataset aux = data::load_bags(cfg.aux_labels);
  const std::set<std::string> test_keys(test.keys.begin(), test.keys.end());
  std::int64_t shared = 0;
  std::string first;
  for (const auto& k : aux.keys)
    if (test_keys.count(k) != 0 && shared++ == 0) first = k;
  check(shared == 0,
        "{}: --aux-labels holds {} clips of the test set {} (e.g. '{}'): a test clip must not be "
        "trained on (leave them out with `tutti data filter --without-clips-of {}`)",
        cfg.aux_labels, shared, test_name, first, test_name);
}

}  // namespace tutti::train
