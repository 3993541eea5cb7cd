// ModelSpec JSON I/O and option parsing (torch-free).
#include "tutti/models/model_spec.h"

#include <cmath>

#include "tutti/core/error.h"

namespace tutti::models {

void ModelSpec::validate() const {
  check<UsageError>(!name.empty(), "model spec: empty model name");
  check<UsageError>(input_dim > 0, "model spec '{}': input_dim must be > 0, got {}", name,
                    input_dim);
  check<UsageError>(num_classes > 0, "model spec '{}': num_classes must be > 0, got {}", name,
                    num_classes);
  check<UsageError>(max_instances > 0, "model spec '{}': max_instances must be > 0, got {}", name,
                    max_instances);
  check<UsageError>(options.is_object(), "model spec '{}': options must be a JSON object, got {}",
                    name, options.dump());
}

core::Json ModelSpec::to_json() const {
  return core::Json{{"name", name},
                    {"input_dim", input_dim},
                    {"num_classes", num_classes},
                    {"max_instances", max_instances},
                    {"options", options}};
}

ModelSpec ModelSpec::from_json(const core::Json& j) {
  check(j.is_object(), "model spec: expected a JSON object, got {}", j.dump());
  ModelSpec s;
  for (const auto& item : j.items()) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& key = item.key();
    const core::Json& value = item.value();
    const auto want_int = [&](std::int64_t& out) {
      check(value.is_number_integer(), "model spec: '{}' must be an integer, got {}", key,
            value.dump());
      out = value.get<std::int64_t>();
    };
    if (key == "name") {
      check(value.is_string(), "model spec: 'name' must be a string, got {}", value.dump());
      s.name = value.get<std::string>();
    } else if (key == "input_dim") {
      want_int(s.input_dim);
    } else if (key == "num_classes") {
      want_int(s.num_classes);
    } else if (key == "max_instances") {
      want_int(s.max_instances);
    } else if (key == "options") {
      check(value.is_object(), "model spec: 'options' must be an object, got {}", value.dump());
      s.options = value;
    } else {
      fail("model spec: unknown key '{}'", key);
    }
  }
  check(!s.name.empty(), "model spec: missing 'name' in {}", j.dump());
  return s;
}

OptionReader::OptionReader(std::string model, const core::Json& options)
    : model_(std::move(model)), options_(options) {
  check<UsageError>(options_.is_object() || options_.is_null(),
                    "model '{}': options must be a JSON object, got {}", model_, options_.dump());
  if (options_.is_null()) options_ = core::Json::object();
}

const core::Json* OptionReader::find(const std::string& key) {
  read_.insert(key);
  const auto it = options_.find(key);
  return it == options_.end() ? nullptr : &*it;
}

double OptionReader::number(const std::string& key, double def, double lo, double hi) {
  const core::Json* v = find(key);
  if (!v) return def;
  check<UsageError>(v->is_number(), "model '{}': option '{}' must be a number, got {}", model_, key,
                    v->dump());
  const double x = v->get<double>();
  check<UsageError>(std::isfinite(x) && x >= lo && x <= hi,
                    "model '{}': option '{}' = {} is outside [{}, {}]", model_, key, x, lo, hi);
  return x;
}

std::int64_t OptionReader::integer(const std::string& key, std::int64_t def, std::int64_t lo,
                                   std::int64_t hi) {
  const core::Json* v = find(key);
  if (!v) return def;
  check<UsageError>(v->is_number_integer(), "model '{}': option '{}' must be an integer, got {}",
                    model_, key, v->dump());
  const auto x = v->get<std::int64_t>();
  check<UsageError>(x >= lo && x <= hi, "model '{}': option '{}' = {} is outside [{}, {}]", model_,
                    key, x, lo, hi);
  return x;
}

std::vector<std::int64_t> OptionReader::integer_list(const std::string& key,
                                                     std::vector<std::int64_t> def, std::int64_t lo,
                                                     std::int64_t hi) {
  const core::Json* v = find(key);
  if (!v) return def;
  check<UsageError>(v->is_array() && !v->empty(),
                    "model '{}': option '{}' must be a non-empty list of integers, got {}", model_,
                    key, v->dump());
  std::vector<std::int64_t> out;
  for (const auto& e : *v) {
    check<UsageError>(e.is_number_integer(),
                      "model '{}': option '{}' must be a list of integers, got {}", model_, key,
                      v->dump());
    const auto x = e.get<std::int64_t>();
    check<UsageError>(x >= lo && x <= hi, "model '{}': option '{}' has {} outside [{}, {}]", model_,
                      key, x, lo, hi);
    out.push_back(x);
  }
  return out;
}

std::string OptionReader::string(const std::string& key, const std::string& def) {
  const core::Json* v = find(key);
  if (!v) return def;
  check<UsageError>(v->is_string(), "model '{}': option '{}' must be a string, got {}", model_,
                    key, v->dump());
  return v->get<std::string>();
}

std::string OptionReader::choice(const std::string& key, const std::string& def,
                                 const std::vector<std::string>& allowed) {
  const std::string s = string(key, def);
  for (const auto& a : allowed)
    if (s == a) return s;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
  fail<UsageError>("model '{}': option '{}' = '{}' is not one of {}", model_, key, s, list);
}

std::vector<std::vector<double>> OptionReader::number_matrix(const std::string& key) {
  const core::Json* v = find(key);
  if (!v) return {};
  check<UsageError>(v->is_array() && !v->empty(),
                    "model '{}': option '{}' must be a non-empty list of rows", model_, key);
  std::vector<std::vector<double>> out;
  for (const auto& row : *v) {
    check<UsageError>(row.is_array() && !row.empty(),
                      "model '{}': option '{}': every row must be a non-empty list of numbers",
                      model_, key);
    std::vector<double> r;
    for (const auto& e : row) {
      check<UsageError>(e.is_number() && std::isfinite(e.get<double>()),
                        "model '{}': option '{}' holds {} (finite numbers only)", model_, key,
                        e.dump());
      r.push_back(e.get<double>());
    }
    check<UsageError>(out.empty() || r.size() == out.front().size(),
                      "model '{}': option '{}': rows differ in length ({} and {})", model_, key,
                      out.empty() ? 0 : out.front().size(), r.size());
    out.push_back(std::move(r));
  }
  return out;
}

bool OptionReader::has(const std::string& key) { return find(key) != nullptr; }

void OptionReader::finish() const {
  for (const auto& [key, value] : options_.items()) {
    if (read_.count(key) > 0) continue;
    std::string known;
    for (const auto& k : read_) known += (known.empty() ? "" : ", ") + k;
    fail<UsageError>("model '{}': unknown option '{}' (= {}); valid options: {}", model_, key,
                     value.dump(), known.empty() ? "none" : known);
  }
}

}  // namespace tutti::models
