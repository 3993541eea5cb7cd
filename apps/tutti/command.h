// How verbs join the `tutti` program: each cmd_*.cpp registers itself with TUTTI_COMMAND, so
// adding a verb touches no shared file. A verb's setup adds a CLI11 subcommand to the root app and
// binds its flags; its callback calls the library and throws tutti::Error on failure (main maps
// UsageError to exit 2, any other error to 1).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace tutti::cli {

struct Command {
  std::string name;
  int order;  // position in --help
  std::function<void(CLI::App& root)> setup;
};

std::vector<Command>& command_registry();

inline int register_command(std::string name, int order, std::function<void(CLI::App&)> setup) {
  command_registry().push_back({std::move(name), order, std::move(setup)});
  return 0;
}

}  // namespace tutti::cli

#define TUTTI_CMD_CONCAT_(a, b) a##b
#define TUTTI_CMD_CONCAT(a, b) TUTTI_CMD_CONCAT_(a, b)
#define TUTTI_COMMAND(name, order, setup_fn)                                                   \
  static const int TUTTI_CMD_CONCAT(tutti_command_, __LINE__) =                                \
      ::tutti::cli::register_command(name, order, setup_fn)
