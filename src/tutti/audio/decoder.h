// Decoding audio files to float samples at their native rate.
//
//   auto dec = tutti::audio::Decoder::open("clip.ogg");   // libsndfile, else FFmpeg
//   std::vector<float> block(4096);
//   while (std::size_t n = dec->read_mono(block)) consume(std::span(block).first(n));
//
// libsndfile is tried first (WAV, FLAC, Ogg Vorbis/Opus, MP3, AIFF, ...); everything it does not
// recognise goes to FFmpeg (libavformat + libavcodec; M4A/AAC, WMA, video containers, ...).
// Samples are float in [-1, 1] (integer PCM scaled by 1 / 2^(bits-1), as libsndfile and
// vggish_input.wavfile_to_examples do). Memory is bounded by one block plus one codec packet.
//
// MP3 goes to FFmpeg although libsndfile reads it: libsndfile's MP3 decoder (libmpg123) prints
// every damaged frame to stderr, FFmpeg's log is silenced.
//
// Failures throw tutti::Error "audio: <path>: <problem>": missing file, empty file, a format
// neither library recognises, a file with no audio stream, a stream of which nothing decodes,
// a stream of which more than half the frames fail to decode, and a NaN or infinite sample (float
// files can hold them; every feature computed from one would be NaN). A valid file with zero
// samples is not an error (it decodes to nothing). A few damaged frames are skipped and counted
// (bad_frames()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace tutti::audio {

struct AudioInfo {
  int sample_rate_hz = 0;
  int channels = 0;
  std::int64_t frames = -1;  // frames per channel when the container states it, else -1
  std::string backend;       // "sndfile" or "ffmpeg"
  std::string format;        // human-readable container/codec, e.g. "ogg/vorbis", "mov,mp4,.../aac"
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Opens `path` with libsndfile, falling back to FFmpeg. Throws tutti::Error (see above).
  static std::unique_ptr<Decoder> open(const std::filesystem::path& path);

  const AudioInfo& info() const { return info_; }
  const std::filesystem::path& path() const { return path_; }

  // Reads up to out.size() / channels whole frames, interleaved; returns frames read, 0 at end.
  // Throws on a NaN or infinite sample, naming the frame and the time.
  std::size_t read_interleaved(std::span<float> out);
  // Reads up to out.size() frames mixed to mono (the mean of the channels); 0 at end.
  std::size_t read_mono(std::span<float> out);

  // Before the first read: positions the decoder at native frame `frame` and returns true, or
  // returns false and changes nothing when the back end cannot seek there (past the end, a
  // container without seeking). libsndfile seeks exactly in WAV, FLAC, Ogg and the other formats
  // it reads; FFmpeg, in MP4 and Matroska (not in raw MP3 or ADTS streams, whose timestamps after
  // a seek are estimates), seeks to a packet 8,192 frames or more before `frame` and decodes and
  // drops up to it, placing frames by their timestamps, so lossy codecs, whose frames overlap, have
  // converged to what decoding from the start gives (bit for bit for AAC without noise
  // substitution; noise bands are drawn from the decoder's random generator). Throws when a seek
  // starts and fails.
  bool seek(std::int64_t frame);

  // Codec frames (packets) that failed to decode and were skipped so far (FFmpeg; 0 for
  // libsndfile, which stops at the first error).
  virtual std::int64_t bad_frames() const { return 0; }

 protected:
  Decoder(std::filesystem::path path, AudioInfo info)
      : path_(std::move(path)), info_(std::move(info)) {}
  // The back end's read, with read_interleaved's contract minus the sample check.
  virtual std::size_t read_frames(std::span<float> out) = 0;
  // The back end's exact seek (see seek()); false when it has none.
  virtual bool seek_frames(std::int64_t /*frame*/) { return false; }
  std::filesystem::path path_;
  AudioInfo info_;

 private:
  std::vector<float> scratch_;  // interleaved frames for read_mono
  std::int64_t frames_read_ = 0;
};

// Index of the first NaN or infinite value in `samples`, or samples.size() when all are finite.
std::size_t first_non_finite(std::span<const float> samples);

// A whole file at its native rate and channel count (for tests and short files).
struct DecodedAudio {
  AudioInfo info;
  std::vector<float> samples;  // interleaved, frames * info.channels
  std::size_t frames() const {
    return info.channels > 0 ? samples.size() / static_cast<std::size_t>(info.channels) : 0;
  }
};
DecodedAudio decode_native(const std::filesystem::path& path);

// Mean over channels of interleaved frames: in has frames * channels values, out has frames.
void mix_to_mono(std::span<const float> interleaved, int channels, std::span<float> out);

}  // namespace tutti::audio
