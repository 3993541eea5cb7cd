// Augmentation of the embedder's training patches (`tutti train-embedder --augment`): seeded,
// random changes of the 96 x 64 log-mel patches (the VGGish front end: log(mel + 0.01), mel the
// magnitude of the mel filter bank) and of their labels, drawn anew every epoch, so that the
// network hears more sounds and more combinations of instruments than were rendered. Torch-free.
//
//   tutti::train::PatchAugment a = tutti::train::PatchAugment::parse({"mix", "eq", "mask"});
//   float m = tutti::train::mix_log_mel(x, y, 0.5f);     // x plus y at half its amplitude
//
// The three kinds (docs/embed.md, "Augmentation"):
// - mix: with probability 1/2 a clip is mixed with another training clip (drawn uniformly; its
//   t-th patch onto the clip's t-th patch, at a gain drawn from [-6, 0] dB). Magnitudes add as
//   powers: sqrt(m1^2 + g^2 m2^2), the expected magnitude of two uncorrelated sounds. A class is
//   present where either clip has it, absent where both are known to lack it, unknown otherwise
//   (`mix_labels`), for the clip's weak labels and for every patch's strong labels.
// - eq: every clip's magnitudes are multiplied by a smooth random curve over the 64 bands: a gain
//   in [-6, 6] dB, a tilt from -t to +t dB across the bands with t in [-6, 6], and two bell bumps
//   of [-6, 6] dB, centred on a band in [0, 64) with a width (sigma) of [2, 8] bands
//   (`eq_curve_db`): fonts, rooms and microphones colour the same instrument differently.
// - mask: SpecAugment (Park et al., Interspeech 2019) on every patch: two runs of [0, 8] bands and
//   two runs of [0, 16] frames are set to the patch's mean, so that no single band or moment
//   decides.
// Order: mix, then eq (on the mixture, like a room or a microphone), then mask.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tutti/core/random.h"

namespace tutti::train {

struct PatchAugment {
  bool mix = false, eq = false, mask = false;
  bool any() const { return mix || eq || mask; }
  // From names (mix, eq, mask; each at most once). UsageError naming an unknown or repeated one.
  static PatchAugment parse(const std::vector<std::string>& names);
  std::vector<std::string> names() const;  // in the order mix, eq, mask
};

// log(sqrt(m1^2 + gain^2 m2^2) + 0.01) for x = log(m1 + 0.01), y = log(m2 + 0.01) (magnitudes
// below 0 from rounding count as 0).
float mix_log_mel(float x, float y, float gain);

// One class of two mixed clips: label (0/1) and known (mask) of each -> of the mixture.
struct MixedLabel {
  float y;
  bool known;
};
MixedLabel mix_labels(float y1, bool known1, float y2, bool known2);

// A random EQ curve in dB over the 64 bands (see eq above).
std::array<float, 64> eq_curve_db(core::Xoshiro256ss& rng);
// Applies a curve in dB to log-mel frames of 64 bands each (one frame or a whole patch, row-major):
// log(m 10^(db/20) + 0.01).
void apply_eq(std::span<float> frames, const std::array<float, 64>& curve_db);

// SpecAugment of one 96 x 64 patch (row-major, frames x bands), in place.
void mask_patch(std::span<float> patch, core::Xoshiro256ss& rng);

}  // namespace tutti::train
