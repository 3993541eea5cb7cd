// tutti: instrument recognition from weakly labeled music. Verbs live in cmd_*.cpp; this is the
// root of libtutti_app.so, which the `tutti` program loads (launcher/launcher.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "command.h"
#include "tutti/core/error.h"
#include "tutti/core/signals.h"

namespace tutti::cli {
std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}
}  // namespace tutti::cli

// The commands' entry point, called by the `tutti` program (launcher/launcher.cpp) once it has
// set the environment that libgomp and OpenBLAS read when this library loads.
extern "C" [[gnu::visibility("default")]] int tutti_main(int argc, char** argv) {
  // Ctrl-C or a kill during a write removes this run's staging files before the process dies.
  tutti::core::install_signal_cleanup();
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
    // One line: a library error that escaped its component (LibTorch, xgboost) may carry a
    // backtrace after its first line.
    const std::string msg = e.what();
    std::fprintf(stderr, "tutti: error: %s\n", msg.substr(0, msg.find('\n')).c_str());
    return 1;
  }
  return 0;
}
