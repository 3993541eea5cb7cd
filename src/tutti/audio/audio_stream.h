// Any audio file as a stream of mono float blocks at one sample rate (16 kHz for VGGish), with
// bounded memory: hours-long files never sit in memory.
//
//   tutti::audio::AudioStream stream("long_concert.m4a");       // mono, 16 kHz
//   std::vector<float> block(16000);
//   while (std::size_t n = stream.read(block)) consume(std::span(block).first(n));
//
//   std::vector<float> wave = tutti::audio::load_mono_16k("clip.ogg");  // short files
//
// Pipeline: Decoder (libsndfile / FFmpeg, native rate) -> mean of the channels -> Resampler
// (soxr, SOXR_VHQ; skipped when the file is already at the target rate). Errors as Decoder::open
// and Decoder::read_*: tutti::Error "audio: <path>: <problem>".
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "tutti/audio/decoder.h"
#include "tutti/audio/resampler.h"

namespace tutti::audio {

inline constexpr int kVggishSampleRateHz = 16000;

class AudioStream {
 public:
  explicit AudioStream(const std::filesystem::path& path, int sample_rate_hz = kVggishSampleRateHz);

  // The file as decoded (native rate and channel count, back end, format).
  const AudioInfo& source_info() const { return decoder_->info(); }
  int sample_rate_hz() const { return sample_rate_hz_; }
  const std::filesystem::path& path() const { return decoder_->path(); }
  // Damaged codec frames skipped so far (Decoder::bad_frames).
  std::int64_t bad_frames() const { return decoder_->bad_frames(); }

  // Before the first read: starts the stream at or before output sample `sample` by seeking in
  // the decoder, and returns the output sample it now starts at (0 when it did not seek: short
  // offsets, back ends that cannot seek). The decoder seeks to a native frame one second before
  // `sample` that falls on an output sample, and the caller drops the samples up to `sample`:
  // the resampler starts from silence, and after that second its output is what it gives
  // mid-stream (to float rounding), so the samples are those of reading from the start.
  std::size_t seek_before(std::size_t sample);

  // Fills `out` with up to out.size() mono samples at sample_rate_hz(); returns how many were
  // written; fewer than out.size() only at the end, 0 once everything was delivered.
  std::size_t read(std::span<float> out);

 private:
  bool refill();  // decodes + resamples one more block into pending_; false at the end

  std::unique_ptr<Decoder> decoder_;
  Resampler resampler_;
  int sample_rate_hz_;
  std::vector<float> mono_;     // one decoded block, mixed to mono
  std::vector<float> pending_;  // resampled samples not yet delivered
  std::size_t pending_pos_ = 0;
  bool started_ = false;  // read() was called
  bool ended_ = false;
};

// A whole file, mono, at `sample_rate_hz` (16 kHz for load_mono_16k).
std::vector<float> load_mono(const std::filesystem::path& path, int sample_rate_hz);
inline std::vector<float> load_mono_16k(const std::filesystem::path& path) {
  return load_mono(path, kVggishSampleRateHz);
}

}  // namespace tutti::audio
