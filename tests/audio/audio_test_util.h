// Test signals and test files for the audio, features and infer suites: sines, a least-squares
// sine fit, WAV/FLAC written by libsndfile, M4A/AAC encoded with libavcodec at test time, and MP3s
// with damaged frames.
#pragma once

#include <sndfile.h>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>
}

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <numbers>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace tutti::testing {

// Interleaved `channels` copies of amplitude * sin(2 pi f t + phase_c), channel c's phase c * 0.3.
inline std::vector<float> sine(double freq_hz, double rate_hz, std::size_t frames, double amplitude,
                               int channels = 1) {
  std::vector<float> out(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < frames; ++i)
    for (int c = 0; c < channels; ++c)
      out[i * channels + c] = static_cast<float>(
          amplitude *
          std::sin(2 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz + 0.3 * c));
  return out;
}

// Interleaved stereo at 44.1 kHz: left a chirp rising from 200 Hz (0.4), right 3 kHz (0.3), so that
// every stretch of the left channel differs.
inline std::vector<float> chirp_stereo_44k(std::size_t seconds) {
  std::vector<float> x(44100 * seconds * 2);
  for (std::size_t i = 0; i < x.size() / 2; ++i) {
    const double t = static_cast<double>(i) / 44100;
    x[2 * i] = static_cast<float>(0.4 * std::sin(2 * std::numbers::pi * (200 + 150 * t) * t));
    x[2 * i + 1] = static_cast<float>(0.3 * std::sin(2 * std::numbers::pi * 3000 * t));
  }
  return x;
}

struct SineFit {
  double amplitude = 0;
  double residual_rms = 0;  // what is left after subtracting the fitted sine (and mean)
};
// Least-squares fit of a sine at a known frequency over x (DFT projection; x should span close to
// a whole number of periods).
inline SineFit fit_sine(std::span<const float> x, double freq_hz, double rate_hz) {
  double c = 0, s = 0, mean = 0;
  const auto n = static_cast<double>(x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double w = 2 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz;
    c += x[i] * std::cos(w);
    s += x[i] * std::sin(w);
    mean += x[i];
  }
  c *= 2 / n;
  s *= 2 / n;
  mean /= n;
  double res = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const double w = 2 * std::numbers::pi * freq_hz * static_cast<double>(i) / rate_hz;
    const double e = x[i] - mean - c * std::cos(w) - s * std::sin(w);
    res += e * e;
  }
  return {std::hypot(c, s), std::sqrt(res / n)};
}

// Writes interleaved float samples with libsndfile; `format` e.g. SF_FORMAT_WAV | SF_FORMAT_PCM_16.
inline void write_sndfile(const std::filesystem::path& path, std::span<const float> interleaved,
                          int rate_hz, int channels, int format) {
  SF_INFO info{};
  info.samplerate = rate_hz;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("sf_open(write) " + path.string() + ": " + sf_strerror(nullptr));
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels);
  const sf_count_t n = sf_writef_float(f, interleaved.data(), frames);
  sf_close(f);
  if (n != frames) throw std::runtime_error("short write to " + path.string());
}

