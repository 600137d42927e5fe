// `stormscope` subcommands. Each lives in its own file and is listed once in cli/main.cpp: its setup
// function defines the subcommand's flags on `sub` and returns what runs when it is chosen.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ss::cli {

// Settings every subcommand that talks to a collector shares: flags, else the YAML file of --config
// (keys `collector` and `token`), else the defaults.
struct Globals {
  std::string collector = "http://127.0.0.1:9480";
  std::string token;  // bearer token for ingest, when the collector requires one
};

using CommandRun = std::function<int(const Globals& globals)>;

struct Command {
  std::string name;
  std::string help;
  std::function<CommandRun(CLI::App& sub)> setup;
};

Command query_command();   // cli/query.cpp
Command replay_command();  // cli/replay.cpp
Command plan_command();    // cli/plan.cpp
Command storm_command();   // cli/storm.cpp
Command simulate_command();   // cli/simulate.cpp
Command incidents_command();  // cli/incidents.cpp
Command report_command();     // cli/report.cpp

}  // namespace ss::cli
