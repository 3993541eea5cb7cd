#include "outputs.h"

#include <filesystem>
#include <system_error>

#include "tutti/core/error.h"
#include "tutti/infer/model_file.h"

namespace fs = std::filesystem;

namespace tutti::cli {

namespace {

bool same_file(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    const bool eq = fs::equivalent(a, b, ec);
    if (!ec) return eq;
  }
  // An output that does not exist yet can still name an input through another spelling
  // (./d.npz, dir/../d.npz, a linked folder).
  const auto ca = fs::weakly_canonical(a, ec);
  if (ec) return false;
  const auto cb = fs::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

// `inner` lies inside `folder` (after resolving links; the folder need not exist).
bool inside(const fs::path& inner, const fs::path& folder) {
  std::error_code ec;
  const auto ci = fs::weakly_canonical(inner, ec);
  if (ec) return false;
  const auto cf = fs::weakly_canonical(folder, ec);
  if (ec) return false;
  auto f = cf.begin();
  auto i = ci.begin();
  for (; f != cf.end() && !f->empty(); ++f, ++i)
    if (i == ci.end() || *i != *f) return false;
  return true;
}

[[noreturn]] void refuse(const std::string& verb, const NamedPath& out, const NamedPath& in) {
  fail<UsageError>("{}: {} {} is the input {} {}; write to another file", verb, out.flag, out.path,
                   in.flag, in.path);
}

}  // namespace

void check_outputs_differ(const std::string& verb, const std::vector<NamedPath>& inputs,
                          const std::vector<NamedPath>& outputs) {
  for (const auto& out : outputs) {
    if (out.path.empty()) continue;
    for (const auto& in : inputs)
      if (!in.path.empty() && same_file(out.path, in.path)) refuse(verb, out, in);
  }
}

void check_output_folder(const std::string& verb, const std::vector<NamedPath>& inputs,
                         const NamedPath& folder, bool replaced) {
  check_outputs_differ(verb, inputs, {folder});
  if (!replaced || folder.path.empty()) return;
  for (const auto& in : inputs)
    if (!in.path.empty() && inside(in.path, folder.path))
      fail<UsageError>("{}: {} {} would be replaced, but the input {} {} is inside it", verb,
                       folder.flag, folder.path, in.flag, in.path);
}

CLI::Validator model_file_or_name() {
  return CLI::Validator(
      [](std::string& value) {
        try {
          value = infer::resolve_model(value).string();
        } catch (const Error& e) {
          return std::string(e.what());
        }
        return std::string();
      },
      "FILE|NAME");
}

}  // namespace tutti::cli
