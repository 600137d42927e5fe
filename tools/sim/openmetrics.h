// The simulator's batches as Prometheus would have stored them from scraping each node's agent, written as
// OpenMetrics text for `promtool tsdb create-blocks-from openmetrics` (Prometheus rules and dashboards
// tested on simulated incidents). Scrape semantics: honor_labels (a series' own `job` label, a Slurm
// job id, is kept; others get the scrape job), `instance` = node:agent port, and `up` per node and
// interval: 1 when the node reported, 0 when it was silent.
#pragma once

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "common/sample.h"

namespace ss::collector::sim {

struct ScrapeLabels {
  std::string job = "stormscope-agent";  // the scrape job of the agents (docs/alerting.md)
  std::string port = "9479";             // instance = <node>:<port>
};

// Collects batches (any order of nodes; each series' points in time order) and writes them grouped by
// metric family, as OpenMetrics requires. Keeps everything in memory: meant for test-sized runs.
class OpenMetricsWriter {
 public:
  explicit OpenMetricsWriter(ScrapeLabels scrape = {}) : scrape_(std::move(scrape)) {}

  void add(const Batch& batch);
  // Writes every family, `up`, then `# EOF`.
  void write(std::ostream& out) const;

 private:
  struct Family {
    SeriesType type = SeriesType::Gauge;
    std::map<std::string, std::vector<Point>> series;  // label text {a="x",...} → points
  };
  ScrapeLabels scrape_;
  std::map<std::string, Family> families_;           // metric family name → series
  std::map<std::string, std::set<int64_t>> reported_;  // instance → timestamps it reported at
  std::set<int64_t> times_;
};

}  // namespace ss::collector::sim
