// A progress bar for long work, drawn on stderr only when stderr is a terminal and CI is unset
// (never in pipes, logs or CI output). Thread-safe: workers call advance() concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace tutti::core {

class Progress {
 public:
  // `total` units of work (0 = unknown); `label` is printed before the bar.
  Progress(std::string label, std::int64_t total);
  ~Progress();  // finishes the line
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::int64_t n = 1);
  // Free text shown after the counts (e.g. "loss 0.213 val mAP 0.61").
  void set_status(std::string status);
  void finish();

  // True when bars are drawn (stderr is a TTY and $CI is not set). Overridable for tests.
  static bool enabled();
  static void force_enabled(bool on);

 private:
  void draw(bool final);

  std::string label_;
  std::int64_t total_;
  std::atomic<std::int64_t> done_{0};
  std::string status_;
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool finished_ = false;
  bool on_;
};

}  // namespace tutti::core
