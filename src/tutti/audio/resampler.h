// Sample-rate conversion of mono float streams with libsoxr at very high quality (SOXR_VHQ:
// 28-bit precision, 95% linear-phase passband), one thread.
//
//   tutti::audio::Resampler rs(44100, 16000);
//   std::vector<float> out;
//   rs.process(block1, out); rs.process(block2, out); ...; rs.flush(out);
//
// The total output length for n input samples is round(n * out_rate / in_rate) (soxr's own
// accounting). Equal rates pass samples through unchanged.
#pragma once

#include <memory>
#include <span>
#include <vector>

struct soxr;  // libsoxr's handle (soxr_t is `struct soxr*`)

namespace tutti::audio {

class Resampler {
 public:
  // Throws tutti::UsageError when a rate is not positive, tutti::Error when soxr fails.
  Resampler(double input_rate_hz, double output_rate_hz);
  ~Resampler();
  Resampler(Resampler&&) noexcept;
  Resampler& operator=(Resampler&&) noexcept;

  double input_rate_hz() const { return input_rate_hz_; }
  double output_rate_hz() const { return output_rate_hz_; }

  // Appends the output available for `input` to `out` (soxr delays some of it until flush).
  void process(std::span<const float> input, std::vector<float>& out);
  // Signals the end of the input and appends the remaining output. The resampler is then done:
  // process() after flush() throws.
  void flush(std::vector<float>& out);

 private:
  void run(const float* input, std::size_t n, std::vector<float>& out);
  struct SoxrDeleter {
    void operator()(soxr* p) const;
  };
  double input_rate_hz_;
  double output_rate_hz_;
  std::unique_ptr<soxr, SoxrDeleter> soxr_;  // null when the rates are equal (pass-through)
  bool flushed_ = false;
};

// Whole-signal convenience: mono `input` at input_rate_hz -> output_rate_hz.
std::vector<float> resample(std::span<const float> input, double input_rate_hz,
                            double output_rate_hz);

}  // namespace tutti::audio
