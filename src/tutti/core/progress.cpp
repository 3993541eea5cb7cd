#include "tutti/core/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace tutti::core {

namespace {
int g_forced = -1;  // -1: auto, 0: off, 1: on
}

bool Progress::enabled() {
  if (g_forced >= 0) return g_forced == 1;
  const char* ci = std::getenv("CI");
  if (ci && *ci) return false;
  return ::isatty(STDERR_FILENO) == 1;
}

void Progress::force_enabled(bool on) { g_forced = on ? 1 : 0; }

Progress::Progress(std::string label, std::int64_t total)
    : label_(std::move(label)), total_(total), on_(enabled()) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

Progress::~Progress() { finish(); }

void Progress::advance(std::int64_t n) {
  done_.fetch_add(n);
  if (!on_) return;
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu_);
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::set_status(std::string status) {
  std::lock_guard lock(mu_);
  status_ = std::move(status);
}

void Progress::finish() {
  std::lock_guard lock(mu_);
  if (finished_) return;
  finished_ = true;
  if (on_) draw(true);
}

void Progress::draw(bool final) {
  const auto done = done_.load();
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line;
  if (total_ > 0) {
    constexpr int kWidth = 28;
    const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total_));
    const int filled = static_cast<int>(frac * kWidth);
    const double eta = frac > 0 ? secs / frac - secs : 0.0;
    line = fmt::format("\r{} [{}{}] {}/{} {:3.0f}% {:.1f}s eta {:.0f}s {}", label_,
                       std::string(filled, '#'), std::string(kWidth - filled, '.'), done, total_,
                       frac * 100, secs, eta, status_);
  } else {
    line = fmt::format("\r{} {} {:.1f}s {}", label_, done, secs, status_);
  }
  std::fprintf(stderr, "%s\033[K%s", line.c_str(), final ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace tutti::core
