// `stormscope storm`: runs the metadata-storm load generator (cli/storm_load.h) and prints ops/s.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "cli/storm_load.h"

namespace ss::cli {

struct StormCommand {
  StormOptions options;
  std::string ops = "stat,open,readdir,create";
  std::string duration = "10s";
  bool keep = false;
};

// Registers the `storm` subcommand and its flags on `app`; `cmd` receives the values.
CLI::App* add_storm_command(CLI::App& app, StormCommand& cmd);

// Runs it: prints a table of ops and ops/s on stdout, errors on stderr; returns the exit code.
int run_storm_command(StormCommand& cmd);

}  // namespace ss::cli
