// Reference: tensorflow/models, research/audioset/vggish/mel_features.py (frame, periodic_hann,
// stft_magnitude, hertz_to_mel, spectrogram_to_mel_matrix, log_mel_spectrogram) and
// vggish_input.py (waveform_to_examples). The reference computes in float64; this code computes
// the spectrum in float32 (FFTW), which moves the log-mel values by about 1e-5.
#include "tutti/features/log_mel.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>
#include <string>

#include "tutti/core/error.h"

namespace tutti::features {
namespace {

// FFTW's planner (plan creation and destruction) is not thread-safe; fftwf_execute is.
std::mutex& fftw_planner_mutex() {
  static std::mutex m;
  return m;
}

// mel_features.hertz_to_mel: the HTK mel scale.
double hertz_to_mel(double hz) { return 1127.0 * std::log(1.0 + hz / 700.0); }

// numpy.linspace(start, stop, num)[i] (numpy computes start + i * step and pins the last value).
double linspace(double start, double stop, int num, int i) {
  if (i == num - 1) return stop;
  return start + i * ((stop - start) / (num - 1));
}

}  // namespace

// --- LogMelConfig --------------------------------------------------------------------------------

void LogMelConfig::validate() const {
  auto bad = [](const char* field, auto value, const char* why) {
    fail<UsageError>("log-mel config: {} = {}: {}", field, value, why);
  };
  if (sample_rate_hz <= 0) bad("sample_rate_hz", sample_rate_hz, "must be positive");
  if (window_length_samples <= 0)
    bad("window_length_samples", window_length_samples, "must be positive");
  if (hop_length_samples <= 0 || hop_length_samples > window_length_samples)
    bad("hop_length_samples", hop_length_samples, "must be in 1..window_length_samples");
  if (fft_length < window_length_samples || fft_length % 2 != 0)
    bad("fft_length", fft_length, "must be even and at least window_length_samples");
  if (num_mel_bins <= 0) bad("num_mel_bins", num_mel_bins, "must be positive");
  if (!(lower_edge_hz >= 0.0)) bad("lower_edge_hz", lower_edge_hz, "must be >= 0");
  if (!(upper_edge_hz > lower_edge_hz))
    bad("upper_edge_hz", upper_edge_hz, "must be above lower_edge_hz");
  if (upper_edge_hz > sample_rate_hz / 2.0)
    bad("upper_edge_hz", upper_edge_hz, "must not exceed the Nyquist frequency");
  if (!(log_offset > 0.0) || !std::isfinite(log_offset))
    bad("log_offset", log_offset, "must be positive");
  if (example_frames <= 0) bad("example_frames", example_frames, "must be positive");
  if (example_hop_frames <= 0 || example_hop_frames > example_frames)
    bad("example_hop_frames", example_hop_frames, "must be in 1..example_frames");
}

core::Json LogMelConfig::to_json() const {
  return core::Json{{"sample_rate_hz", sample_rate_hz},
                    {"window_length_samples", window_length_samples},
                    {"hop_length_samples", hop_length_samples},
                    {"fft_length", fft_length},
                    {"num_mel_bins", num_mel_bins},
                    {"lower_edge_hz", lower_edge_hz},
                    {"upper_edge_hz", upper_edge_hz},
                    {"log_offset", log_offset},
                    {"example_frames", example_frames},
                    {"example_hop_frames", example_hop_frames}};
}

LogMelConfig LogMelConfig::from_json(const core::Json& j) {
  check<UsageError>(j.is_object(), "log-mel config: expected a JSON object, got {}", j.dump());
  LogMelConfig c;
  for (const auto& [key, value] : j.items()) {
    try {
      if (key == "sample_rate_hz")
        c.sample_rate_hz = value.get<int>();
      else if (key == "window_length_samples")
        c.window_length_samples = value.get<int>();
      else if (key == "hop_length_samples")
        c.hop_length_samples = value.get<int>();
      else if (key == "fft_length")
        c.fft_length = value.get<int>();
      else if (key == "num_mel_bins")
        c.num_mel_bins = value.get<int>();
      else if (key == "lower_edge_hz")
        c.lower_edge_hz = value.get<double>();
      else if (key == "upper_edge_hz")
        c.upper_edge_hz = value.get<double>();
      else if (key == "log_offset")
        c.log_offset = value.get<double>();
      else if (key == "example_frames")
        c.example_frames = value.get<int>();
      else if (key == "example_hop_frames")
        c.example_hop_frames = value.get<int>();
      else
        fail<UsageError>("log-mel config: unknown key '{}'", key);
    } catch (const core::Json::exception&) {
      fail<UsageError>("log-mel config: {} = {}: wrong type", key, value.dump());
    }
  }
  c.validate();
  return c;
}

std::size_t num_frames(const LogMelConfig& config, std::size_t num_samples) {
  const auto w = static_cast<std::size_t>(config.window_length_samples);
  const auto h = static_cast<std::size_t>(config.hop_length_samples);
  return num_samples < w ? 0 : 1 + (num_samples - w) / h;
}

std::size_t num_examples(const LogMelConfig& config, std::size_t num_samples) {
  const std::size_t frames = num_frames(config, num_samples);
  const auto f = static_cast<std::size_t>(config.example_frames);
  const auto h = static_cast<std::size_t>(config.example_hop_frames);
  return frames < f ? 0 : 1 + (frames - f) / h;
}

std::vector<double> mel_weight_matrix(const LogMelConfig& config) {
  config.validate();
  const int bins = config.num_spectrogram_bins();
  const int mels = config.num_mel_bins;
  const double nyquist_hz = config.sample_rate_hz / 2.0;
  std::vector<double> bin_mel(bins);
  for (int k = 0; k < bins; ++k) bin_mel[k] = hertz_to_mel(linspace(0.0, nyquist_hz, bins, k));
  const double lo = hertz_to_mel(config.lower_edge_hz);
  const double hi = hertz_to_mel(config.upper_edge_hz);
  std::vector<double> w(static_cast<std::size_t>(bins) * mels, 0.0);
  for (int i = 0; i < mels; ++i) {
    const double lower = linspace(lo, hi, mels + 2, i);
    const double center = linspace(lo, hi, mels + 2, i + 1);
    const double upper = linspace(lo, hi, mels + 2, i + 2);
    for (int k = 1; k < bins; ++k) {  // k = 0: the reference zeroes the DC row
      const double lower_slope = (bin_mel[k] - lower) / (center - lower);
      const double upper_slope = (upper - bin_mel[k]) / (upper - center);
      w[static_cast<std::size_t>(k) * mels + i] = std::max(0.0, std::min(lower_slope, upper_slope));
    }
  }
  return w;
}

// --- LogMelFramer --------------------------------------------------------------------------------

struct LogMelFramer::Fft {
  struct FloatFree {
    void operator()(float* p) const { fftwf_free(p); }
  };
  struct ComplexFree {
    void operator()(fftwf_complex* p) const { fftwf_free(p); }
  };
  std::unique_ptr<float, FloatFree> in;
  std::unique_ptr<fftwf_complex, ComplexFree> out;
  fftwf_plan plan = nullptr;

