// The OpenAPI 3.0 description of the service, served at /openapi.json (docs/serve.md shows the
// same routes for people).
#pragma once

#include "tutti/core/json.h"

namespace tutti::serve {

// `model` (what GET /v1/model answers) names the classes in the description's examples.
core::Json openapi_json(const core::Json& model);

}  // namespace tutti::serve
