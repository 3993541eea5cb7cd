#include "tutti/audio/resampler.h"

#include <soxr.h>

#include <algorithm>
#include <cmath>

#include "tutti/core/error.h"

namespace tutti::audio {

void Resampler::SoxrDeleter::operator()(soxr* p) const { soxr_delete(p); }

Resampler::Resampler(double input_rate_hz, double output_rate_hz)
    : input_rate_hz_(input_rate_hz), output_rate_hz_(output_rate_hz) {
  check<UsageError>(input_rate_hz > 0 && std::isfinite(input_rate_hz),
                    "resampler: input rate {} Hz must be positive", input_rate_hz);
  check<UsageError>(output_rate_hz > 0 && std::isfinite(output_rate_hz),
                    "resampler: output rate {} Hz must be positive", output_rate_hz);
  if (input_rate_hz == output_rate_hz) return;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_VHQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  soxr_error_t err = nullptr;
  soxr_.reset(soxr_create(input_rate_hz, output_rate_hz, 1, &err, &io, &quality, &runtime));
  check(err == nullptr && soxr_ != nullptr, "resampler: soxr_create({} -> {} Hz) failed: {}",
        input_rate_hz, output_rate_hz, err ? err : "unknown error");
}

Resampler::~Resampler() = default;
Resampler::Resampler(Resampler&&) noexcept = default;
Resampler& Resampler::operator=(Resampler&&) noexcept = default;

void Resampler::process(std::span<const float> input, std::vector<float>& out) {
  check(!flushed_, "resampler: process() after flush()");
  if (input.empty()) return;
  if (!soxr_) {
    out.insert(out.end(), input.begin(), input.end());
    return;
  }
  run(input.data(), input.size(), out);
}

void Resampler::flush(std::vector<float>& out) {
  if (flushed_) return;
  flushed_ = true;
  if (soxr_) run(nullptr, 0, out);
}

// Feeds `n` samples (input == nullptr: end of input) and drains every output soxr produces.
void Resampler::run(const float* input, std::size_t n, std::vector<float>& out) {
  const double ratio = output_rate_hz_ / input_rate_hz_;
  std::size_t consumed = 0;
  while (true) {
    const std::size_t remaining = n - consumed;
    const std::size_t room =
        std::max<std::size_t>(1024, static_cast<std::size_t>(std::ceil(remaining * ratio)) + 64);
    const std::size_t old_size = out.size();
    out.resize(old_size + room);
    std::size_t idone = 0;
    std::size_t odone = 0;
    const soxr_error_t err = soxr_process(soxr_.get(), input ? input + consumed : nullptr,
                                          remaining, &idone, out.data() + old_size, room, &odone);
    out.resize(old_size + odone);
    check(err == nullptr, "resampler: soxr_process failed: {}", err ? err : "");
    consumed += idone;
    // Input case: done when every sample is taken and soxr had room to spare. Flush case: done
    // when soxr has nothing more to give.
    if (input ? (consumed == n && odone < room) : odone == 0) break;
  }
}

std::vector<float> resample(std::span<const float> input, double input_rate_hz,
                            double output_rate_hz) {
  Resampler rs(input_rate_hz, output_rate_hz);
  std::vector<float> out;
  out.reserve(static_cast<std::size_t>(
                  std::ceil(static_cast<double>(input.size()) * output_rate_hz / input_rate_hz)) +
              16);
  rs.process(input, out);
  rs.flush(out);
  return out;
}

}  // namespace tutti::audio
