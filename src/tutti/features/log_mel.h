// The VGGish log-mel front end, bit-for-bit the algorithm of the reference implementation
// (tensorflow/models research/audioset/vggish: mel_features.py + vggish_input.py):
//
//   16 kHz mono float -> frames of 400 samples (25 ms), hop 160 (10 ms), complete frames only
//   -> periodic Hann window -> |rfft| with FFT length 512 (257 bins)
//   -> 64 triangular mel filters, 125..7500 Hz, HTK mel scale (mel = 1127 ln(1 + f / 700)),
//      built on the FFT bin frequencies, DC weight zeroed, no area normalisation
//   -> ln(mel + 0.01)
//   -> examples of 96 frames (0.96 s), hop 96 frames, complete examples only (no padding).
//
//   tutti::features::LogMelFrontEnd fe;                    // VGGish preset
//   std::vector<float> ex = fe.examples(wave16k);          // [n, 96, 64], n = fe.num_examples(...)
//
//   tutti::features::LogMelStream stream;                  // the same, block by block
//   for (block : blocks) stream.push(block, ex_out);       // appends complete examples
//
// Frames: 1 + (n - 400) / 160 (0 when n < 400); examples: frames / 96 (0 when a clip is shorter
// than 0.96 s + 0.015 s; the caller reports that, nothing here throws for short input).
// The FFT is FFTW (single precision, real-to-complex); plans are made once per object under a
// global mutex (FFTW's planner is not thread-safe), so use one object per thread.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <vector>

#include "tutti/core/json.h"

namespace tutti::features {

struct LogMelConfig {
  int sample_rate_hz = 16000;       // input rate (vggish_params.SAMPLE_RATE)
  int window_length_samples = 400;  // round(0.025 s * 16 kHz)
  int hop_length_samples = 160;     // round(0.010 s * 16 kHz); <= window_length_samples
  int fft_length = 512;             // 2^ceil(log2(window)); must be >= window_length_samples
  int num_mel_bins = 64;
  double lower_edge_hz = 125.0;
  double upper_edge_hz = 7500.0;  // must not exceed sample_rate_hz / 2
  double log_offset = 0.01;       // ln(mel + log_offset); > 0
  int example_frames = 96;        // 0.96 s at 100 frames/s
  int example_hop_frames = 96;    // no overlap between examples; <= example_frames

  int num_spectrogram_bins() const { return fft_length / 2 + 1; }
  std::size_t example_size() const {
    return static_cast<std::size_t>(example_frames) * static_cast<std::size_t>(num_mel_bins);
  }
  // Throws tutti::UsageError "log-mel config: <field> = <value>: <why>".
  void validate() const;
  core::Json to_json() const;
  // Missing keys keep the defaults; unknown keys are rejected (UsageError).
  static LogMelConfig from_json(const core::Json& j);
};

// Number of complete frames / examples for n samples (0 when too short).
std::size_t num_frames(const LogMelConfig& config, std::size_t num_samples);
std::size_t num_examples(const LogMelConfig& config, std::size_t num_samples);

// mel_features.spectrogram_to_mel_matrix: [num_spectrogram_bins, num_mel_bins] row-major,
// float64 exactly as the reference computes it.
std::vector<double> mel_weight_matrix(const LogMelConfig& config);

// Log-mel frames one at a time (window, FFT, mel, log). Owns an FFTW plan and its buffers.
class LogMelFramer {
 public:
  explicit LogMelFramer(const LogMelConfig& config = {});
  ~LogMelFramer();
  LogMelFramer(const LogMelFramer&) = delete;
  LogMelFramer& operator=(const LogMelFramer&) = delete;

  const LogMelConfig& config() const { return config_; }
  // frame: window_length_samples samples -> out: num_mel_bins log-mel values.
  void compute(std::span<const float> frame, std::span<float> out);

 private:
  struct Fft;
  LogMelConfig config_;
  std::unique_ptr<Fft> fft_;
  std::vector<float> window_;     // periodic Hann
  std::vector<float> magnitude_;  // |X[k]|, k < num_spectrogram_bins
  // The mel matrix, sparse by band: band b uses bins [band_first_[b], band_first_[b] + n) with
  // weights band_weights_[band_offset_[b] ...].
  std::vector<int> band_first_;
  std::vector<int> band_offset_;
  std::vector<float> band_weights_;
};

// Streaming front end: push blocks of 16 kHz samples of any size; complete examples come out.
// Partial frames and partial examples carry over between pushes, so the output is identical to
// LogMelFrontEnd::examples on the concatenated input, whatever the block sizes.
class LogMelStream {
 public:
  explicit LogMelStream(const LogMelConfig& config = {});

  // Appends every example completed by `samples` to `examples_out` ([k, frames, bins] floats);
  // returns k.
  std::size_t push(std::span<const float> samples, std::vector<float>& examples_out);
  // Forgets all buffered samples and frames (start of a new file).
  void reset();

  const LogMelConfig& config() const { return framer_.config(); }
  std::size_t samples_pushed() const { return samples_pushed_; }
  std::size_t frames_computed() const { return frames_computed_; }

 private:
  LogMelFramer framer_;
  std::vector<float> samples_;  // samples from the start of the next frame on
  std::vector<float> frames_;   // log-mel rows not yet part of an emitted example
  std::size_t samples_pushed_ = 0;
  std::size_t frames_computed_ = 0;
};

// Whole-signal front end.
class LogMelFrontEnd {
 public:
  explicit LogMelFrontEnd(const LogMelConfig& config = {});
  const LogMelConfig& config() const { return framer_.config(); }

  // [num_frames, num_mel_bins] log-mel spectrogram (mel_features.log_mel_spectrogram).
  std::vector<float> log_mel(std::span<const float> wave);
  // [num_examples, example_frames, num_mel_bins] (vggish_input.waveform_to_examples for 16 kHz
  // mono input).
  std::vector<float> examples(std::span<const float> wave);

 private:
  LogMelFramer framer_;
};

}  // namespace tutti::features
