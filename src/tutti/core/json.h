// nlohmann::json plus file helpers whose errors name the file.
#pragma once

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace tutti::core {

using Json = nlohmann::json;

// A number, or null for NaN (JSON has no NaN; undefined metrics are written as null).
inline Json number_or_null(double v) { return std::isnan(v) ? Json(nullptr) : Json(v); }

// Parses a JSON file; throws tutti::Error "<file>: invalid JSON: <what>" on failure.
Json read_json_file(const std::filesystem::path& path);
// Writes pretty-printed JSON atomically.
void write_json_file(const std::filesystem::path& path, const Json& j);

}  // namespace tutti::core
