#include "tutti/core/json.h"

#include "tutti/core/error.h"
#include "tutti/core/file_io.h"

namespace tutti::core {

Json read_json_file(const std::filesystem::path& path) {
  const std::string text = read_file_text(path);
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    fail("{}: invalid JSON: {}", path.string(), e.what());
  }
}

void write_json_file(const std::filesystem::path& path, const Json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace tutti::core
