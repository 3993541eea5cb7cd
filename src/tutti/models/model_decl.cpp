// The model declarations (the one table of models, their defaults and options) and the option
// reader that enforces them. Torch-free.
#include "tutti/models/model_decl.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"

namespace tutti::models {

namespace {

OptionDecl number(std::string key, double def, double lo, double hi, std::string help) {
  return {std::move(key), OptionType::kNumber, def, lo, hi, {}, false, std::move(help)};
}
OptionDecl integer(std::string key, std::int64_t def, double lo, double hi, std::string help) {
  return {std::move(key), OptionType::kInteger, def, lo, hi, {}, false, std::move(help)};
}
OptionDecl integer_list(std::string key, core::Json def, double lo, double hi, std::string help) {
  return {std::move(key), OptionType::kIntegerList, std::move(def), lo, hi, {},
          false,          std::move(help)};
}
OptionDecl boolean(std::string key, bool def, std::string help) {
  return {std::move(key), OptionType::kBool, def, 0, 0, {}, false, std::move(help)};
}
OptionDecl text(std::string key, std::string def, bool non_empty, std::string help) {
  return {std::move(key), OptionType::kString, std::move(def), 0, 0, {},
          non_empty,      std::move(help)};
}
OptionDecl choice(std::string key, std::vector<std::string> choices, std::string help) {
  core::Json def = choices.front();
  return {std::move(key), OptionType::kChoice, std::move(def), 0, 0, std::move(choices),
          false,          std::move(help)};
}
OptionDecl matrix(std::string key, std::string help) {
  return {std::move(key), OptionType::kMatrix, nullptr, 0, 0, {}, false, std::move(help)};
}

constexpr double kUnbounded = 1e6;  // loss weights and similar scales: any sane value

// The models, in documentation order (the AttentionMIC study's order, then MMGAT).
std::vector<ModelDecl> make_decls() {
  return {
      {.name = "att",
       .summary = "multi-level attention (Kong et al. 2018), the AttentionMIC baseline",
       .learning_rate = 5e-4,
       .epochs = 250,
       .instance_outputs = true,
       .default_experiment = true,
       .engines = {Engine::kAutograd, Engine::kFusedStep},
       .options =
           {
               number("dropout", 0.6, 0.0, 0.999, "dropout after each hidden block's ReLU"),
               integer("num_layers", 3, 1, 16,
                       "hidden blocks [linear D->D, batch-norm, ReLU, dropout]"),
           }},
      {.name = "fc_t",
       .summary = "per-instance fully connected network, clip = mean of the instance features",
       .learning_rate = 5e-4,
       .epochs = 100,
       .instance_outputs = true,
       .default_experiment = true,
       .engines = {Engine::kAutograd},
       .options =
           {
               number("dropout", 0.5, 0.0, 0.999, "dropout after each hidden linear"),
               number("negative_slope", 0.01, 0.0, 1.0, "LeakyReLU slope"),
               integer("num_layers", 3, 1, 16, "hidden blocks [linear D->D, dropout, LeakyReLU]"),
           }},
      {.name = "rnn",
       .summary = "bidirectional GRU over the bag's instances in time order",
       .learning_rate = 5e-4,
       .epochs = 100,
       .instance_outputs = true,
       .default_experiment = true,
       .engines = {Engine::kAutograd},
       .options =
           {
               integer("hidden_size", 64, 1, 4096, "GRU units per direction"),
               integer("num_layers", 3, 1, 16, "stacked bidirectional GRU layers"),
               number("dropout", 0.5, 0.0, 0.999, "dropout between GRU layers"),
           }},
      {.name = "fc",
       .summary = "fully connected network over the concatenated instances (fixed-length bags)",
       .learning_rate = 1e-4,
       .epochs = 100,
       .fixed_length = true,
       .default_experiment = true,
       .engines = {Engine::kAutograd},
       .options =
           {
               integer_list("hidden", {512, 512, 128}, 1, 65536, "hidden layer widths"),
               number("dropout", 0.5, 0.0, 0.999, "dropout after each hidden linear"),
               number("negative_slope", 0.01, 0.0, 1.0, "LeakyReLU slope"),
           }},
      {.name = "rf",
       .summary = "binary-relevance random forests (xgboost) on clip statistics (--rf-* options)",
       .kind = ModelKind::kForest,
       .default_experiment = true,
       .engines = {},
       .options = {}},
      {.name = "mmgat",
       .summary = "multi-scale graph attention with label semantic embeddings (Zhang et al.)",
       // Overfits within 25-40 epochs at 5e-4; 2.5e-4 measured better (docs/models.md).
       .learning_rate = 2.5e-4,
       .epochs = 100,
       .instance_outputs = true,
       .engines = {Engine::kAutograd, Engine::kFusedOps},
       .options =
           {
               choice("similarity", {"cosine", "emd"}, "instance similarity of the graph"),
               choice("sparsify", {"topk", "threshold"}, "how edges are kept"),
               integer("top_k", 2, 1, 1024, "neighbours kept per node (topk)"),
               number("threshold", 0.75, 0.0, 1.0,
                      "edge kept when its weight >= threshold (threshold)"),
               number("graph_center", 0.5, -kUnbounded, kUnbounded,
                      "cosine similarity of (x - center) (VGGish uint8 midpoint)"),
               number("emd_sigma", 1.0, 1e-6, kUnbounded, "emd: weight = exp(-EMD / sigma)"),
               integer("scales", 3, 1, 8, "graph scales: neighbours within 1..scales hops"),
               integer("hidden", 128, 1, 4096, "node feature width H"),
               integer("num_layers", 3, 1, 16, "graph attention layers"),
               number("dropout", 0.2, 0.0, 0.999, "dropout of the input projection and each layer"),
               choice("scale_fusion", {"linear", "tanh"},
                      "per-node scale scores u.out (+b) or u.tanh(out)"),
               boolean("use_labels", true,
                       "label semantic embeddings as pooling queries and the label autoencoder"),
               text("label_embeddings", "ppmi", true, "ppmi | learned | FILE.npy | FILE.csv"),
               integer("label_dim", 32, 1, 4096, "dimension of learned / PPMI label embeddings"),
               matrix("label_embedding_matrix", "C x d label embeddings (filled by the trainer)"),
               integer("ae_hidden", 64, 1, 4096, "label autoencoder hidden width"),
               integer("ae_latent", 32, 1, 4096, "label autoencoder latent width"),
               number("ae_mask", 0.5, 0.0, 1.0,
                      "fraction of known labels hidden from the autoencoder"),
               boolean("use_aux", true, "auxiliary onset-type task"),
               text("onset_table", "", false,
                    "class,group CSV (empty = the built-in OpenMIC table)"),
               integer_list("onset_groups", nullptr, -1, 1023,
                            "onset group per class, -1 = none (filled by the trainer)"),
               number("lambda_aux", 0.1, 0.0, kUnbounded, "weight of the auxiliary task loss"),
               number("lambda_ae", 0.5, 0.0, kUnbounded, "weight of the autoencoder loss"),
               number("lambda_c1", 1e-4, 0.0, kUnbounded, "weight of the per-class center loss"),
               number("lambda_c2", 1e-4, 0.0, kUnbounded, "weight of the onset-group center loss"),
               number("center_alpha", 0.5, 0.0, 1.0, "center update rate"),
           }},
  };
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

std::string OptionDecl::describe() const {
  const std::string range = fmt::format("[{}, {}]", lo, hi);
  switch (type) {
    case OptionType::kNumber:
    case OptionType::kInteger:
      return fmt::format("{} in {}", def.dump(), range);
    case OptionType::kIntegerList:
      return fmt::format("{}, each in {}", def.is_null() ? "none" : def.dump(), range);
    case OptionType::kBool:
      return def.dump();
    case OptionType::kString:
      return def.get<std::string>().empty() ? "empty" : def.get<std::string>();
    case OptionType::kChoice: {
      std::string s;
      for (const auto& c : choices) s += (s.empty() ? "" : " | ") + c;
      return s;
    }
    case OptionType::kMatrix:
      return "none";
  }
  return {};
}

bool ModelDecl::has_engine(Engine e) const {
  return std::find(engines.begin(), engines.end(), e) != engines.end();
}

Engine ModelDecl::fused_engine() const {
  for (Engine e : engines)
    if (e != Engine::kAutograd) return e;
  return Engine::kAutograd;
}

const OptionDecl* ModelDecl::option(const std::string& key) const {
  for (const auto& o : options)
    if (o.key == key) return &o;
  return nullptr;
}

const std::vector<ModelDecl>& model_decls() {
  static const std::vector<ModelDecl> decls = make_decls();
  return decls;
}

const std::vector<ModelAlias>& model_aliases() {
  static const std::vector<ModelAlias> aliases = {
      {"mmgat-single", "mmgat", {{"scales", 1}}, "mmgat with one graph scale"},
      {"mmgat-principal", "mmgat", {{"use_aux", false}}, "mmgat without the auxiliary task"},
      {"mmgat-graph",
       "mmgat",
       {{"use_labels", false}},
       "mmgat without label embeddings and autoencoder"},
  };
  return aliases;
}

const ModelAlias* find_model_alias(const std::string& name) {
  for (const auto& a : model_aliases())
    if (a.name == name) return &a;
  return nullptr;
}

const ModelDecl* find_model_decl(const std::string& name) {
  const ModelAlias* a = find_model_alias(name);
  const std::string& model = a ? a->model : name;
  for (const auto& d : model_decls())
    if (d.name == model) return &d;
  return nullptr;
}

const ModelDecl& model_decl(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  check<UsageError>(d != nullptr, "models: unknown model '{}' (known: {})", name,
                    describe_model_names());
  return *d;
}

std::vector<std::string> model_names() {
  std::vector<std::string> v;
  for (const auto& d : model_decls()) v.push_back(d.name);
  return v;
}

std::vector<std::string> neural_model_names() {
  std::vector<std::string> v;
  for (const auto& d : model_decls())
    if (d.neural()) v.push_back(d.name);
  return v;
}

std::vector<std::string> model_alias_names() {
  std::vector<std::string> v;
  for (const auto& a : model_aliases()) v.push_back(a.name);
  return v;
}

std::string describe_model_names() {
  return fmt::format("{} (aliases: {})", joined(model_names()), joined(model_alias_names()));
}

std::vector<std::string> default_experiment_models() {
  std::vector<std::string> v;
  for (const auto& d : model_decls())
    if (d.default_experiment) v.push_back(d.name);
  return v;
}

bool requires_fixed_length(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  return d && d->fixed_length;
}

bool has_instance_outputs(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  return d && d->instance_outputs;
}

bool is_forest(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  return d && d->kind == ModelKind::kForest;
}

bool is_mmgat(const std::string& name) {
  const ModelDecl* d = find_model_decl(name);
  return d && d->name == "mmgat";
}

ModelSpec resolve_model_spec(ModelSpec spec) {
  const ModelAlias* a = find_model_alias(spec.name);
  if (!a) return spec;
  if (spec.options.is_null()) spec.options = core::Json::object();
  check<UsageError>(spec.options.is_object(),
                    "model spec '{}': options must be a JSON object, got {}", spec.name,
                    spec.options.dump());
  for (const auto& [k, v] : a->options.items()) spec.options[k] = v;
  spec.name = a->model;
  return spec;
}

void validate_model_options(const ModelDecl& decl, const core::Json& options) {
  OptionReader r(decl, options);
  for (const auto& o : decl.options) {
    switch (o.type) {
      case OptionType::kNumber:
        r.number(o.key);
        break;
      case OptionType::kInteger:
        r.integer(o.key);
        break;
      case OptionType::kIntegerList:
        r.integer_list(o.key);
        break;
      case OptionType::kBool:
        r.boolean(o.key);
        break;
      case OptionType::kString:
      case OptionType::kChoice:
        r.string(o.key);
        break;
      case OptionType::kMatrix:
        r.number_matrix(o.key);
        break;
    }
  }
}

// --- OptionReader --------------------------------------------------------------------------------

OptionReader::OptionReader(const ModelDecl& decl, const core::Json& options)
    : model_(decl), options_(options) {
  check<UsageError>(options_.is_object() || options_.is_null(),
                    "model '{}': options must be a JSON object, got {}", model_.name,
                    options_.dump());
  if (options_.is_null()) options_ = core::Json::object();
  for (const auto& [key, value] : options_.items()) {
    if (model_.option(key)) continue;
    std::vector<std::string> keys;
    for (const auto& o : model_.options) keys.push_back(o.key);
    fail<UsageError>("model '{}': unknown option '{}' (= {}); valid options: {}", model_.name, key,
                     value.dump(), keys.empty() ? "none" : joined(keys));
  }
}

const OptionDecl& OptionReader::decl(const std::string& key, OptionType type) const {
  const OptionDecl* o = model_.option(key);
  // A reader asking for an undeclared key or another type is a bug in the model, not in the input.
  check(o != nullptr &&
            (o->type == type || (type == OptionType::kString && o->type == OptionType::kChoice)),
        "model '{}': option '{}' is not declared with this type (model_decl.cpp)", model_.name,
        key);
  return *o;
}

const core::Json* OptionReader::given(const std::string& key) const {
  const auto it = options_.find(key);
  return it == options_.end() ? nullptr : &*it;
}

bool OptionReader::has(const std::string& key) const { return given(key) != nullptr; }

double OptionReader::number(const std::string& key) {
  const OptionDecl& o = decl(key, OptionType::kNumber);
  const core::Json* v = given(key);
  if (!v) return o.def.get<double>();
  check<UsageError>(v->is_number(), "model '{}': option '{}' must be a number, got {}", model_.name,
                    key, v->dump());
  const double x = v->get<double>();
  check<UsageError>(std::isfinite(x) && x >= o.lo && x <= o.hi,
                    "model '{}': option '{}' = {} is outside [{}, {}]", model_.name, key, x, o.lo,
                    o.hi);
  return x;
}

std::int64_t OptionReader::integer(const std::string& key) {
  const OptionDecl& o = decl(key, OptionType::kInteger);
  const core::Json* v = given(key);
  if (!v) return o.def.get<std::int64_t>();
  check<UsageError>(v->is_number_integer(), "model '{}': option '{}' must be an integer, got {}",
                    model_.name, key, v->dump());
  const auto x = v->get<std::int64_t>();
  check<UsageError>(x >= o.lo && x <= o.hi, "model '{}': option '{}' = {} is outside [{}, {}]",
                    model_.name, key, x, o.lo, o.hi);
  return x;
}

std::vector<std::int64_t> OptionReader::integer_list(const std::string& key) {
  const OptionDecl& o = decl(key, OptionType::kIntegerList);
  const core::Json* v = given(key);
  if (!v)
    return o.def.is_null() ? std::vector<std::int64_t>{} : o.def.get<std::vector<std::int64_t>>();
  check<UsageError>(v->is_array() && !v->empty(),
                    "model '{}': option '{}' must be a non-empty list of integers, got {}",
                    model_.name, key, v->dump());
  std::vector<std::int64_t> out;
  for (const auto& e : *v) {
    check<UsageError>(e.is_number_integer(),
                      "model '{}': option '{}' must be a list of integers, got {}", model_.name,
                      key, v->dump());
    const auto x = e.get<std::int64_t>();
    check<UsageError>(x >= o.lo && x <= o.hi, "model '{}': option '{}' has {} outside [{}, {}]",
                      model_.name, key, x, o.lo, o.hi);
    out.push_back(x);
  }
  return out;
}

bool OptionReader::boolean(const std::string& key) {
  const OptionDecl& o = decl(key, OptionType::kBool);
  const core::Json* v = given(key);
  if (!v) return o.def.get<bool>();
  check<UsageError>(v->is_boolean(), "model '{}': option '{}' must be true or false, got {}",
                    model_.name, key, v->dump());
  return v->get<bool>();
}

std::string OptionReader::string(const std::string& key) {
  const OptionDecl& o = decl(key, OptionType::kString);
  const core::Json* v = given(key);
  if (!v) return o.def.get<std::string>();
  check<UsageError>(v->is_string(), "model '{}': option '{}' must be a string, got {}", model_.name,
                    key, v->dump());
  const std::string s = v->get<std::string>();
  if (o.type == OptionType::kChoice) {
    check<UsageError>(std::find(o.choices.begin(), o.choices.end(), s) != o.choices.end(),
                      "model '{}': option '{}' = '{}' is not one of {}", model_.name, key, s,
                      joined(o.choices));
  }
  check<UsageError>(!o.non_empty || !s.empty(), "model '{}': option '{}' must not be empty ({})",
                    model_.name, key, o.help);
  return s;
}

std::vector<std::vector<double>> OptionReader::number_matrix(const std::string& key) {
  decl(key, OptionType::kMatrix);
  const core::Json* v = given(key);
  if (!v) return {};
  check<UsageError>(v->is_array() && !v->empty(),
                    "model '{}': option '{}' must be a non-empty list of rows", model_.name, key);
  std::vector<std::vector<double>> out;
  for (const auto& row : *v) {
    check<UsageError>(row.is_array() && !row.empty(),
                      "model '{}': option '{}': every row must be a non-empty list of numbers",
                      model_.name, key);
    std::vector<double> r;
    for (const auto& e : row) {
      check<UsageError>(e.is_number() && std::isfinite(e.get<double>()),
                        "model '{}': option '{}' holds {} (finite numbers only)", model_.name, key,
                        e.dump());
      r.push_back(e.get<double>());
    }
    check<UsageError>(out.empty() || r.size() == out.front().size(),
                      "model '{}': option '{}': rows differ in length ({} and {})", model_.name,
                      key, out.empty() ? 0 : out.front().size(), r.size());
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tutti::models
