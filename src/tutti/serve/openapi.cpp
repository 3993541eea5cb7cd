#include "tutti/serve/openapi.h"

namespace tutti::serve {
namespace {

core::Json error_response(const char* what) {
  return {
      {"description", what},
      {"content", {{"application/json", {{"schema", {{"$ref", "#/components/schemas/Error"}}}}}}}};
}

core::Json json_response(const char* what) {
  return {{"description", what},
          {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
}

}  // namespace

core::Json openapi_json(const core::Json& model) {
  const core::Json seconds = {{"type", "number"}, {"minimum", 0}};
  core::Json tag = {
      {"summary", "Tag one audio file: instruments, probabilities, thresholds, timeline, segments"},
      {"description",
       "The body is the audio file itself (any format tutti decodes) or a multipart/form-data "
       "upload whose part 'file' holds it. The JSON answer is what `tutti tag --json` prints for "
       "the file; tsv is `tutti tag --csv` with tabs; events lists the segments."},
      {"parameters",
       core::Json::array(
           {{{"name", "start"},
             {"in", "query"},
             {"schema", seconds},
             {"description", "Seconds skipped at the start (times in the answer start there)"}},
            {{"name", "duration"},
             {"in", "query"},
             {"schema", seconds},
             {"description", "Seconds analysed from start (default: to the end)"}},
            {{"name", "format"},
             {"in", "query"},
             {"schema", {{"type", "string"}, {"enum", {"json", "tsv", "events"}}}}}})},
      {"requestBody",
       {{"required", true},
        {"content",
         {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
          {"multipart/form-data",
           {{"schema",
             {{"type", "object"},
              {"properties", {{"file", {{"type", "string"}, {"format", "binary"}}}}}}}}}}}}},
      {"responses",
       {{"200", json_response("Tags (or TSV for format=tsv|events)")},
        {"400", error_response("Bad parameter, empty body, or audio that does not decode")},
        {"408", error_response("Upload not complete within the time limit")},
        {"413", error_response("Upload above the size limit (refused before it is read)")},
        {"503", error_response("Queue full or no worker within the time limit; see Retry-After")},
        {"504", error_response("Tagging took longer than the time limit")}}}};
  core::Json predict = {
      {"summary", "Score bags of embeddings"},
      {"description",
       "Body: an .npz bag dataset (as `tutti embed` writes), an .npy array X of shape (N, K, D) "
       "or (K, D), or JSON {\"bags\": [[[D numbers] per instance] per bag]}. Features are uint8 "
       "(integers 0..255) for models trained on embedder output."},
      {"requestBody",
       {{"required", true},
        {"content",
         {{"application/octet-stream", {{"schema", {{"type", "string"}, {"format", "binary"}}}}},
          {"application/json", {{"schema", {{"type", "object"}}}}}}}}},
      {"responses",
       {{"200", json_response("{classes, keys, scores: [N][C]}")},
        {"400", error_response("Body that is not a bag array of the model's dimension")},
        {"413", error_response("Body above the size limit")},
        {"503", error_response("Queue full; see Retry-After")}}}};
  auto get = [](const char* summary, core::Json responses) {
    return core::Json{{"get", {{"summary", summary}, {"responses", std::move(responses)}}}};
  };
  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "tutti serve"},
            {"version", TUTTI_VERSION},
            {"description", "Which instruments play in a piece of music, and when. Model: " +
                                model.value("file", std::string()) + " (" +
                                model.value("model", std::string()) + ")"}}},
          {"paths",
           {{"/v1/tag", {{"post", tag}}},
            {"/v1/predict", {{"post", predict}}},
            {"/v1/model", get("Classes, thresholds, embedder, training data and scores",
                              {{"200", json_response("The model card")}})},
            {"/healthz", get("The process is up", {{"200", json_response("{status: ok}")}})},
            {"/readyz", get("The model is loaded and the server accepts work",
                            {{"200", json_response("{status: ready}")},
                             {"503", error_response("Shutting down")}})},
            {"/metrics",
             get("Prometheus text format", {{"200", {{"description", "Counters and gauges"}}}})},
            {"/openapi.json", get("This description", {{"200", json_response("OpenAPI 3.0")}})}}},
          {"components",
           {{"schemas",
             {{"Error",
               {{"type", "object"},
                {"properties",
                 {{"error", {{"type", "string"}}}, {"status", {{"type", "integer"}}}}}}}}}}}};
}

}  // namespace tutti::serve
