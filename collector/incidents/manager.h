// The incident lifecycle: findings in, incidents out. An Anomalous finding opens the incident of its key
// (or updates it: peak, severity, nodes, culprits, cost); Quiet findings close it once `quiet` has passed
// without the phenomenon; Unknown findings (or none) neither open nor close it, so a node that stops
// reporting is never taken for the end of a storm, until `max_unknown` has passed with no verdict.
// One incident per key at a time: one per phenomenon, not per bucket or per node.
// Cost (DESIGN.md §7) is computed from the stored series over the incident's whole window, when it opens,
// every `reprice_every` while open (so late points count) and when it closes, never afterwards.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collector/cost/idle_cost.h"
#include "collector/detect/detector.h"
#include "collector/incidents/incident.h"
#include "collector/incidents/incident_store.h"
#include "collector/store/store.h"

namespace ss::collector::incidents {

struct ManagerOptions {
  int64_t quiet_ms = 60'000;                   // default for every kind
  std::map<std::string, int64_t> quiet_by_kind = {{"ost_imbalance", 5 * 60'000}};
  int64_t max_unknown_ms = 5 * 60'000;
  size_t max_culprits = 10;
  cost::CostConfig cost;
  double victim_min_idle = 0.1;  // a job is a victim when its GPUs idled this fraction of their time
  int64_t reprice_every_ms = 60'000;
  bool keep_closed_in_memory = false;  // for benchmarks without a store
};

enum class Change { Opened, Updated, Closed };

class IncidentManager {
 public:
  using Listener = std::function<void(const Incident&, Change)>;

  // `store` and `series` may be null (no persistence, no cost).
  IncidentManager(ManagerOptions options, IncidentStore* store, Store* series);

  // Resumes the open incidents found in the store.
  Result<void> load();
  void add_listener(Listener l);

  // The findings of one bucket, in time order (the detection engine's sink).
  void on_bucket(int64_t bucket, int64_t interval_ms, std::vector<detect::Finding>& findings);

  std::vector<Incident> open_incidents() const;
  std::vector<Incident> closed_in_memory() const;
  // For /metrics: open incidents and GPU idle dollars attributed since start, per (kind, fs).
  std::map<std::pair<std::string, std::string>, int> active() const;
  std::map<std::pair<std::string, std::string>, double> cost_totals() const;
  uint64_t store_errors() const { return store_errors_; }

 private:
  struct Open {
    Incident inc;
    std::map<std::string, detect::Culprit> culprits;
    int64_t quiet_ms = 0, unknown_ms = 0;
    int64_t priced_at = 0;  // data time of the last pricing
    bool changed = false;
  };
  void apply(Open& o, detect::Finding& f, int64_t bucket, int64_t end);
  void price(Open& o);
  void close(Open& o, const std::string& reason);
  void persist(const Incident& i);
  int64_t quiet_for(const std::string& kind) const;

  ManagerOptions options_;
  IncidentStore* store_;
  Store* series_;
  std::vector<Listener> listeners_;
  mutable std::mutex mu_;
  std::map<std::string, Open> open_;  // by key
  std::vector<Incident> closed_;
  std::map<std::pair<std::string, std::string>, double> cost_totals_;
  uint64_t store_errors_ = 0;
};

std::string make_incident_id(const std::string& kind, int64_t start_ms, const std::string& key);

}  // namespace ss::collector::incidents
