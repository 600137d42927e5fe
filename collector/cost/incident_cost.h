// The GPU idle cost of one incident (DESIGN.md §7), from the stored gpu_utilization_ratio series over the
// incident's whole window, each GPU against its mean utilization over baseline_window before the start:
//
//   a checkpoint stall costs the idle time of every GPU of its job;
//   a storm or spike costs the idle time of its victims: the jobs on nodes that talk to the affected file
//   system (or target) whose GPUs fell below their baseline during the window, by at least
//   `min_idle_fraction` of their GPU time (noise around the baseline is no victim).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "collector/cost/prices.h"
#include "collector/store/store.h"
#include "common/result.h"

namespace ss::collector::cost {

struct VictimCost {
  std::string job;
  std::vector<std::string> nodes;
  double gpu_idle_seconds = 0, cost_usd = 0;
};

struct IncidentCost {
  double gpu_idle_seconds = 0, cost_usd = 0;
  std::vector<VictimCost> victims;  // storms and spikes; largest cost first
};

// Every GPU of `job` in [from_ms, to_ms].
Result<IncidentCost> job_idle_cost(Store& store, const std::string& job, int64_t from_ms, int64_t to_ms,
                                   const CostConfig& config);

// The victims of a storm or spike on `fs` (and `target` when not empty) in [from_ms, to_ms].
Result<IncidentCost> victims_idle_cost(Store& store, const std::string& fs, const std::string& target, int64_t from_ms,
                                       int64_t to_ms, const CostConfig& config, double min_idle_fraction);

}  // namespace ss::collector::cost
