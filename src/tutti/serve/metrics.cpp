#include "tutti/serve/metrics.h"

#include <fmt/format.h>

namespace tutti::serve {

void Metrics::record(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  ++count_;
  sum_s_ += seconds;
  for (std::size_t b = 0; b < kBucketsS.size(); ++b)
    if (seconds <= kBucketsS[b]) {
      ++buckets_[b];
      break;
    }
}

void Metrics::add_audio_seconds(double s) {
  std::lock_guard lock(mu_);
  audio_s_ += s;
}

std::string Metrics::render(int in_flight, int queue_length) const {
  std::lock_guard lock(mu_);
  std::string out =
      "# HELP tutti_http_requests_total HTTP requests answered, by route and status.\n"
      "# TYPE tutti_http_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out += fmt::format("tutti_http_requests_total{{route=\"{}\",status=\"{}\"}} {}\n", key.first,
                       key.second, n);
  out +=
      "# HELP tutti_http_request_duration_seconds Time from a request's headers to its answer.\n"
      "# TYPE tutti_http_request_duration_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t b = 0; b < kBucketsS.size(); ++b) {
    cumulative += buckets_[b];
    out += fmt::format("tutti_http_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", kBucketsS[b],
                       cumulative);
  }
  out += fmt::format("tutti_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {}\n", count_);
  out += fmt::format("tutti_http_request_duration_seconds_sum {}\n", sum_s_);
  out += fmt::format("tutti_http_request_duration_seconds_count {}\n", count_);
  out += fmt::format(
      "# HELP tutti_audio_seconds_total Seconds of audio analysed by /v1/tag.\n"
      "# TYPE tutti_audio_seconds_total counter\n"
      "tutti_audio_seconds_total {}\n"
      "# HELP tutti_requests_in_flight Requests admitted and not yet answered.\n"
      "# TYPE tutti_requests_in_flight gauge\n"
      "tutti_requests_in_flight {}\n"
      "# HELP tutti_queue_length Admitted requests not holding a worker (uploading or waiting).\n"
      "# TYPE tutti_queue_length gauge\n"
      "tutti_queue_length {}\n",
      audio_s_, in_flight, queue_length);
  return out;
}

}  // namespace tutti::serve
