#include "tutti/audio/decoder.h"

#include <cmath>
#include <fstream>
#include <system_error>

#include "tutti/audio/backends.h"
#include "tutti/core/error.h"

namespace tutti::audio {
namespace {

// An ID3v2 tag or an MPEG audio frame sync (11 set bits) at the start: an MP3 (or ADTS AAC,
// which libsndfile does not read either). libsndfile would hand MP3 to libmpg123, which prints
// one line to stderr per damaged frame; FFmpeg's log is silenced.
bool looks_like_mp3(const std::filesystem::path& path) {
  unsigned char head[3] = {};
  std::ifstream in(path, std::ios::binary);
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  if (in.gcount() < 2) return false;
  if (in.gcount() == 3 && head[0] == 'I' && head[1] == 'D' && head[2] == '3') return true;
  return head[0] == 0xFF && (head[1] & 0xE0) == 0xE0;
}

}  // namespace

std::unique_ptr<Decoder> Decoder::open(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  check(std::filesystem::exists(status), "audio: {}: no such file", path.string());
  check(std::filesystem::is_regular_file(status), "audio: {}: not a regular file", path.string());
  const auto size = std::filesystem::file_size(path, ec);
  check(!ec, "audio: {}: cannot read the file size: {}", path.string(), ec.message());
  check(size > 0, "audio: {}: the file is empty", path.string());

  if (looks_like_mp3(path)) return detail::open_ffmpeg(path, "MP3 is decoded by FFmpeg");
  std::string sndfile_why;
  if (auto dec = detail::open_sndfile(path, sndfile_why)) return dec;
  return detail::open_ffmpeg(path, sndfile_why);
}

std::size_t first_non_finite(std::span<const float> samples) {
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (!std::isfinite(samples[i])) return i;
  return samples.size();
}

bool Decoder::seek(std::int64_t frame) {
  check(frames_read_ == 0, "audio: {}: seek after reading", path_.string());
  if (frame <= 0 || !seek_frames(frame)) return false;
  frames_read_ = frame;  // error messages give times in the file
  return true;
}

std::size_t Decoder::read_interleaved(std::span<float> out) {
  const std::size_t n = read_frames(out);
  const auto channels = static_cast<std::size_t>(info_.channels);
  const auto block = std::span<const float>(out).first(n * channels);
  if (const std::size_t bad = first_non_finite(block); bad < block.size()) {
    const auto frame = frames_read_ + static_cast<std::int64_t>(bad / channels);
    fail(
        "audio: {}: sample {} of channel {} (at {:.3f} s) is {}: the file holds non-finite "
        "samples",
        path_.string(), frame, bad % channels, static_cast<double>(frame) / info_.sample_rate_hz,
        block[bad]);
  }
  frames_read_ += static_cast<std::int64_t>(n);
  return n;
}

std::size_t Decoder::read_mono(std::span<float> out) {
  const auto channels = static_cast<std::size_t>(info_.channels);
  if (channels == 1) return read_interleaved(out);
  scratch_.resize(out.size() * channels);
  const std::size_t n = read_interleaved(scratch_);
  mix_to_mono(std::span<const float>(scratch_).first(n * channels), info_.channels, out);
  return n;
}

void mix_to_mono(std::span<const float> interleaved, int channels, std::span<float> out) {
  const auto c = static_cast<std::size_t>(channels);
  const std::size_t frames = interleaved.size() / c;
  check(frames <= out.size(), "audio: mix_to_mono: output holds {} frames, need {}", out.size(),
        frames);
  if (c == 2) {  // the common case, kept simple for the vectoriser
    for (std::size_t i = 0; i < frames; ++i)
      out[i] = (interleaved[2 * i] + interleaved[2 * i + 1]) * 0.5f;
    return;
  }
  const float scale = 1.0f / static_cast<float>(c);
  for (std::size_t i = 0; i < frames; ++i) {
    float sum = 0.0f;
    for (std::size_t ch = 0; ch < c; ++ch) sum += interleaved[i * c + ch];
    out[i] = sum * scale;
  }
}

DecodedAudio decode_native(const std::filesystem::path& path) {
  auto dec = Decoder::open(path);
  DecodedAudio result;
  result.info = dec->info();
  const auto channels = static_cast<std::size_t>(result.info.channels);
  constexpr std::size_t kBlockFrames = 1 << 16;
  // The header's length is only a hint (a corrupt header may claim anything): cap the reserve.
  constexpr std::int64_t kMaxReserveFrames = std::int64_t{1} << 24;
  if (result.info.frames > 0 && result.info.frames < kMaxReserveFrames)
    result.samples.reserve(static_cast<std::size_t>(result.info.frames) * channels);
  std::vector<float> block(kBlockFrames * channels);
  while (const std::size_t n = dec->read_interleaved(block))
    result.samples.insert(result.samples.end(), block.begin(),
                          block.begin() + static_cast<std::ptrdiff_t>(n * channels));
  return result;
}

}  // namespace tutti::audio
