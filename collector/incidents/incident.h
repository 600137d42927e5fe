// An incident (DESIGN.md §5): one phenomenon (a storm on a file system, a spike on a target, a stall of a
// job) from the bucket it was first seen to the end of the last bucket it was seen, with its peak,
// culprits, nodes and GPU idle cost. Times are data time (the samples' own timestamps).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/cost/incident_cost.h"
#include "collector/detect/detector.h"
#include "common/result.h"

namespace ss::collector::incidents {

inline constexpr const char* kKinds[] = {"metadata_storm", "waittime_spike", "ost_imbalance", "checkpoint_stall"};
bool valid_kind(std::string_view kind);

struct Incident {
  std::string id, kind, fs, target;
  std::string key;  // the phenomenon: "metadata_storm/ai0"
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;  // empty while open
  int64_t detected_ms = 0;        // data time when it was opened (end of the first bucket that showed it)
  int64_t last_seen_ms = 0;       // end of the last bucket that showed it
  std::string severity = "warning";
  std::string summary;
  std::vector<detect::Culprit> culprits;  // share of the excess, largest first
  std::vector<std::string> nodes;
  double gpu_idle_seconds = 0, cost_usd = 0;  // §7 over the whole window, from the stored series
  std::vector<cost::VictimCost> victims;        // storms and spikes: the jobs whose GPUs it idled
  double peak = 0;
  nlohmann::json evidence = nlohmann::json::object();  // of the peak bucket, plus "last"
  std::string close_reason;                            // "quiet" or "no data"

  bool open() const { return !end_ms.has_value(); }
};

nlohmann::json to_json(const Incident& i);
Result<Incident> incident_from_json(const nlohmann::json& j);

}  // namespace ss::collector::incidents
