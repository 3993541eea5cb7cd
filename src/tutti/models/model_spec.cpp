// ModelSpec JSON I/O and option parsing (torch-free).
#include "tutti/models/model_spec.h"

#include "tutti/core/error.h"

namespace tutti::models {

void ModelSpec::validate() const {
  check<UsageError>(!name.empty(), "model spec: empty model name");
  const auto in_range = [&](const char* key, std::int64_t v, std::int64_t max) {
    check<UsageError>(v >= 1 && v <= max, "model spec '{}': {} must be in [1, {}], got {}", name,
                      key, max, v);
  };
  in_range("input_dim", input_dim, kMaxInputDim);
  in_range("num_classes", num_classes, kMaxNumClasses);
  in_range("max_instances", max_instances, kMaxInstances);
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

}  // namespace tutti::models
