// The soundfonts a dataset draws from, and the fonts kept out of training sets.
//
//   auto fonts = tutti::synth::resolve_soundfonts({"/usr/share/sounds/sf2", "my.sf3"});
//   tutti::synth::check_training_fonts(fonts, /*test_set=*/false);  // refuses FluidR3
//
// FluidR3 (Debian's fluid-soundfont-gm, fluidr3mono-gm-soundfont made from it, and
// default-GM.sf2 where that link points to one of them) is the unseen font of tutti's
// generalization tests: like a test set, it never renders training data. It is recognized by the
// name of the file and of every link leading to it, and by the font's own name (INFO/INAM).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tutti::synth {

// Files as given; a folder contributes its *.sf2 / *.sf3 files (not recursive), sorted by name.
// Duplicates (the same file reached twice, e.g. through a link) are kept once, in first order,
// unless keep_duplicates (to check every name, see check_training_fonts). Throws
// tutti::UsageError naming a path that does not exist or a folder without soundfonts.
std::vector<std::filesystem::path> resolve_soundfonts(const std::vector<std::string>& items,
                                                      bool keep_duplicates = false);

// Why `path` is FluidR3 ("file name FluidR3_GM.sf2", "font name 'Fluid R3 GM'"), or nullopt.
std::optional<std::string> fluidr3_reason(const std::filesystem::path& path);

// Throws tutti::UsageError naming the first FluidR3 font unless test_set is true.
void check_training_fonts(const std::vector<std::filesystem::path>& fonts, bool test_set);

// The font's name from its INFO list (INAM), or "" when absent or unreadable.
std::string soundfont_info_name(const std::filesystem::path& path);

}  // namespace tutti::synth
