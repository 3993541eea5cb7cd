// FFmpeg back end (libavformat demuxing, libavcodec decoding, libswresample to interleaved float
// at the native rate and channel count): M4A/AAC, WMA, video containers, anything libsndfile
// does not recognise. Written against FFmpeg 5.1 (the AVChannelLayout API).
extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/error.h>
#include <libavutil/log.h>
#include <libswresample/swresample.h>
}

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "tutti/audio/backends.h"
#include "tutti/core/error.h"

namespace tutti::audio::detail {
namespace {

struct FormatCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct CodecFreer {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct PacketFreer {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameFreer {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct SwrFreer {
  void operator()(SwrContext* p) const { swr_free(&p); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecFreer>;
using PacketPtr = std::unique_ptr<AVPacket, PacketFreer>;
using FramePtr = std::unique_ptr<AVFrame, FrameFreer>;
using SwrPtr = std::unique_ptr<SwrContext, SwrFreer>;

std::string av_error(int err) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(err, buf, sizeof(buf));
  return buf;
}

// The library never prints: FFmpeg's log goes nowhere (errors reach the caller as exceptions).
void quiet_ffmpeg_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

// Below this probe score FFmpeg only guessed the format from the file extension (random bytes
// named .mp3 score 1): such a file is "not recognised", not noise to decode.
constexpr int kMinProbeScore = AVPROBE_SCORE_RETRY;

class FfmpegDecoder final : public Decoder {
 public:
  FfmpegDecoder(std::filesystem::path path, AudioInfo info, FormatPtr fmt, CodecPtr codec,
                int stream_index)
      : Decoder(std::move(path), std::move(info)),
        fmt_(std::move(fmt)),
        codec_(std::move(codec)),
        packet_(av_packet_alloc()),
        frame_(av_frame_alloc()),
        stream_index_(stream_index) {
    check(packet_ && frame_, "audio: {}: out of memory", path_.string());
  }

  std::int64_t bad_frames() const override { return errors_; }

  // Seeks the demuxer to a packet at or before `frame` minus a preroll, then decodes and drops up
  // to `frame` exactly (append_frame places each decoded frame by its timestamp). Lossy codecs
  // (AAC, MP3, Vorbis) overlap each frame with the one before, so the first frame after a seek
  // differs from decoding from the start; the preroll's frames absorb that.
  bool seek_frames(std::int64_t frame) override {
    // Only containers whose packets carry exact timestamps after a seek, from an index: MP4 and
    // Matroska. Raw streams (MP3, ADTS AAC) estimate them from the bit rate or a coarse table of
    // contents after a seek, which would misplace the samples; they are decoded and dropped.
    const std::string_view demuxer = fmt_->iformat->name;
    if (demuxer.find("mp4") == std::string_view::npos &&
        demuxer.find("matroska") == std::string_view::npos)
      return false;
    const AVStream* st = fmt_->streams[stream_index_];
    if (st->time_base.num <= 0 || st->time_base.den <= 0) return false;
    // Past the end (by the container's duration): nothing to seek to; callers count what they
    // drop, which gives the audio's true length.
    if (info_.frames > 0 && frame >= info_.frames) return false;
    const std::int64_t start = st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time;
    const AVRational per_sample{1, info_.sample_rate_hz};
    for (const std::int64_t preroll : {kSeekPreroll, 16 * kSeekPreroll}) {
      const std::int64_t at = std::max<std::int64_t>(0, frame - preroll);
      int rc =
          av_seek_frame(fmt_.get(), stream_index_,
                        start + av_rescale_q(at, per_sample, st->time_base), AVSEEK_FLAG_BACKWARD);
      if (rc < 0) {
        if (preroll == kSeekPreroll) return false;  // the container cannot seek: nothing changed
        fail("audio: {}: cannot seek to frame {}: {}", path_.string(), frame, av_error(rc));
      }
      restart_decoding();
      landed_after_ = false;
      seek_to_ = frame;
      while (seek_to_ >= 0 && !landed_after_ && decode_more()) {
      }
      if (landed_after_) continue;
      if (seek_to_ < 0) return true;
      // The stream ends before `frame` (its duration was an estimate): back to the start, as if
      // no seek had been asked for.
      rc = av_seek_frame(fmt_.get(), stream_index_, start, AVSEEK_FLAG_BACKWARD);
      check(rc >= 0, "audio: {}: cannot seek back to the start: {}", path_.string(), av_error(rc));
      restart_decoding();
      seek_to_ = -1;
      return false;
    }
    fail("audio: {}: cannot seek to frame {}: the container lands after it", path_.string(), frame);
  }

