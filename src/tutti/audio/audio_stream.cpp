#include "tutti/audio/audio_stream.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>

#include "tutti/core/error.h"

namespace tutti::audio {
namespace {
constexpr std::size_t kDecodeBlockFrames = 16384;  // ~0.37 s at 44.1 kHz
}

AudioStream::AudioStream(const std::filesystem::path& path, int sample_rate_hz)
    : decoder_([&] {
        check<UsageError>(sample_rate_hz > 0,
                          "audio: {}: target sample rate {} Hz must be positive", path.string(),
                          sample_rate_hz);
        return Decoder::open(path);
      }()),
      resampler_(decoder_->info().sample_rate_hz, sample_rate_hz),
      sample_rate_hz_(sample_rate_hz),
      mono_(kDecodeBlockFrames) {}

bool AudioStream::refill() {
  if (ended_) return false;
  pending_.clear();
  pending_pos_ = 0;
  while (pending_.empty()) {
    const std::size_t n = decoder_->read_mono(mono_);
    if (n == 0) {
      resampler_.flush(pending_);
      ended_ = true;
      return !pending_.empty();
    }
    resampler_.process(std::span<const float>(mono_).first(n), pending_);
  }
  return true;
}

std::size_t AudioStream::seek_before(std::size_t sample) {
  check(!started_, "audio: {}: seek after reading", path().string());
  const auto out_rate = static_cast<std::int64_t>(sample_rate_hz_);
  const auto in_rate = static_cast<std::int64_t>(decoder_->info().sample_rate_hz);
  const std::int64_t preroll = out_rate;  // one second of output
  const auto target = static_cast<std::int64_t>(sample);
  if (target <= 2 * preroll) return 0;  // too close to the start to gain anything
  // Native frames and output samples coincide every in_rate / g frames (out_rate / g samples).
  const std::int64_t g = std::gcd(in_rate, out_rate);
  const std::int64_t steps = (target - preroll) / (out_rate / g);
  if (!decoder_->seek(steps * (in_rate / g))) return 0;
  return static_cast<std::size_t>(steps * (out_rate / g));
}

std::size_t AudioStream::read(std::span<float> out) {
  started_ = true;
  std::size_t written = 0;
  while (written < out.size()) {
    if (pending_pos_ == pending_.size() && !refill()) break;
    const std::size_t n = std::min(out.size() - written, pending_.size() - pending_pos_);
    std::copy_n(pending_.begin() + static_cast<std::ptrdiff_t>(pending_pos_), n,
                out.begin() + static_cast<std::ptrdiff_t>(written));
    pending_pos_ += n;
    written += n;
  }
  return written;
}

std::vector<float> load_mono(const std::filesystem::path& path, int sample_rate_hz) {
  AudioStream stream(path, sample_rate_hz);
  std::vector<float> wave;
  const auto& info = stream.source_info();
  if (info.frames > 0 && info.frames < (std::int64_t{1} << 26))
    wave.reserve(static_cast<std::size_t>(std::ceil(static_cast<double>(info.frames) *
                                                    sample_rate_hz / info.sample_rate_hz)) +
                 16);
  std::vector<float> block(1 << 16);
  while (const std::size_t n = stream.read(block))
    wave.insert(wave.end(), block.begin(), block.begin() + static_cast<std::ptrdiff_t>(n));
  return wave;
}

}  // namespace tutti::audio
