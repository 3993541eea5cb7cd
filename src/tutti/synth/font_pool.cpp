#include "tutti/synth/font_pool.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <set>

#include "tutti/core/error.h"
#include "tutti/core/text.h"

namespace tutti::synth {

namespace fs = std::filesystem;

namespace {

bool is_soundfont_name(const fs::path& p) {
  const auto ext = core::ascii_lower(p.extension().string());
  return ext == ".sf2" || ext == ".sf3";
}

// "FluidR3_GM.sf2", "FluidR3Mono_GM.sf3", "Fluid R3 GM", "fluid_r3": letters and digits only.
bool names_fluidr3(const std::string& text) {
  std::string s;
  for (char c : core::ascii_lower(text))
    if (std::isalnum(static_cast<unsigned char>(c))) s += c;
  return s.find("fluidr3") != std::string::npos;
}

std::uint32_t u32(const char* p) {
  return static_cast<std::uint32_t>(static_cast<unsigned char>(p[0])) |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[1])) << 8 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[2])) << 16 |
         static_cast<std::uint32_t>(static_cast<unsigned char>(p[3])) << 24;
}

}  // namespace

std::vector<fs::path> resolve_soundfonts(const std::vector<std::string>& items,
                                         bool keep_duplicates) {
  std::vector<fs::path> out;
  std::set<fs::path> seen;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    const auto canon = fs::weakly_canonical(p, ec);
    if (seen.insert(ec ? p : canon).second || keep_duplicates) out.push_back(p);
  };
  for (const auto& item : items) {
    const fs::path p(item);
    std::error_code ec;
    check<UsageError>(!item.empty(), "synth: empty --soundfont path");
    check<UsageError>(fs::exists(p, ec), "synth: soundfont {}: no such file or folder", item);
    if (!fs::is_directory(p, ec)) {
      add(p);
      continue;
    }
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(p, ec))
      if (is_soundfont_name(e.path()) && fs::is_regular_file(e.path(), ec))
        found.push_back(e.path());
    check<UsageError>(!ec, "synth: soundfont folder {}: cannot list it: {}", item, ec.message());
    check<UsageError>(!found.empty(), "synth: soundfont folder {} has no .sf2 or .sf3 file", item);
    std::sort(found.begin(), found.end());
    for (const auto& f : found) add(f);
  }
  return out;
}

std::string soundfont_info_name(const fs::path& path) {
  std::ifstream f(path, std::ios::binary);
  char head[12] = {};
  if (!f.read(head, 12) || std::string(head, 4) != "RIFF") return "";
  // The INFO list comes first in every SoundFont 2 file (SoundFont 2.01 spec, section 5).
  char list[12] = {};
  if (!f.read(list, 12) || std::string(list, 4) != "LIST" || std::string(list + 8, 4) != "INFO")
    return "";
  std::uint64_t left = u32(list + 4) >= 4 ? u32(list + 4) - 4 : 0;
  while (left >= 8) {
    char ch[8] = {};
    if (!f.read(ch, 8)) return "";
    const std::uint32_t size = u32(ch + 4);
    if (size > left - 8) return "";
    if (std::string(ch, 4) == "INAM") {
      std::string name(std::min<std::uint32_t>(size, 256), '\0');
      if (!f.read(name.data(), static_cast<std::streamsize>(name.size()))) return "";
      return name.substr(0, name.find('\0'));
    }
    const std::uint32_t skip = size + (size & 1);
    f.seekg(skip, std::ios::cur);
    left -= std::min<std::uint64_t>(left, 8 + std::uint64_t{skip});
  }
  return "";
}

std::optional<std::string> fluidr3_reason(const fs::path& path) {
  // Every name on the way: the path given, each link it passes through, the final file.
  fs::path p = path;
  for (int hops = 0; hops < 16; ++hops) {
    if (names_fluidr3(p.filename().string()))
      return fmt::format("file name {}", p.filename().string());
    std::error_code ec;
    if (!fs::is_symlink(p, ec)) break;
    const auto target = fs::read_symlink(p, ec);
    if (ec) break;
    p = target.is_absolute() ? target : p.parent_path() / target;
  }
  const auto name = soundfont_info_name(path);
  if (names_fluidr3(name)) return fmt::format("font name '{}'", name);
  return std::nullopt;
}

void check_training_fonts(const std::vector<fs::path>& fonts, bool test_set) {
  if (test_set) return;
  for (const auto& f : fonts)
    if (const auto why = fluidr3_reason(f))
      fail<UsageError>(
          "synth: soundfont {} is FluidR3 ({}): it is the unseen font of the evaluation and is "
          "kept "
          "out of training sets; pass --test-font-ok when this is a test set",
          f.string(), *why);
}

}  // namespace tutti::synth