  explicit Fft(int n) {
    in.reset(static_cast<float*>(fftwf_malloc(sizeof(float) * n)));
    out.reset(static_cast<fftwf_complex*>(fftwf_malloc(sizeof(fftwf_complex) * (n / 2 + 1))));
    check(in && out, "log-mel: out of memory for an FFT of {} points", n);
    std::lock_guard lock(fftw_planner_mutex());
    plan = fftwf_plan_dft_r2c_1d(n, in.get(), out.get(), FFTW_ESTIMATE);
    check(plan != nullptr, "log-mel: FFTW could not plan a real FFT of {} points", n);
  }
  ~Fft() {
    std::lock_guard lock(fftw_planner_mutex());
    fftwf_destroy_plan(plan);
  }
  Fft(const Fft&) = delete;
  Fft& operator=(const Fft&) = delete;
};

LogMelFramer::LogMelFramer(const LogMelConfig& config) : config_(config) {
  config_.validate();
  fft_ = std::make_unique<Fft>(config_.fft_length);
  std::fill_n(fft_->in.get(), config_.fft_length, 0.0f);  // the zero padding stays zero

  // mel_features.periodic_hann: 0.5 - 0.5 cos(2 pi n / N), n = 0..N-1.
  const int n = config_.window_length_samples;
  window_.resize(n);
  for (int i = 0; i < n; ++i)
    window_[i] = static_cast<float>(0.5 - 0.5 * std::cos(2.0 * std::numbers::pi / n * i));

  const int bins = config_.num_spectrogram_bins();
  const int mels = config_.num_mel_bins;
  magnitude_.resize(bins);
  const auto w = mel_weight_matrix(config_);
  band_first_.resize(mels);
  band_offset_.resize(mels + 1);
  for (int b = 0; b < mels; ++b) {
    int first = bins, last = -1;
    for (int k = 0; k < bins; ++k) {
      if (w[static_cast<std::size_t>(k) * mels + b] > 0.0) {
        first = std::min(first, k);
        last = k;
      }
    }
    band_offset_[b] = static_cast<int>(band_weights_.size());
    if (last < 0) {  // a band narrower than one bin: no weight at all (as in the reference)
      band_first_[b] = 0;
      continue;
    }
    band_first_[b] = first;
    for (int k = first; k <= last; ++k)
      band_weights_.push_back(static_cast<float>(w[static_cast<std::size_t>(k) * mels + b]));
  }
  band_offset_[mels] = static_cast<int>(band_weights_.size());
}

LogMelFramer::~LogMelFramer() = default;

void LogMelFramer::compute(std::span<const float> frame, std::span<float> out) {
  const int n = config_.window_length_samples;
  float* in = fft_->in.get();
  for (int i = 0; i < n; ++i) in[i] = frame[i] * window_[i];
  fftwf_execute(fft_->plan);
  const fftwf_complex* spec = fft_->out.get();
  const int bins = config_.num_spectrogram_bins();
  for (int k = 0; k < bins; ++k)
    magnitude_[k] = std::sqrt(spec[k][0] * spec[k][0] + spec[k][1] * spec[k][1]);
  const float offset = static_cast<float>(config_.log_offset);
  for (int b = 0; b < config_.num_mel_bins; ++b) {
    const float* w = band_weights_.data() + band_offset_[b];
    const float* m = magnitude_.data() + band_first_[b];
    const int count = band_offset_[b + 1] - band_offset_[b];
    float sum = 0.0f;
    for (int k = 0; k < count; ++k) sum += w[k] * m[k];
    out[b] = std::log(sum + offset);
  }
}

// --- LogMelStream --------------------------------------------------------------------------------

LogMelStream::LogMelStream(const LogMelConfig& config) : framer_(config) {}

void LogMelStream::reset() {
  samples_.clear();
  frames_.clear();
  samples_pushed_ = 0;
  frames_computed_ = 0;
}

std::size_t LogMelStream::push(std::span<const float> samples, std::vector<float>& examples_out) {
  const auto& c = framer_.config();
  const auto window = static_cast<std::size_t>(c.window_length_samples);
  const auto hop = static_cast<std::size_t>(c.hop_length_samples);
  const auto mels = static_cast<std::size_t>(c.num_mel_bins);
  samples_pushed_ += samples.size();
  samples_.insert(samples_.end(), samples.begin(), samples.end());

  // Every complete frame: hop <= window (validated), so consumed samples never run ahead.
  std::size_t pos = 0;
  for (; samples_.size() - pos >= window; pos += hop) {
    frames_.resize(frames_.size() + mels);
    framer_.compute(std::span<const float>(samples_).subspan(pos, window),
                    std::span<float>(frames_).last(mels));
    ++frames_computed_;
  }
  samples_.erase(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(pos));

  // Every complete example; example_hop_frames <= example_frames (validated).
  const std::size_t example_size = c.example_size();
  const std::size_t example_hop = static_cast<std::size_t>(c.example_hop_frames) * mels;
  std::size_t emitted = 0;
  std::size_t start = 0;
  for (; frames_.size() - start >= example_size; start += example_hop, ++emitted)
    examples_out.insert(examples_out.end(), frames_.begin() + static_cast<std::ptrdiff_t>(start),
                        frames_.begin() + static_cast<std::ptrdiff_t>(start + example_size));
  frames_.erase(frames_.begin(), frames_.begin() + static_cast<std::ptrdiff_t>(start));
  return emitted;
}

// --- LogMelFrontEnd ------------------------------------------------------------------------------

LogMelFrontEnd::LogMelFrontEnd(const LogMelConfig& config) : framer_(config) {}

std::vector<float> LogMelFrontEnd::log_mel(std::span<const float> wave) {
  const auto& c = framer_.config();
  const std::size_t frames = num_frames(c, wave.size());
  const auto mels = static_cast<std::size_t>(c.num_mel_bins);
  std::vector<float> out(frames * mels);
  for (std::size_t f = 0; f < frames; ++f)
    framer_.compute(wave.subspan(f * static_cast<std::size_t>(c.hop_length_samples),
                                 static_cast<std::size_t>(c.window_length_samples)),
                    std::span<float>(out).subspan(f * mels, mels));
  return out;
}

std::vector<float> LogMelFrontEnd::examples(std::span<const float> wave) {
  const auto& c = framer_.config();
  const std::size_t n = num_examples(c, wave.size());
  if (n == 0) return {};
  // Only the frames the examples use (mel_features.frame drops the rest).
  const std::size_t used_frames = (n - 1) * static_cast<std::size_t>(c.example_hop_frames) +
                                  static_cast<std::size_t>(c.example_frames);
  const std::size_t used_samples =
      (used_frames - 1) * static_cast<std::size_t>(c.hop_length_samples) +
      static_cast<std::size_t>(c.window_length_samples);
  const auto spec = log_mel(wave.first(used_samples));
  const std::size_t example_size = c.example_size();
  const std::size_t example_hop = static_cast<std::size_t>(c.example_hop_frames) * c.num_mel_bins;
  std::vector<float> out(n * example_size);
  for (std::size_t e = 0; e < n; ++e)
    std::copy_n(spec.begin() + static_cast<std::ptrdiff_t>(e * example_hop), example_size,
                out.begin() + static_cast<std::ptrdiff_t>(e * example_size));
  return out;
}

}  // namespace tutti::features
