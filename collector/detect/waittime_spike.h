// waittime_spike (DESIGN.md §6): per Lustre target, the mean wait per RPC in a bucket
// (Σ Δ req_waittime seconds / Σ Δ RPCs over every client node) above a floor and far above the target's
// own baseline (median + k·MAD and ratio × median of the trailing window). Buckets with fewer than
// min_rpcs RPCs are not judged (a handful of RPCs makes a noisy mean). Reported per target, with the
// nodes whose own mean wait was above the floor.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "collector/detect/detector.h"
#include "collector/detect/robust.h"

namespace ss::collector::detect {

struct WaittimeSpikeParams {
  int64_t window_ms = 30 * 60'000;
  int64_t min_history_ms = 5 * 60'000;
  double floor_ms = 100;  // mean wait per RPC, at least
  double k = 6;           // MADs (as sigma) above the baseline
  double min_ratio = 3;   // times the baseline median, at least
  double min_rpcs = 20;   // RPCs in a bucket for the mean to be judged
};

class WaittimeSpike : public Detector {
 public:
  WaittimeSpike(WaittimeSpikeParams params, int64_t interval_ms);
  std::string_view kind() const override { return "waittime_spike"; }
  bool wants(std::string_view name) const override {
    return name == "lustre_client_rpc_wait_seconds_total" || name == "lustre_client_rpcs_total";
  }
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  struct Acc {
    std::string fs;
    double wait_s = 0, rpcs = 0;
    std::map<std::string, std::pair<double, double>> by_node;  // wait seconds, rpcs
  };
  WaittimeSpikeParams params_;
  int64_t interval_ms_;
  size_t window_buckets_, min_history_;
  std::map<int64_t, std::map<std::string, Acc>> pending_;  // bucket → target
  std::unordered_map<std::string, History> history_;       // target → mean wait (s)
  std::map<std::string, std::set<std::string>> spike_nodes_;
};

}  // namespace ss::collector::detect
