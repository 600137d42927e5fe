// The running collector: store, HTTP server and modules, started and stopped as one. Used by main,
// tests and benchmarks (port 0 picks a free port).
#pragma once

#include <memory>
#include <string>

#include "collector/config.h"
#include "collector/ingest/observers.h"
#include "collector/store/store.h"
#include "common/result.h"

namespace ss::collector {

class Collector {
 public:
  ~Collector();

  // Opens the store, starts every module and binds the listen address; serves in a background thread.
  static Result<std::unique_ptr<Collector>> start(const CollectorConfig& config);

  int port() const;          // the bound port (useful with port 0)
  std::string url() const;   // http://host:port, with 127.0.0.1 for a wildcard host
  Store& store();
  IngestObservers& observers();  // also reachable by modules through CollectorContext

  // Stops taking requests, lets requests in progress finish (their batches are durable before they are
  // answered), stops the modules and closes the store. Safe to call twice.
  void stop();

  struct Impl;

 private:
  explicit Collector(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ss::collector
