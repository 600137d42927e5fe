// waittime_spike (DESIGN.md §6), generalised: "requests to this server, target or file system take far longer
// than their baseline". One judged value per target and bucket, in seconds per request:
//   Lustre  per target: Σ Δ req_waittime seconds / Σ Δ RPCs over every client node (weight: the RPCs);
//   Weka    per cluster (fs) and op: weka_op_latency_seconds, the mean over Weka's minute (weight: the op's
//           count in the minute, weka_op_rate × 60); judged once a minute, as Weka reports;
//   BeeGFS  per meta or storage server: the wait a request can expect in its queue, queue length / request
//           rate (Little's law; beegfs_server_queue_length over Δ beegfs_server_requests_total), judged only
//           when at least beegfs_min_queue requests wait (BeeGFS servers report no latency); busy workers
//           are evidence.
// A value fires when above its file system's floor and far above the target's own baseline (median + k·MAD
// and ratio × median of the trailing window). Buckets whose weight is below the minimum are not judged.
// Reported per target, with the nodes whose own mean wait was above the floor (Lustre).
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
  double floor_ms = 100;  // Lustre: mean wait per RPC, at least
  double k = 6;           // MADs (as sigma) above the baseline
  double min_ratio = 3;   // times the baseline median, at least
  double min_rpcs = 20;   // RPCs (Weka: ops in the minute) in a bucket for the mean to be judged
  double weka_floor_ms = 5;     // Weka: mean op latency over the minute, at least (Weka answers in µs)
  double beegfs_floor_ms = 100;  // BeeGFS: expected queue wait, at least
  double beegfs_min_queue = 8;  // BeeGFS: queued requests, at least
};

class WaittimeSpike : public Detector {
 public:
  WaittimeSpike(WaittimeSpikeParams params, int64_t interval_ms);
  std::string_view kind() const override { return "waittime_spike"; }
  bool wants(std::string_view name) const override;
  bool wants_series(std::string_view name, const Labels& labels) const override;
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  enum class Family { Lustre, Weka, Beegfs };
  struct Acc {
    Family family = Family::Lustre;
    std::string fs, target, nodetype;
    double wait_s = 0, rpcs = 0;                                 // Lustre
    double latency_s = -1, op_rate = -1;                         // Weka
    double queue = -1, busy = -1, requests = 0, requests_dt = 0;  // BeeGFS
    std::map<std::string, std::pair<double, double>> by_node;    // Lustre: wait seconds, rpcs
  };
  // The judged value (seconds per request) and its weight; false when the bucket cannot be judged.
  bool judged_value(const Acc& a, double& value_s, double& weight) const;
  double floor_s(Family f) const;

  WaittimeSpikeParams params_;
  int64_t interval_ms_;
  size_t window_buckets_, min_history_;
  std::map<int64_t, std::map<std::string, Acc>> pending_;  // bucket → key
  std::unordered_map<std::string, History> history_;       // key → judged values
  std::map<std::string, std::pair<Acc, std::set<std::string>>> spiking_;  // key → the target, its spike nodes
};

}  // namespace ss::collector::detect
