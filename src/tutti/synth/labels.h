// Labels of a synthetic clip, computed from its score (what was actually played).
//
// Strong labels: for each instrument, the time segments where it sounds: every note from note-on
// to note-off + release_s (clipped to the clip), segments of the same class merged when the gap
// between them is shorter than merge_gap_s (a drummer between hits, a singer breathing).
// Weak labels: 1 for each class with a strong label, 0 for every other class the palette can
// play, unknown (known = 0) for classes that cannot be synthesized (mandolin, ukulele, and
// classes the soundfont lacks): absence of an instrument the generator never plays says nothing.
// Instance truth: class c is active in instance t (the window [t*hop, (t+1)*hop) of a bag of K
// instances, e.g. VGGish frames of 0.96 s) when it sounds for at least `fraction` of the window.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tutti/synth/score.h"

namespace tutti::synth {

struct StrongLabel {
  int class_index = 0;
  double onset_s = 0;
  double offset_s = 0;
  bool operator==(const StrongLabel&) const = default;
};

struct Segment {
  double onset_s = 0;
  double offset_s = 0;
};

// Sorts and merges segments whose gap is < merge_gap_s (overlapping ones always merge).
std::vector<Segment> merge_segments(std::vector<Segment> segments, double merge_gap_s);

// Sorted by class index, then onset. Throws tutti::UsageError for negative release/gap.
std::vector<StrongLabel> strong_labels(const Score& score, double release_s, double merge_gap_s);

struct WeakLabels {
  std::vector<float> relevance;     // [C] 1 present, 0 absent (or unknown)
  std::vector<std::uint8_t> known;  // [C] 1 when relevance is known
};

// `playable` [C]: classes that could have been played (Palette::playable()); C = playable.size().
WeakLabels weak_labels(std::span<const StrongLabel> strong, std::span<const std::uint8_t> playable);

// Number of instances of length hop_s in a clip: floor(duration / hop) (10 for 10 s at 0.96 s,
// as VGGish frames a clip), at least 1.
int num_instances(double duration_s, double hop_s = 0.96);

struct InstanceTruth {
  int num_instances = 0;             // K
  int num_classes = 0;               // C
  std::vector<std::uint8_t> active;  // [K, C] row-major, 1 = class sounds in the instance
  std::uint8_t at(int k, int c) const {
    return active[static_cast<std::size_t>(k) * num_classes + c];
  }
};

// Instance t covers [t*hop_s, (t+1)*hop_s); the class is active when the union of its strong
// segments covers at least fraction*hop_s of it. Throws tutti::UsageError for hop_s <= 0,
// fraction outside (0, 1], K < 1, C < 1 or a label's class outside [0, C).
InstanceTruth instance_truth(std::span<const StrongLabel> strong, int num_classes,
                             int num_instances, double hop_s = 0.96, double fraction = 0.5);

}  // namespace tutti::synth
