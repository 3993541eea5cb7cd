// Mixing a rendered clip: channel layout, peak normalization, background noise at a given SNR.
// Audio buffers are interleaved float frames ([frames, channels]).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tutti/synth/synth_config.h"

namespace tutti::synth {

double peak_abs(std::span<const float> x);
// Mean of the squared samples over all channels (0 for an empty buffer).
double mean_square(std::span<const float> x);

// FluidSynth's stereo [frames, 2] -> [frames, channels]: 2 keeps it, 1 averages L and R.
std::vector<float> to_channels(std::span<const float> stereo, int channels);

// Scales x so that its peak is `peak` (linear, > 0). Returns the gain (1 for a silent buffer).
double normalize_peak(std::span<float> x, double peak);

// Noise of unit variance per sample: white (Gaussian) or pink (white through Paul Kellett's
// refined -3 dB/octave filter, accurate to 0.05 dB above 9.2 Hz at 44.1 kHz;
// https://www.firstpr.com.au/dsp/pink-noise/). Channels are independent. Deterministic per seed.
std::vector<float> make_noise(std::int64_t frames, int channels, NoiseColor color,
                              std::uint64_t seed);

// Paul Kellett's refined pink filter applied to `white` (zero initial state).
std::vector<double> pink_filter(std::span<const double> white);

// Adds noise scaled so that 10*log10(mean_square(x) / mean_square(noise)) == snr_db, with both
// powers measured over all samples of the clip. Returns the noise that was added. A silent x gets
// no noise (its SNR is undefined). Throws tutti::UsageError for a non-finite snr_db.
std::vector<float> add_noise(std::span<float> x, int channels, double snr_db, NoiseColor color,
                             std::uint64_t seed);

}  // namespace tutti::synth
