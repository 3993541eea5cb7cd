// Test audio for the embed/tag suites: deterministic music-like signals written with libsndfile.
#pragma once

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <numbers>
#include <string>
#include <vector>

#include "audio/audio_test_util.h"

namespace tutti::testing {

// `seconds` of 44.1 kHz stereo: a tone whose pitch changes every 0.5 s (seeded) plus quiet noise,
// so that consecutive 0.96 s examples differ.
inline std::vector<float> test_music(double seconds, std::uint32_t seed, int rate_hz = 44100,
                                     int channels = 2) {
  const auto frames = static_cast<std::size_t>(seconds * rate_hz);
  std::vector<float> out(frames * static_cast<std::size_t>(channels));
  std::uint32_t s = seed * 2654435761u + 12345u;
  auto rnd = [&] {
    s = s * 1664525u + 1013904223u;
    return static_cast<double>(s >> 8) / 16777216.0;
  };
  double freq = 220, phase = 0;
  const auto seg = static_cast<std::size_t>(rate_hz / 2);
  for (std::size_t i = 0; i < frames; ++i) {
    if (i % seg == 0) freq = 110.0 * std::pow(2.0, 4.0 * rnd());
    phase += 2 * std::numbers::pi * freq / rate_hz;
    const double v = 0.3 * std::sin(phase) + 0.1 * std::sin(3 * phase) + 0.02 * (rnd() - 0.5);
    for (int c = 0; c < channels; ++c) out[i * channels + c] = static_cast<float>(v * (1 - 0.2 * c));
  }
  return out;
}

inline void write_test_wav(const std::filesystem::path& path, double seconds, std::uint32_t seed,
                           int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  std::filesystem::create_directories(path.parent_path());
  write_sndfile(path, test_music(seconds, seed), 44100, 2, format);
}

// Ten 3 s clips dir/audio/c0.wav..c9.wav and dir/labels.csv (OpenMIC-style rows) labelling piano
// on odd clips and drums on clips 2, 3, 6, 7: the folder the embed-train-tag tests start from.
inline void write_labeled_wav_folder(const std::filesystem::path& dir) {
  std::string labels = "file,instrument,relevance\n";
  for (int i = 0; i < 10; ++i) {
    const auto name = "c" + std::to_string(i) + ".wav";
    write_test_wav(dir / "audio" / name, 3.0, static_cast<std::uint32_t>(i));
    labels += name + ",piano," + std::to_string(i % 2) + "\n" + name + ",drums," +
              std::to_string((i / 2) % 2) + "\n";
  }
  std::ofstream(dir / "labels.csv") << labels;
}

}  // namespace tutti::testing