  std::size_t read_frames(std::span<float> out) override {
    const auto channels = static_cast<std::size_t>(info_.channels);
    const std::size_t want = out.size() / channels;
    while (available_frames() < want && decode_more()) {
    }
    const std::size_t n = std::min(want, available_frames());
    std::copy_n(fifo_.begin() + static_cast<std::ptrdiff_t>(fifo_pos_), n * channels, out.begin());
    fifo_pos_ += n * channels;
    if (fifo_pos_ == fifo_.size()) {
      fifo_.clear();
      fifo_pos_ = 0;
    }
    return n;
  }

 private:
  std::size_t available_frames() const {
    return (fifo_.size() - fifo_pos_) / static_cast<std::size_t>(info_.channels);
  }

  // Decodes one more frame into the FIFO. Returns false at the end of the stream.
  bool decode_more() {
    while (!eof_) {
      const int rc = avcodec_receive_frame(codec_.get(), frame_.get());
      if (rc == 0) {
        append_frame();
        av_frame_unref(frame_.get());
        ++good_frames_;
        return true;
      }
      if (rc == AVERROR_EOF) {
        eof_ = true;
        break;
      }
      if (rc != AVERROR(EAGAIN)) {  // a corrupt frame: skip it, like the ffmpeg CLI
        note_error(rc);
        continue;
      }
      send_next_packet();
    }
    if (decoded_frames_ == 0 && errors_ > 0)
      fail("audio: {}: no audio could be decoded ({} errors, last: {})", path_.string(), errors_,
           last_error_);
    // A few damaged frames are skipped (as the ffmpeg CLI does); a stream that is mostly damage
    // would give features of noise, so it is refused.
    if (errors_ > good_frames_)
      fail("audio: {}: {} of {} frames could not be decoded (last error: {}): the file is corrupt",
           path_.string(), errors_, errors_ + good_frames_, last_error_);
    return false;
  }

  void send_next_packet() {
    if (draining_) {  // a drained decoder reports EOF; anything else would loop forever
      eof_ = true;
      return;
    }
    while (true) {
      const int rc = av_read_frame(fmt_.get(), packet_.get());
      if (rc < 0) {
        // End of file, or a truncated/corrupt container: decode what was read so far.
        if (rc != AVERROR_EOF) note_error(rc);
        avcodec_send_packet(codec_.get(), nullptr);
        draining_ = true;
        return;
      }
      if (packet_->stream_index != stream_index_) {
        av_packet_unref(packet_.get());
        continue;
      }
      const int sent = avcodec_send_packet(codec_.get(), packet_.get());
      av_packet_unref(packet_.get());
      if (sent < 0 && sent != AVERROR(EAGAIN)) {
        note_error(sent);
        if (errors_ > kMaxErrorsWithoutAudio && decoded_frames_ == 0)
          fail("audio: {}: no audio could be decoded ({} errors, last: {})", path_.string(),
               errors_, last_error_);
        continue;
      }
      return;
    }
  }

  void note_error(int rc) {
    ++errors_;
    last_error_ = av_error(rc);
  }

  void append_frame() {
    AVFrame* f = frame_.get();
    check(f->ch_layout.nb_channels == info_.channels && f->sample_rate == info_.sample_rate_hz,
          "audio: {}: the stream changes from {} Hz x {} to {} Hz x {} channels mid-stream",
          path_.string(), info_.sample_rate_hz, info_.channels, f->sample_rate,
          f->ch_layout.nb_channels);
    if (!swr_ || f->format != swr_format_) {
      SwrContext* raw = nullptr;
      const int rc =
          swr_alloc_set_opts2(&raw, &f->ch_layout, AV_SAMPLE_FMT_FLT, f->sample_rate, &f->ch_layout,
                              static_cast<AVSampleFormat>(f->format), f->sample_rate, 0, nullptr);
      swr_.reset(raw);
      check(rc >= 0 && swr_init(swr_.get()) >= 0,
            "audio: {}: cannot convert sample format '{}' to float", path_.string(),
            av_get_sample_fmt_name(static_cast<AVSampleFormat>(f->format)));
      swr_format_ = f->format;
    }
    const auto channels = static_cast<std::size_t>(info_.channels);
    std::int64_t drop = 0;  // samples of this frame before the seek target
    if (seek_to_ >= 0) {
      const AVStream* st = fmt_->streams[stream_index_];
      const std::int64_t pts = f->best_effort_timestamp;
      check(pts != AV_NOPTS_VALUE, "audio: {}: cannot seek: a decoded frame has no timestamp",
            path_.string());
      const std::int64_t first =
          av_rescale_q(pts - (st->start_time == AV_NOPTS_VALUE ? 0 : st->start_time), st->time_base,
                       AVRational{1, info_.sample_rate_hz});
      if (first > seek_to_) {
        landed_after_ = true;
        return;
      }
      drop = seek_to_ - first;
      if (drop >= f->nb_samples) return;
      seek_to_ = -1;
    }
    const auto old_size = fifo_.size();
    fifo_.resize(old_size + static_cast<std::size_t>(f->nb_samples) * channels);
    auto* out = reinterpret_cast<std::uint8_t*>(fifo_.data() + old_size);
    const int n = swr_convert(swr_.get(), &out, f->nb_samples,
                              const_cast<const std::uint8_t**>(f->extended_data), f->nb_samples);
    check(n >= 0, "audio: {}: sample conversion failed: {}", path_.string(), av_error(n));
    fifo_.resize(old_size + static_cast<std::size_t>(n) * channels);
    decoded_frames_ += n;
    fifo_.erase(
        fifo_.begin() + static_cast<std::ptrdiff_t>(old_size),
        fifo_.begin() +
            static_cast<std::ptrdiff_t>(
                old_size + static_cast<std::size_t>(std::min<std::int64_t>(drop, n)) * channels));
  }

