// The page served at / (src/tutti/serve/web/*), compiled into the program by CMake
// (cmake/embed_web_assets.cmake turns each file into a byte array): the service works offline and
// never reads its page from disk.
#pragma once

#include <string_view>

namespace tutti::serve {

struct WebAsset {
  std::string_view path;          // URL path, e.g. "/app.js" ("/" for index.html)
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view body;
};

// The asset served at `path`, or nullptr.
const WebAsset* find_web_asset(std::string_view path);

}  // namespace tutti::serve
