// libsndfile back end: WAV, FLAC, Ogg Vorbis/Opus, MP3 (libsndfile >= 1.1), AIFF, ...
#include <sndfile.h>

#include <memory>
#include <string>

#include "tutti/audio/backends.h"
#include "tutti/core/error.h"

namespace tutti::audio::detail {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

std::string format_name(int format) {
  SF_FORMAT_INFO major{};
  major.format = format & SF_FORMAT_TYPEMASK;
  SF_FORMAT_INFO minor{};
  minor.format = format & SF_FORMAT_SUBMASK;
  std::string name;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof(major)) == 0 && major.extension)
    name = major.extension;
  if (sf_command(nullptr, SFC_GET_FORMAT_INFO, &minor, sizeof(minor)) == 0 && minor.name) {
    name += '/';
    name += minor.name;
  }
  return name.empty() ? "sndfile" : name;
}

class SndfileDecoder final : public Decoder {
 public:
  SndfileDecoder(std::filesystem::path path, AudioInfo info, SndfilePtr file)
      : Decoder(std::move(path), std::move(info)), file_(std::move(file)) {}

  std::size_t read_frames(std::span<float> out) override {
    const auto channels = static_cast<std::size_t>(info_.channels);
    const auto want = static_cast<sf_count_t>(out.size() / channels);
    if (want == 0 || done_) return 0;
    const sf_count_t got = sf_readf_float(file_.get(), out.data(), want);
    if (got < want) {
      // A short read is the end of the data, or an error in the middle of the stream.
      const int err = sf_error(file_.get());
      check(err == SF_ERR_NO_ERROR, "audio: {}: read error after {} frames: {}", path_.string(),
            frames_read_ + got, sf_error_number(err));
      done_ = true;
    }
    frames_read_ += got;
    return static_cast<std::size_t>(got);
  }

  bool seek_frames(std::int64_t frame) override {
    if (info_.frames >= 0 && frame >= info_.frames) return false;  // past the end: read nothing
    const sf_count_t at = sf_seek(file_.get(), static_cast<sf_count_t>(frame), SEEK_SET);
    check(at == frame, "audio: {}: cannot seek to frame {}: {}", path_.string(), frame,
          sf_strerror(file_.get()));
    frames_read_ = at;
    return true;
  }

 private:
  SndfilePtr file_;
  sf_count_t frames_read_ = 0;
  bool done_ = false;
};

}  // namespace

std::unique_ptr<Decoder> open_sndfile(const std::filesystem::path& path, std::string& why) {
  SF_INFO sfinfo{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &sfinfo));
  if (!file) {
    why = sf_strerror(nullptr);
    return nullptr;
  }
  if (sfinfo.channels <= 0 || sfinfo.samplerate <= 0) {
    why = "invalid channel count or sample rate";
    return nullptr;
  }
  AudioInfo info;
  info.sample_rate_hz = sfinfo.samplerate;
  info.channels = sfinfo.channels;
  // libsndfile reports SF_COUNT_MAX for streams of unknown length.
  info.frames = sfinfo.frames >= 0 && sfinfo.frames < SF_COUNT_MAX / 2 ? sfinfo.frames : -1;
  info.backend = "sndfile";
  info.format = format_name(sfinfo.format);
  return std::make_unique<SndfileDecoder>(path, std::move(info), std::move(file));
}

}  // namespace tutti::audio::detail
