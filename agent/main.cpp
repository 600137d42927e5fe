// stormscope-agent: runs the sources every interval, serves /metrics and ships batches to the collector.
#include <signal.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "agent/agent_config.h"
#include "agent/exporter.h"
#include "agent/scheduler.h"
#include "agent/shipper.h"
#include "agent/sources/registry.h"
#include "agent/spool.h"
#include "common/command_line.h"
#include "common/config.h"
#include "common/log.h"
#include "common/time.h"

using namespace ss;
using namespace ss::agent;

namespace {

std::mutex stop_mu;
std::condition_variable stop_cv;
bool stop_requested = false;

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  std::string h(buf);
  return h.substr(0, h.find('.'));  // the short name, as Slurm and Prometheus targets use it
}

// The agent's own metrics at cycle time t_ms.
std::shared_ptr<const Collection> self_metrics(const Scheduler& scheduler, const Shipper* shipper, int64_t t_ms) {
  auto self = std::make_shared<Collection>(t_ms);
  scheduler.add_self_metrics(*self);
  if (shipper) shipper->add_metrics(*self);
  return self;
}

// /metrics serves the latest output of every source and the agent's own metrics.
void publish(Exporter& exporter, const Scheduler& scheduler, std::shared_ptr<const Collection> self) {
  Outputs view = scheduler.latest();
  view.push_back(std::move(self));
  exporter.publish(std::move(view));
}

