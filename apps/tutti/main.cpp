// tutti: instrument recognition from weakly labeled music. Verbs live in cmd_*.cpp.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "command.h"
#include "tutti/core/error.h"

namespace tutti::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace tutti::cli

int main(int argc, char** argv) {
  CLI::App app{"tutti: which instruments play in polyphonic music, and when"};
  app.set_version_flag("--version", std::string("tutti ") + TUTTI_VERSION);
  app.require_subcommand(1);
  auto& registry = tutti::cli::command_registry();
  std::sort(registry.begin(), registry.end(),
            [](const auto& a, const auto& b) { return a.order < b.order; });
  for (const auto& cmd : registry) cmd.setup(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "tutti: %s\n", e.what());
    return 2;
  } catch (const tutti::UsageError& e) {
    std::fprintf(stderr, "tutti: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tutti: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
