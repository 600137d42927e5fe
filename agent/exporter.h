// The agent's HTTP endpoint: /metrics in the Prometheus text format 0.0.4, rendered from the latest output of
// every source plus the agent's own metrics, and /healthz.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "agent/scheduler.h"
#include "agent/source.h"
#include "common/result.h"

namespace httplib {
class Server;
}

namespace ss::agent {

// Prometheus text format 0.0.4: one HELP and TYPE per family (families sorted by name), histogram series
// grouped per label set with buckets in ascending `le` then _sum and _count, label values escaped, no
// timestamps. A repeated series keeps its last value. Samples of undescribed families are rendered untyped.
std::string render_prometheus(const Outputs& outputs);
std::string render_prometheus(const Collection& c);

// "HOST:PORT", "[::1]:PORT" or ":PORT" (all addresses); port 0 asks the kernel for a free one.
struct HostPort {
  std::string host;
  int port = 0;
};
Result<HostPort> parse_host_port(std::string_view text);

class Exporter {
 public:
  Exporter();
  ~Exporter();
  Exporter(const Exporter&) = delete;
  Exporter& operator=(const Exporter&) = delete;

  // Binds and serves in a background thread; returns the bound port.
  Result<int> start(const HostPort& listen);
  void stop();

  // Replaces what /metrics serves. The text is rendered when first asked for, so an agent nobody scrapes
  // spends nothing on it.
  void publish(Outputs outputs);
  void publish(const Collection& c);

 private:
  std::shared_ptr<const std::string> text();

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  std::mutex mu_;
  Outputs outputs_;
  std::shared_ptr<const std::string> text_;  // rendered from outputs_, null until asked for
};

}  // namespace ss::agent
