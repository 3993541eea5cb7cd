// Counters of the service in the Prometheus text format (version 0.0.4):
//   tutti_http_requests_total{route,status}       counter
//   tutti_http_request_duration_seconds{le}        histogram (all routes)
//   tutti_audio_seconds_total                      counter: audio analysed by /v1/tag
//   tutti_requests_in_flight, tutti_queue_length   gauges (read from the admission at render)
// Routes are the server's own (anything else counts as "other"), so that a scan of random URLs
// cannot grow the table. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace tutti::serve {

class Metrics {
 public:
  static constexpr std::array<double, 12> kBucketsS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                       0.5,   1,    2.5,   5,    10,  30};

  void record(const std::string& route, int status, double seconds);
  void add_audio_seconds(double s);
  std::string render(int in_flight, int queue_length) const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, std::uint64_t> requests_;
  std::array<std::uint64_t, kBucketsS.size()> buckets_{};  // non-cumulative counts
  std::uint64_t count_ = 0;
  double sum_s_ = 0, audio_s_ = 0;
};

}  // namespace tutti::serve
