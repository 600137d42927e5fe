// GET /api/v1/cost: GPU-hours, idle GPU-hours below baseline and dollars per job and node over a time
// range, from the stored gpu_utilization_ratio series (DESIGN.md §7 over every GPU, not one incident).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "collector/cost/idle_cost.h"
#include "collector/cost/prices.h"
#include "collector/store/store.h"

namespace ss::collector::cost {

struct CostQuery {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  std::string job;   // only this job when set
  std::string node;  // only this node when set
};

struct CostRow {
  std::string job;  // "" when the GPU's processes had no known job
  std::string node;
  int gpus = 0;
  double gpu_hours = 0;
  double idle_gpu_hours = 0;
  double cost_usd = 0;
};

struct CostReport {
  CostQuery query;
  Pricing pricing = Pricing::Spot;
  std::vector<CostRow> rows;  // most expensive first
  CostRow total;              // job and node empty
  int gpus_without_baseline = 0;  // GPUs priced against default_baseline (no data before `from`)
};

// Each GPU (node + uuid, or node + gpu index) gets its baseline from all its series before `from`; each
// interval is charged to the job its point carries, so a GPU that changes jobs is split between them.
Result<CostReport> compute_cost_report(Store& store, const CostQuery& query, const CostConfig& config);

nlohmann::json cost_report_json(const CostReport& report);

struct CostAnswer {
  int status = 200;
  std::string body;  // JSON
};

// The whole request: parameters from, to (ms or RFC 3339, "now-1h"; default the last hour), job, node.
CostAnswer handle_cost_request(Store& store, const CostConfig& config, const std::map<std::string, std::string>& params,
                               int64_t now_ms);

}  // namespace ss::collector::cost
