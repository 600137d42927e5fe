// Runs every source once per cycle, each in its own worker thread with a deadline, so one slow or hanging
// source (a stuck `lctl`, an NFS stat) never delays or stops the others. A source that misses its deadline is
// reported down and is not started again until its stuck call returns.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/source.h"

namespace ss::agent {

// The outputs of several sources, shared rather than copied (a Lustre client's cycle is ~20k samples).
using Outputs = std::vector<std::shared_ptr<const Collection>>;

// A series' identity hash (name and labels), for grouping samples without building key strings. Its label part
// can be computed once for the samples that share a label set.
uint64_t series_hash(const Sample& s);
uint64_t labels_hash(const Labels& labels);
inline uint64_t combine_series_hash(uint64_t name_hash, uint64_t labels_hash) {
  return name_hash * 0x9e3779b97f4a7c15ull ^ labels_hash;
}
bool same_series(const Sample& a, const Sample& b);

struct SchedulerOptions {
  int64_t interval_ms = 10'000;
  int64_t default_timeout_ms = 5'000;
  std::map<std::string, int64_t> timeouts_ms;  // by source name; overrides the default
};

class Scheduler {
 public:
  Scheduler(std::vector<std::unique_ptr<Source>> sources, SchedulerOptions options);
  ~Scheduler();  // a source still stuck in collect() is left to finish on its own thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Starts every source due at cycle time t_ms, waits for each up to its timeout and returns what the sources
  // produced in this cycle (sources with a longer interval that did not run add nothing).
  Outputs run_cycle(int64_t t_ms);

  // The latest output of every source (a source that timed out contributes nothing), for the exporter.
  Outputs latest() const;

  // stormscope_agent_source_up / _errors_total / _duration_seconds for every source, stamped t_ms.
  void add_self_metrics(Collection& out) const;


 private:
  struct Shared;
  struct Worker;
  static void work(std::shared_ptr<Shared> shared, std::shared_ptr<Worker> w);

  SchedulerOptions options_;
  std::shared_ptr<Shared> shared_;
  std::vector<std::shared_ptr<Worker>> workers_;
};

// The first cycle time at or after now_ms that is a multiple of interval_ms.
int64_t align_up(int64_t now_ms, int64_t interval_ms);

}  // namespace ss::agent
