// stormscope: the command-line tool (docs/cli.md). One line per subcommand below.
#include <signal.h>

#include <iostream>

#include "cli/command.h"
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
  CLI11_PARSE(app, argc, argv);

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
