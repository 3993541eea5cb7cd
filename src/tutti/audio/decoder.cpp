#include "tutti/audio/decoder.h"

#include <system_error>

#include "tutti/audio/backends.h"
#include "tutti/core/error.h"

namespace tutti::audio {

std::unique_ptr<Decoder> Decoder::open(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  check(std::filesystem::exists(status), "audio: {}: no such file", path.string());
  check(std::filesystem::is_regular_file(status), "audio: {}: not a regular file", path.string());
  const auto size = std::filesystem::file_size(path, ec);
  check(!ec, "audio: {}: cannot read the file size: {}", path.string(), ec.message());
  check(size > 0, "audio: {}: the file is empty", path.string());

  std::string sndfile_why;
  if (auto dec = detail::open_sndfile(path, sndfile_why)) return dec;
  return detail::open_ffmpeg(path, sndfile_why);
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
