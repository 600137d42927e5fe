// Collector modules: each owns one top-level section of the YAML file (`ingest:`, `cost:`, `detect:`,
// `alertmanager:`, `retention:` …), reads it with config::Section (unknown keys are errors), and adds its
// routes and ingest observers through the context. To add a module, write its start function and add one
// line to collector_modules() in collector/modules.cpp.
#pragma once

#include <functional>
#include <memory>
#include <prometheus/registry.h>
#include <string_view>
#include <vector>

#include "collector/api/router.h"
#include "collector/config.h"
#include "collector/ingest/observers.h"
#include "collector/store/store.h"
#include "common/config.h"
#include "common/result.h"

namespace ss::collector {

struct CollectorContext {
  Store& store;
  Router& router;
  prometheus::Registry& registry;  // the collector's /metrics
  IngestObservers& observers;
  const CollectorConfig& config;  // the whole configuration (db path; sections other modules own, read-only)
};

// What a module leaves running (threads, timers). stop() is called on shutdown after the HTTP server has
// stopped taking requests and before the store closes, in reverse order of start.
class RunningModule {
 public:
  virtual ~RunningModule() = default;
  virtual void stop() {}
};

struct Module {
  std::string_view section;  // its top-level YAML key; "" when the module has no configuration
  // Gets its section (an empty mapping when absent). Throwing config::Invalid (Section helpers do) or
  // returning an Error stops the collector with that message. May return nullptr when nothing runs.
  std::function<Result<std::unique_ptr<RunningModule>>(const config::Section& section, CollectorContext& ctx)> start;
};

// Every module of the collector, in start order.
const std::vector<Module>& collector_modules();

// The module start functions of the collector's own API.
Result<std::unique_ptr<RunningModule>> start_ingest_api(const config::Section& section, CollectorContext& ctx);
Result<std::unique_ptr<RunningModule>> start_query_api(const config::Section& section, CollectorContext& ctx);
Result<std::unique_ptr<RunningModule>> start_ops_api(const config::Section& section, CollectorContext& ctx);
Result<std::unique_ptr<RunningModule>> start_remote_read_api(const config::Section& section, CollectorContext& ctx);
Result<void> check_remote_read_section(const config::Section& section);

}  // namespace ss::collector
