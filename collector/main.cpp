// stormscope-collector: ingest, store, query API and /metrics (docs/collector.md).
#include <CLI/CLI.hpp>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <iostream>

#include "collector/collector.h"
#include "collector/section_checks.h"
#include "common/command_line.h"
#include "common/config.h"
#include "common/log.h"

using namespace ss;

int main(int argc, char** argv) {
  CLI::App app{"stormscope-collector: receives samples from agents, stores them and serves queries"};
  std::string config_path, listen, db, log_level;
  int threads = 0;
  app.add_option("--config", config_path, "YAML configuration file (every flag is also a key in it)");
  app.add_option("--listen", listen, "HTTP address HOST:PORT (default 0.0.0.0:9480)");
  app.add_option("--db", db, "SQLite database file (default ./data/stormscope.db)");
  app.add_option("--threads", threads, "threads running request handlers (default 8; connections need none of their own)");
  app.add_option("--log-level", log_level, "debug, info, warn or error (default info)");
  app.set_version_flag("--version", std::string("stormscope-collector ") + STORMSCOPE_VERSION);
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  YAML::Node root(YAML::NodeType::Map);
  if (!config_path.empty()) {
    auto loaded = config::load_file(config_path);
    if (!loaded) {
      log::error("{}", loaded.error().message);
      return 2;
    }
    root = *loaded;
  }
  // Flags win over the file: write them into the tree before reading it, so both go through one reader.
  if (!listen.empty()) root["listen"] = listen;
  if (!db.empty()) root["db"] = db;
  if (!log_level.empty()) root["log_level"] = log_level;
  if (threads != 0) root["http"]["threads"] = threads;
  auto cfg = collector::read_collector_config(root);
  if (!cfg) {
    log::error("{}{}", config_path.empty() ? "" : config_path + ": ", cfg.error().message);
    return 2;
  }
  if (auto checked = collector::check_module_sections(*cfg); !checked) {
    log::error("{}{}", config_path.empty() ? "" : config_path + ": ", checked.error().message);
    return 2;
  }
  log::Level level;
  log::parse_level(cfg->log_level, level);
  log::set_level(level);

  // Signals are taken by a waiting thread (sigwait) rather than a handler, so shutdown runs normal code.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Every agent keeps a connection open: take all the descriptors the hard limit allows (often 1,024 soft).
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < rlim_t(cfg->http.max_connections) + 256)
    log::warn("the open-file limit ({}) is below http.max_connections ({}): raise LimitNOFILE / ulimit -n",
              nofile.rlim_cur, cfg->http.max_connections);

  // Every failure to start is the operator's to fix (a bad key in any section, a port in use, a database
  // that cannot be opened): status 2, as for a bad flag. Configuration errors fail before anything is made.
  auto collector = collector::Collector::start(*cfg);
  if (!collector) {
    log::error("{}", collector.error().message);
    return 2;
  }
  std::string url = (*collector)->url();
  log::info("stormscope-collector {} listening on {}:{} (database {})", STORMSCOPE_VERSION, cfg->http.host,
            (*collector)->port(), cfg->db_path);
  log::info("ingest:  POST {}/api/v1/ingest", url);
  log::info("query:   GET  {}/api/v1/series?match=...  GET {}/api/v1/query_range?match=...", url, url);
  log::info("metrics: GET  {}/metrics   health: GET {}/healthz", url, url);

  int sig = 0;
  sigwait(&signals, &sig);
  log::info("received {}, shutting down: finishing requests in progress", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*collector)->stop();
  log::info("stopped; every acknowledged batch is in {}", cfg->db_path);
  return 0;
}
