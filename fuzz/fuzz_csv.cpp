// libFuzzer target: arbitrary text through the RFC 4180 CSV reader and the OpenMIC aggregated
// labels parser built on it. tutti::Error is an expected rejection; crashes, sanitizer reports
// and other exceptions are bugs. Seeds: tests/fixtures/fuzz/fuzz_csv/.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tutti/core/error.h"
#include "tutti/data/csv.h"
#include "tutti/data/openmic.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto rows = tutti::data::parse_csv(text, "fuzz");
    std::int64_t last = 0;
    for (const auto& r : rows) {
      if (r.line <= last || r.fields.empty()) std::abort();  // lines increase, rows are non-empty
      last = r.line;
    }
  } catch (const tutti::Error&) {
  }
  try {
    for (const auto& l : tutti::data::parse_aggregated_labels(text, "fuzz"))
      if (!(l.relevance >= 0.0f && l.relevance <= 1.0f)) std::abort();
  } catch (const tutti::Error&) {
  }
  return 0;
}