  // After the demuxer moved: the codec and the frames decoded so far belong to the old position.
  void restart_decoding() {
    avcodec_flush_buffers(codec_.get());
    fifo_.clear();
    fifo_pos_ = 0;
    eof_ = draining_ = false;
  }

  static constexpr int kMaxErrorsWithoutAudio = 1000;
  static constexpr std::int64_t kSeekPreroll = 8192;  // native frames: 8 AAC frames, 7 of MP3

  FormatPtr fmt_;
  CodecPtr codec_;
  PacketPtr packet_;
  FramePtr frame_;
  SwrPtr swr_;
  int swr_format_ = -1;
  int stream_index_;
  std::vector<float> fifo_;  // decoded interleaved samples not yet returned
  std::size_t fifo_pos_ = 0;
  std::int64_t decoded_frames_ = 0;  // samples per channel
  std::int64_t good_frames_ = 0;     // codec frames decoded
  std::int64_t errors_ = 0;          // codec frames or packets that failed
  std::string last_error_;
  bool draining_ = false;
  bool eof_ = false;
  std::int64_t seek_to_ = -1;  // after a seek: the native frame the output starts at
  bool landed_after_ = false;  // after a seek: the first decoded frame starts after seek_to_
};

}  // namespace

std::unique_ptr<Decoder> open_ffmpeg(const std::filesystem::path& path,
                                     const std::string& sndfile_why) {
  quiet_ffmpeg_log();
  const std::string file = path.string();
  AVFormatContext* raw_fmt = nullptr;
  int rc = avformat_open_input(&raw_fmt, file.c_str(), nullptr, nullptr);
  FormatPtr fmt(raw_fmt);  // avformat_open_input frees the context itself on failure
  check(rc >= 0, "audio: {}: not a recognised audio file (libsndfile: {}; FFmpeg: {})", file,
        sndfile_why, av_error(rc));
  check(fmt->probe_score >= kMinProbeScore,
        "audio: {}: not a recognised audio file (libsndfile: {}; FFmpeg only guessed '{}' from "
        "the file name, probe score {})",
        file, sndfile_why, fmt->iformat->name, fmt->probe_score);
  rc = avformat_find_stream_info(fmt.get(), nullptr);
  check(rc >= 0, "audio: {}: cannot read stream information ({}): {}", file, fmt->iformat->name,
        av_error(rc));
  const AVCodec* decoder = nullptr;
  const int stream_index = av_find_best_stream(fmt.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
  check(stream_index != AVERROR_STREAM_NOT_FOUND, "audio: {}: no audio stream in this {} file",
        file, fmt->iformat->name);
  check(stream_index >= 0 && decoder != nullptr, "audio: {}: no decoder for the audio stream: {}",
        file, av_error(stream_index));
  const AVStream* stream = fmt->streams[stream_index];

  CodecPtr codec(avcodec_alloc_context3(decoder));
  check(codec != nullptr, "audio: {}: out of memory", file);
  rc = avcodec_parameters_to_context(codec.get(), stream->codecpar);
  check(rc >= 0, "audio: {}: bad codec parameters: {}", file, av_error(rc));
  codec->thread_count = 1;  // one core per file; callers parallelise over files
  rc = avcodec_open2(codec.get(), decoder, nullptr);
  check(rc >= 0, "audio: {}: cannot open the {} decoder: {}", file, decoder->name, av_error(rc));
  check(codec->sample_rate > 0 && codec->ch_layout.nb_channels > 0,
        "audio: {}: invalid audio stream ({} Hz, {} channels)", file, codec->sample_rate,
        codec->ch_layout.nb_channels);

  AudioInfo info;
  info.sample_rate_hz = codec->sample_rate;
  info.channels = codec->ch_layout.nb_channels;
  if (stream->duration > 0 && stream->time_base.den > 0)
    info.frames = static_cast<std::int64_t>(std::llround(
        static_cast<double>(stream->duration) * av_q2d(stream->time_base) * codec->sample_rate));
  info.backend = "ffmpeg";
  info.format = std::string(fmt->iformat->name) + "/" + decoder->name;
  return std::make_unique<FfmpegDecoder>(path, std::move(info), std::move(fmt), std::move(codec),
                                         stream_index);
}

}  // namespace tutti::audio::detail
