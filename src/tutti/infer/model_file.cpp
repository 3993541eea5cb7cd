#include "tutti/infer/model_file.h"

#include <fmt/format.h>

#include <cstdlib>
#include <limits>

#include "tutti/core/error.h"
#include "tutti/core/zip.h"

namespace tutti::infer {
namespace {

// An integer field of meta.json. nlohmann's get<int>() converts a float such as 1e73 with
// undefined behaviour (found by fuzz_model_file), so floats and values out of T's range are errors.
template <typename T>
T integer(const core::Json& j, const char* key) {
  const core::Json& v = j.at(key);
  check(v.is_number_integer(), "'{}' must be an integer, got {}", key, v.dump());
  const bool fits =
      v.is_number_unsigned()
          ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(std::numeric_limits<T>::max())
          : v.get<std::int64_t>() >= std::numeric_limits<T>::min() &&
                v.get<std::int64_t>() <= std::numeric_limits<T>::max();
  check(fits, "'{}' is out of range: {}", key, v.dump());
  return static_cast<T>(v.get<std::int64_t>());
}

}  // namespace

core::Json FeatureSpec::to_json() const {
  return {
      {"dim", dim}, {"max_instances", max_instances}, {"scaling", scaling}, {"embedder", embedder}};
}

FeatureSpec FeatureSpec::from_json(const core::Json& j) {
  FeatureSpec f;
  f.dim = integer<std::int64_t>(j, "dim");
  f.max_instances = integer<std::int64_t>(j, "max_instances");
  f.scaling = j.at("scaling").get<std::string>();
  f.embedder = j.at("embedder").get<std::string>();
  return f;
}

core::Json TrainingSummary::to_json() const {
  core::Json h = core::Json::array();
  for (const auto& e : history)
    h.push_back({{"epoch", e.epoch},
                 {"train_loss", e.train_loss},
                 {"val_loss", e.val_loss},
                 {"val_map", e.val_map},
                 {"seconds", e.seconds}});
  return {{"history", h},         {"best_epoch", best_epoch}, {"epochs_run", epochs_run},
          {"val_loss", val_loss}, {"val_map", val_map},       {"train_seconds", train_seconds},
          {"n_train", n_train},   {"n_val", n_val},           {"params", params}};
}

TrainingSummary TrainingSummary::from_json(const core::Json& j) {
  TrainingSummary s;
  for (const auto& e : j.at("history"))
    s.history.push_back({integer<int>(e, "epoch"), e.at("train_loss").get<double>(),
                         e.at("val_loss").get<double>(), e.at("val_map").get<double>(),
                         e.at("seconds").get<double>()});
  s.best_epoch = integer<int>(j, "best_epoch");
  s.epochs_run = integer<int>(j, "epochs_run");
  s.val_loss = j.at("val_loss").get<double>();
  s.val_map = j.at("val_map").get<double>();
  s.train_seconds = j.at("train_seconds").get<double>();
  s.n_train = integer<std::int64_t>(j, "n_train");
  s.n_val = integer<std::int64_t>(j, "n_val");
  s.params = integer<std::int64_t>(j, "params");
  return s;
}

core::Json ModelInfo::to_json() const {
  core::Json j = {{"format", kModelFormat},         {"format_version", format_version},
                  {"tutti_version", tutti_version}, {"model", spec.to_json()},
                  {"train_config", train_config},   {"classes", classes},
                  {"features", features.to_json()}, {"thresholds", thresholds},
                  {"training", training.to_json()}};
  if (is_ensemble())
    j["ensemble"] = {{"members", ensemble_members},
                     {"combine", "mean of the members' probabilities"},
                     {"validation", ensemble_validation}};
  return j;
}

ModelInfo ModelInfo::from_json(const core::Json& j, const std::string& what) {
  // Compared as JSON: j.value("format", "") would throw a JSON type error on a non-string.
  check(j.is_object() && j.contains("format") && j.at("format") == kModelFormat,
        "model: {}: not a tutti model file (meta.json has no \"format\": \"{}\")", what,
        kModelFormat);
  ModelInfo m;
  try {
    m.format_version = integer<int>(j, "format_version");
    m.tutti_version = j.value("tutti_version", std::string("?"));
  } catch (const core::Json::exception& e) {
    fail("model: {}: meta.json: {}", what, e.what());
  } catch (const Error& e) {
    fail("model: {}: meta.json: {}", what, e.what());
  }
  check(m.format_version >= kOldestModelFormatVersion && m.format_version <= kEnsembleFormatVersion,
        "model: {}: model file format version {} (written by tutti {}), this tutti {} reads "
        "versions {} to {}; retrain the model or use a matching tutti",
        what, m.format_version, m.tutti_version, TUTTI_VERSION, kOldestModelFormatVersion,
        kEnsembleFormatVersion);
  try {
    m.spec = models::ModelSpec::from_json(j.at("model"));
    m.spec.validate();  // sizes in range before anything is allocated from them
    // Version 1 predates MMGAT's scale_fusion option: those models fused with tanh.
    if (m.format_version == 1 && models::is_mmgat(m.spec.name) && m.spec.options.is_object() &&
        !m.spec.options.contains("scale_fusion"))
      m.spec.options["scale_fusion"] = "tanh";
    m.train_config = j.at("train_config");
    check(m.train_config.is_object(), "'train_config' must be an object");
    m.classes = j.at("classes").get<std::vector<std::string>>();
    m.features = FeatureSpec::from_json(j.at("features"));
    m.thresholds = j.at("thresholds").get<std::vector<float>>();
    m.training = TrainingSummary::from_json(j.at("training"));
    if (j.contains("ensemble")) {
      const core::Json& e = j.at("ensemble");
      m.ensemble_members = integer<int>(e, "members");
      check(m.ensemble_members >= 1, "'ensemble.members' must be >= 1, got {}", m.ensemble_members);
      m.ensemble_validation = e.value("validation", std::string());
    }
  } catch (const core::Json::exception& e) {
    fail("model: {}: meta.json: {}", what, e.what());
  } catch (const Error& e) {
    fail("model: {}: meta.json: {}", what, e.what());
  }
  check(m.is_ensemble() == (m.format_version == kEnsembleFormatVersion),
        "model: {}: meta.json: format version {} {} an \"ensemble\" entry", what, m.format_version,
        m.is_ensemble() ? "cannot have" : "needs");
  const auto c = static_cast<std::int64_t>(m.classes.size());
  check(c >= 1 && m.spec.num_classes == c && static_cast<std::int64_t>(m.thresholds.size()) == c,
        "model: {}: meta.json is inconsistent: {} classes, spec says {}, {} thresholds", what, c,
        m.spec.num_classes, m.thresholds.size());
  check(m.features.dim >= 1 && m.features.dim == m.spec.input_dim,
        "model: {}: meta.json is inconsistent: feature dim {} vs model input dim {}", what,
        m.features.dim, m.spec.input_dim);
  // The tagger cuts files into windows of features.max_instances instances.
  check(m.features.max_instances >= 1 && m.features.max_instances <= models::kMaxInstances,
        "model: {}: meta.json: features.max_instances must be in [1, {}], got {}", what,
        models::kMaxInstances, m.features.max_instances);
  return m;
}

void write_model_file(const std::filesystem::path& path, const ModelInfo& info,
                      const ModelBlobs& blobs) {
  core::ZipWriter zip(path);
  const std::string meta = info.to_json().dump(2);
  zip.add("meta.json", std::vector<std::uint8_t>(meta.begin(), meta.end()));
  for (const auto& [name, bytes] : blobs) zip.add(name, bytes);
  zip.commit();
}

void check_ensemble_member(const ModelInfo& top, const ModelInfo& m, const std::string& what) {
  check(m.classes == top.classes, "{}: its {} classes differ from the ensemble's {}", what,
        m.classes.size(), top.classes.size());
  check(m.features.dim == top.features.dim && m.features.scaling == top.features.scaling &&
            m.features.embedder == top.features.embedder &&
            m.features.max_instances == top.features.max_instances,
        "{}: its features (D = {}, {}, {}, K = {}) differ from the ensemble's (D = {}, {}, {}, "
        "K = {})",
        what, m.features.dim, m.features.embedder, m.features.scaling, m.features.max_instances,
        top.features.dim, top.features.embedder, top.features.scaling, top.features.max_instances);
  check(
      m.is_forest() == top.is_forest() &&
          models::requires_fixed_length(m.spec.name) ==
              models::requires_fixed_length(top.spec.name) &&
          models::has_instance_outputs(m.spec.name) == models::has_instance_outputs(top.spec.name),
      "{}: a '{}' model cannot join an ensemble of '{}' (forest, fixed-length and "
      "per-instance outputs must agree)",
      what, m.spec.name, top.spec.name);
}

namespace {

// meta.json and the blobs under `prefix` ("" or "member-<i>/").
LoadedModelFile read_entries(const core::ZipReader& zip, const std::string& prefix,
                             const std::string& what) {
  LoadedModelFile out;
  check(zip.contains(prefix + "meta.json"), "no {}meta.json entry (not a tutti model file)",
        prefix);
  const auto meta_bytes = zip.read(prefix + "meta.json");
  core::Json j;
  try {
    j = core::Json::parse(meta_bytes.begin(), meta_bytes.end());
  } catch (const core::Json::exception& e) {
    fail("{}meta.json is not valid JSON ({})", prefix, e.what());
  }
  out.info = ModelInfo::from_json(j, what);
  if (out.info.is_ensemble()) {
    check(prefix.empty(), "model: {}: an ensemble cannot be a member of an ensemble", what);
    for (int i = 0; i < out.info.ensemble_members; ++i) {
      const std::string member = fmt::format("{} (member {})", what, i);
      out.members.push_back(read_entries(zip, fmt::format("member-{}/", i), member));
      check_ensemble_member(out.info, out.members.back().info, "model: " + member);
    }
    return out;
  }
  std::vector<std::string> needed;
  if (out.info.is_forest()) {
    for (std::size_t c = 0; c < out.info.classes.size(); ++c)
      needed.push_back("forest-" + std::to_string(c) + ".ubj");
  } else {
    needed.push_back("weights.pt");
  }
  for (const auto& name : needed) {
    check(zip.contains(prefix + name), "entry '{}' is missing", prefix + name);
    out.blobs[name] = zip.read(prefix + name);
  }
  return out;
}

}  // namespace

LoadedModelFile read_model_file(const std::filesystem::path& path) {
  const std::string what = path.string();
  try {
    core::ZipReader zip(path);
    return read_entries(zip, "", what);
  } catch (const Error& e) {
    const std::string msg = e.what();
    // Errors raised above already name the file; others get "model: <file>: " in front.
    if (msg.rfind("model: ", 0) == 0) throw;
    if (msg.find(what) != std::string::npos) fail("model: {}", msg);
    fail("model: {}: {}", what, msg);
  }
}

std::vector<std::filesystem::path> shipped_model_dirs() {
  namespace fs = std::filesystem;
  std::vector<fs::path> dirs;
  if (const char* env = std::getenv("TUTTI_MODELS"); env && *env) dirs.emplace_back(env);
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path().parent_path() / "models");
    dirs.push_back(exe.parent_path().parent_path() / "share" / "tutti" / "models");
  }
  return dirs;
}

std::filesystem::path resolve_model(const std::string& model) {
  namespace fs = std::filesystem;
  const fs::path p(model);
  if (fs::exists(p) || model.empty() || p.has_parent_path() || p.has_extension()) return p;
  std::string searched;
  for (const auto& dir : shipped_model_dirs()) {
    const fs::path f = dir / (model + ".tutti");
    if (fs::is_regular_file(f)) return f;
    searched += (searched.empty() ? "" : ", ") + dir.string();
  }
  fail<UsageError>("model '{}': no such file, and no shipped model {}.tutti in {}", model, model,
                   searched);
}

void add_member_blobs(ModelBlobs& blobs, int index, const LoadedModelFile& member) {
  const std::string prefix = fmt::format("member-{}/", index);
  const std::string meta = member.info.to_json().dump(2);
  blobs[prefix + "meta.json"] = std::vector<std::uint8_t>(meta.begin(), meta.end());
  for (const auto& [name, bytes] : member.blobs) blobs[prefix + name] = bytes;
}

}  // namespace tutti::infer