int run(const AgentConfig& cfg) {
  log::Level level;
  log::parse_level(cfg.log_level, level);
  log::set_level(level);

  AgentContext ctx{cfg.node, cfg.interval_ms, cfg.proc_root, FsNames{cfg.fs_names}};
  auto sources = make_sources(config::Section(cfg.sources, "sources"), ctx);
  if (!sources) {
    log::error("configuration: {}", sources.error().message);
    return 2;
  }
  SchedulerOptions sopts{cfg.interval_ms, cfg.source_timeout_ms, cfg.source_timeouts_ms};
  std::vector<std::string> names;
  for (const auto& s : *sources) names.emplace_back(s->name());
  for (const auto& [name, ms] : cfg.source_timeouts_ms) {
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      log::error("configuration: source_timeouts.{}: no such source is enabled", name);
      return 2;
    }
  }

  std::unique_ptr<Spool> spool;
  std::unique_ptr<Shipper> shipper;
  if (!cfg.collectors.empty()) {
    auto s = Spool::open(cfg.spool, SpoolOptions{cfg.spool_max_bytes});
    if (!s) {
      log::error("{}", s.error().message);
      return 1;
    }
    spool = std::move(*s);
    auto sh = Shipper::create(*spool, ShipperOptions{cfg.collectors, cfg.token, cfg.node, cfg.request_timeout_ms,
                                                      500, cfg.max_backoff_ms, cfg.first_send_jitter_ms});
    if (!sh) {
      log::error("configuration: {}", sh.error().message);
      return 2;
    }
    shipper = std::move(*sh);
  }

  Exporter exporter;
  auto hp = parse_host_port(cfg.listen);
  auto port = exporter.start(*hp);
  if (!port) {
    log::error("{}", port.error().message);
    return 2;  // a port in use is the operator's to fix, like a bad key
  }
  std::string shown_host = hp->host == "0.0.0.0" || hp->host == "::" ? host_name() : hp->host;
  log::info("stormscope-agent {} on node {}: metrics at http://{}:{}/metrics (listening on {}:{}), every {}",
            STORMSCOPE_VERSION, cfg.node, shown_host, *port, hp->host, *port, format_duration(cfg.interval_ms));
  log::info("sources: {}", names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")));
  if (shipper) {
    auto st = spool->stats();
    log::info("shipping to {} through spool {} (stream {}, {} batches waiting)", fmt::join(cfg.collectors, " and "), spool->dir(),
              spool->stream(), st.batches);
    shipper->start();
  } else {
    log::info("no --collector given: not shipping, only serving /metrics");
  }

  Scheduler scheduler(std::move(*sources), sopts);
  publish(exporter, scheduler, self_metrics(scheduler, shipper.get(), now_ms()));

  int64_t next = align_up(now_ms(), cfg.interval_ms);
  for (;;) {
    {
      std::unique_lock lk(stop_mu);
      // Wall-clock target, re-checked in short steps so a clock step does not leave us asleep for long.
      while (!stop_requested && now_ms() < next)
        stop_cv.wait_for(lk, std::chrono::milliseconds(std::min<int64_t>(next - now_ms(), 1000)));
      if (stop_requested) break;
    }
    Outputs cycle = scheduler.run_cycle(next);
    auto self = self_metrics(scheduler, shipper.get(), next);
    if (shipper) {
      cycle.push_back(self);
      if (auto seq = shipper->enqueue(cycle); !seq) log::error("cycle {}: {}", format_rfc3339(next), seq.error().message);
    }
    publish(exporter, scheduler, std::move(self));

    int64_t now = now_ms();
    next += cfg.interval_ms;
    if (next <= now) {
      int64_t skipped_to = align_up(now + 1, cfg.interval_ms);
      log::warn("the cycle took {} ms; skipping {} cycle(s)", now - (next - cfg.interval_ms),
                (skipped_to - next) / cfg.interval_ms);
      next = skipped_to;
    }
  }

  // Every cycle's batch is in the spool as soon as the cycle ends, so stopping loses nothing: unsent batches
  // go out at the next start.
  log::info("stopping");
  if (shipper) {
    shipper->stop();
    log::info("{} batches left in the spool for the next start", spool->stats().batches);
  }
  exporter.stop();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"stormscope-agent: storage and GPU metrics of this node, served on /metrics and shipped to a "
               "Stormscope collector.\nEvery flag is also a key of the --config YAML file (flags win); sources are "
               "configured under `sources:` there. See docs/agent.md."};
  AgentFlags flags;
  std::string config_path;
  auto opt = [&](const char* name, std::optional<std::string>& target, const char* help) {
    app.add_option_function<std::string>(name, [&target](const std::string& v) { target = v; }, help);
  };
  opt("--collector", flags.collector, "collector URL to ship to, e.g. http://collector:9480; several separated by commas each get every batch (default: no shipping)");
  opt("--listen", flags.listen, "HOST:PORT of /metrics and /healthz (default 0.0.0.0:9479)");
  opt("--interval", flags.interval, "collection interval, e.g. 10s (default 10s)");
  opt("--node", flags.node, "this node's name in shipped batches (default: the host name)");
  opt("--spool", flags.spool, "spool directory for batches not yet shipped (default ./data/spool)");
  opt("--token-file", flags.token_file, "file holding the collector's bearer token");
  opt("--log-level", flags.log_level, "debug, info, warn or error (default info)");
  app.add_option("--config", config_path, "YAML configuration file");
  app.set_version_flag("--version", std::string("stormscope-agent ") + STORMSCOPE_VERSION);
  if (auto exit_code = parse_command_line(app, argc, argv)) return *exit_code;

  YAML::Node file(YAML::NodeType::Map);
  if (!config_path.empty()) {
    auto loaded = config::load_file(config_path);
    if (!loaded) {
      log::error("{}", loaded.error().message);
      return 2;
    }
    file = *loaded;
  }
  auto cfg = make_agent_config(file, flags, host_name());
  if (!cfg) {
    log::error("configuration{}: {}", config_path.empty() ? "" : " " + config_path, cfg.error().message);
    return 2;
  }

  // Signals are taken by one thread with sigwait, so no other thread is interrupted in a system call.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    int sig = 0;
    sigwait(&set, &sig);
    log::info("received {}", sig == SIGINT ? "SIGINT" : "SIGTERM");
    {
      std::lock_guard lk(stop_mu);
      stop_requested = true;
    }
    stop_cv.notify_all();
  }).detach();

  return run(*cfg);
}
