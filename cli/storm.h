// `stormscope storm`: runs the metadata-storm load generator (tools/storm_load.h) and prints ops/s.
// Listed in cli/main.cpp as cli::storm_command() (declared in cli/command.h).
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "tools/storm_load.h"

namespace ss::cli {

struct StormCommand {
  StormOptions options;
  std::string ops = "stat,open,readdir,create";
  std::string duration = "10s";
  bool keep = false;
};

// Defines the flags of `storm` on its subcommand `sub`; `cmd` receives the values.
void add_storm_flags(CLI::App& sub, StormCommand& cmd);

// Runs it: prints a table of ops and ops/s on stdout, errors on stderr; returns the exit code.
int run_storm_command(StormCommand& cmd);

}  // namespace ss::cli