// Encodes interleaved float samples as AAC in an M4A (MP4) container with FFmpeg's native AAC
// encoder. Returns false when this FFmpeg build has no AAC encoder. `noise_substitution` false
// turns off PNS, whose bands a decoder fills from its own random generator.
inline bool write_m4a(const std::filesystem::path& path, std::span<const float> interleaved,
                      int rate_hz, int channels, bool noise_substitution = true) {
  av_log_set_level(AV_LOG_QUIET);  // the encoder logs statistics otherwise
  const AVCodec* enc = avcodec_find_encoder(AV_CODEC_ID_AAC);
  if (!enc) return false;
  auto must = [&](int rc, const char* what) {
    if (rc < 0) throw std::runtime_error(std::string("write_m4a: ") + what + " failed");
  };
  AVFormatContext* oc = nullptr;
  must(avformat_alloc_output_context2(&oc, nullptr, nullptr, path.c_str()), "alloc_output");
  AVStream* st = avformat_new_stream(oc, nullptr);
  AVCodecContext* c = avcodec_alloc_context3(enc);
  c->sample_fmt = AV_SAMPLE_FMT_FLTP;
  c->sample_rate = rate_hz;
  av_channel_layout_default(&c->ch_layout, channels);
  c->bit_rate = 160000;
  c->time_base = AVRational{1, rate_hz};
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) c->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  AVDictionary* opts = nullptr;
  if (!noise_substitution) av_dict_set(&opts, "aac_pns", "0", 0);
  const int opened = avcodec_open2(c, enc, &opts);
  av_dict_free(&opts);
  must(opened, "avcodec_open2");
  must(avcodec_parameters_from_context(st->codecpar, c), "parameters_from_context");
  st->time_base = c->time_base;
  must(avio_open(&oc->pb, path.c_str(), AVIO_FLAG_WRITE), "avio_open");
  must(avformat_write_header(oc, nullptr), "write_header");
  AVFrame* frame = av_frame_alloc();
  AVPacket* pkt = av_packet_alloc();
  auto drain = [&] {
    while (avcodec_receive_packet(c, pkt) == 0) {
      av_packet_rescale_ts(pkt, c->time_base, st->time_base);
      pkt->stream_index = st->index;
      must(av_interleaved_write_frame(oc, pkt), "write_frame");
    }
  };
  const std::size_t frames = interleaved.size() / channels;
  const auto frame_size = static_cast<std::size_t>(c->frame_size);
  for (std::size_t start = 0; start + frame_size <= frames; start += frame_size) {
    frame->nb_samples = c->frame_size;
    frame->format = c->sample_fmt;
    must(av_channel_layout_copy(&frame->ch_layout, &c->ch_layout), "layout_copy");
    frame->sample_rate = rate_hz;
    must(av_frame_get_buffer(frame, 0), "frame_get_buffer");
    for (int ch = 0; ch < channels; ++ch) {
      auto* plane = reinterpret_cast<float*>(frame->data[ch]);
      for (std::size_t i = 0; i < frame_size; ++i)
        plane[i] = interleaved[(start + i) * channels + ch];
    }
    frame->pts = static_cast<std::int64_t>(start);
    must(avcodec_send_frame(c, frame), "send_frame");
    av_frame_unref(frame);
    drain();
  }
  must(avcodec_send_frame(c, nullptr), "flush");
  drain();
  must(av_write_trailer(oc), "write_trailer");
  avio_closep(&oc->pb);
  av_packet_free(&pkt);
  av_frame_free(&frame);
  avcodec_free_context(&c);
  avformat_free_context(oc);
  return true;
}

inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot write " + path.string());
  std::fwrite(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
}

// The frames of an MPEG audio stream: (offset, length) of each, found by walking the headers
// (ISO 11172-3 2.4.2.3; Layer III: 144 * bitrate / rate (+1 when padded), 72 for MPEG-2/2.5).
inline std::vector<std::pair<std::size_t, std::size_t>> mp3_frames(const std::string& b) {
  static const int kBitrate[2][16] = {
      {0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 0},  // MPEG-1
      {0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0}};     // MPEG-2/2.5
  static const int kRate[4][3] = {
      {11025, 12000, 8000}, {0, 0, 0}, {22050, 24000, 16000}, {44100, 48000, 32000}};
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t pos = 0;
  if (b.compare(0, 3, "ID3") == 0 && b.size() >= 10)
    pos = 10 + ((b[6] & 0x7F) << 21 | (b[7] & 0x7F) << 14 | (b[8] & 0x7F) << 7 | (b[9] & 0x7F));
  while (pos + 4 <= b.size()) {
    const auto h = [&](std::size_t k) { return static_cast<unsigned char>(b[pos + k]); };
    if (h(0) != 0xFF || (h(1) & 0xE0) != 0xE0) break;
    const int version = (h(1) >> 3) & 3;  // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
    const int bitrate = kBitrate[version == 3 ? 0 : 1][h(2) >> 4] * 1000;
    const int rate = kRate[version][(h(2) >> 2) & 3];
    if (bitrate == 0 || rate == 0) break;
    const std::size_t len = (version == 3 ? 144 : 72) * bitrate / rate + ((h(2) >> 1) & 1);
    out.emplace_back(pos, len);
    pos += len;
  }
  return out;
}

// A 3 s 440 Hz MP3 written by libsndfile (LAME). Empty when libsndfile cannot write MP3.
inline std::string write_mp3(const std::filesystem::path& path) {
  SF_INFO info{};
  info.samplerate = 44100;
  info.channels = 1;
  info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
  if (!sf_format_check(&info)) return {};
  write_sndfile(path, sine(440, 44100, 3 * 44100, 0.5), 44100, 1, info.format);
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Overwrites the payload of every `every`-th frame (header and CRC kept) with random bytes.
inline std::string damage_frames(std::string b, std::size_t every) {
  std::mt19937 rng(11);
  const auto frames = mp3_frames(b);
  for (std::size_t f = 1; f < frames.size(); f += every) {  // frame 0 may be LAME's info frame
    const auto [pos, len] = frames[f];
    for (std::size_t k = 6; k < len && pos + k < b.size(); ++k)
      b[pos + k] = static_cast<char>(rng() & 0xFF);
  }
  return b;
}

}  // namespace tutti::testing
