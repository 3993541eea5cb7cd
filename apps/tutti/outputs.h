// Every verb that writes calls check_outputs_differ before any work, so that no output path can
// name one of its inputs (`tutti train d.npz -o d.npz` would replace the dataset with a model).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace tutti::cli {

// One path of a verb's command line and the flag or argument that gave it ("DATA", "-o").
struct NamedPath {
  std::string flag;
  std::string path;  // empty = not given, ignored
};

// Throws UsageError "<verb>: <out.flag> <out.path> is the input <in.flag> <in.path>; write to
// another file" when an output is the same file as an input: the same inode when both exist (so
// symbolic and hard links count), else the same path once `.`, `..` and links in its folders are
// resolved.
void check_outputs_differ(const std::string& verb, const std::vector<NamedPath>& inputs,
                          const std::vector<NamedPath>& outputs);

// For a verb that writes a whole folder: the folder must not be an input, and when the verb
// replaces the folder (`replaced`, e.g. synth --overwrite) no input may lie inside it.
void check_output_folder(const std::string& verb, const std::vector<NamedPath>& inputs,
                         const NamedPath& folder, bool replaced);

// For a verb's model argument: an existing model file, or the name of a shipped model
// (infer::resolve_model: `--model as20`), replaced by its path.
CLI::Validator model_file_or_name();

}  // namespace tutti::cli
