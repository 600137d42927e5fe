// stormscope: the command-line tool (docs/cli.md). One line per subcommand below.
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <string_view>

#include "cli/command.h"
#include "common/command_line.h"
#include "common/config.h"

using namespace ss;

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  const std::vector<cli::Command> commands{
      cli::query_command(),
      cli::replay_command(),
      cli::plan_command(),
      cli::storm_command(),
      cli::simulate_command(),
      cli::incidents_command(),
      cli::report_command(),
  };

  CLI::App app{"stormscope: query a collector, replay recorded batches, and more"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("stormscope ") + STORMSCOPE_VERSION);
  std::string config_path, collector, token;
  app.add_option("--config", config_path, "YAML file with defaults: collector, token");
  app.add_option("--collector", collector, "collector URL (default http://127.0.0.1:9480)");
  app.add_option("--token", token, "bearer token for the collector's ingest");
  std::vector<cli::CommandRun> runs(commands.size());
  std::vector<CLI::App*> subs;
  for (size_t i = 0; i < commands.size(); ++i) {
    CLI::App* sub = app.add_subcommand(commands[i].name, commands[i].help);
    sub->fallthrough();  // --collector and friends may come after the subcommand too
    runs[i] = commands[i].setup(*sub);
    subs.push_back(sub);
  }
  // The first word that is not a flag (nor the value of a top-level flag) names the subcommand: say so when it
  // names none, rather than CLI11's "The following arguments were not expected".
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--config" || arg == "--collector" || arg == "--token") {
      ++i;
      continue;
    }
    if (arg.starts_with("-")) continue;
    if (std::none_of(commands.begin(), commands.end(), [&](const cli::Command& c) { return c.name == arg; })) {
      std::string names;
      for (const auto& c : commands) names += (names.empty() ? "" : ", ") + c.name;
      std::cerr << "stormscope: unknown subcommand \"" << arg << "\" (subcommands: " << names
                << "; stormscope --help)\n";
      return 2;
    }
    break;
  }
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  cli::Globals g;
  if (!config_path.empty()) {
    auto root = config::load_file(config_path);
    if (!root) {
      std::cerr << "stormscope: " << root.error().message << "\n";
      return 2;
    }
    auto read = config::read([&] {
      config::Section top(*root, "");
      top.allow_only({"collector", "token"});
      g.collector = top.string("collector", g.collector);
      g.token = top.string("token", g.token);
      return true;
    });
    if (!read) {
      std::cerr << "stormscope: " << config_path << ": " << read.error().message << "\n";
      return 2;
    }
  }
  if (!collector.empty()) g.collector = collector;
  if (!token.empty()) g.token = token;
  for (size_t i = 0; i < subs.size(); ++i)
    if (subs[i]->parsed()) return runs[i](g);
  return 2;
}
