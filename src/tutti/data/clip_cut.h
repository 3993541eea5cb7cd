// Clips cut to a maximum number of instances when a release is converted (AudioSet, OpenMIC
// per-clip JSON). A bag dataset pads every clip to the longest (K), so one 2,000-frame clip among
// 10-frame ones would make the whole dataset 200 times larger; conversions keep the first
// max_instances frames of a longer clip and record it here, for the caller to warn about.
//
//   tutti::data::ClipCuts cuts;
//   auto ds = tutti::data::read_audioset(dir, {}, opt, nullptr, &cuts);
//   for (const auto& line : cuts.warnings(opt.max_instances)) print(line);
#pragma once

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tutti::data {

struct ClipCuts {
  struct Clip {
    std::string where;  // the file it was read from
    std::string key;    // sample key
    std::int64_t frames = 0;
  };
  static constexpr std::size_t kNamed = 10;  // clips named one by one; the rest are counted
  std::int64_t count = 0;                    // clips cut
  std::vector<Clip> first;                   // the first kNamed of them, in dataset order

  void add(std::string where, std::string key, std::int64_t frames) {
    ++count;
    if (first.size() < kNamed) first.push_back({std::move(where), std::move(key), frames});
  }
  // Appends `other` (the cuts of later clips).
  void append(const ClipCuts& other) {
    for (const auto& c : other.first) add(c.where, c.key, c.frames);
    count += other.count - static_cast<std::int64_t>(other.first.size());
  }
  // One line per named clip, then one line with the total when there were more.
  std::vector<std::string> warnings(std::int64_t max_instances) const {
    std::vector<std::string> out;
    for (const auto& c : first)
      out.push_back(fmt::format("{}: clip {} has {} frames, kept the first {}", c.where, c.key,
                                c.frames, max_instances));
    if (count > static_cast<std::int64_t>(first.size()))
      out.push_back(
          fmt::format("{} clips longer than {} frames were cut ({} more than named "
                      "above); --max-instances 0 keeps every frame",
                      count, max_instances, count - static_cast<std::int64_t>(first.size())));
    return out;
  }
};

}  // namespace tutti::data
