// ost_imbalance (DESIGN.md §6): the fill fractions of one file system's stripe targets spread too far (the
// fullest at or above `full` while the median is below `median_below`, or max − min above `spread`), or the
// write load skewed onto few of them (the busiest writes skew_ratio × the median, sustained for skew_for).
// Lustre: the OSTs (lustre_target_*), write load per OST. BeeGFS: the storage targets of each instance
// (beegfs_target_*{nodetype="storage"}, keyed by fs), write load per storage server (BeeGFS reports disk
// bytes per server, not per target). Metadata targets (MDTs, BeeGFS meta targets) hold inodes, not stripes,
// and never enter the spread. Weka stripes every file system over all drives: nothing to judge. A target
// whose gauges are older than `stale` is left out; with fewer than min_targets fresh targets nothing is
// judged. Reports the fullest and emptiest targets and how many bytes to move.
#pragma once

#include <map>
#include <string>

#include "collector/detect/detector.h"

namespace ss::collector::detect {

struct OstImbalanceParams {
  double full = 0.90;
  double median_below = 0.70;
  double spread = 0.25;
  int64_t for_ms = 0;  // the fill condition must hold this long
  int64_t stale_ms = 5 * 60'000;
  size_t min_targets = 2;
  double skew_ratio = 4;
  double min_write_rate = 100e6;  // bytes/s over the file system for skew to be judged
  int64_t skew_for_ms = 10 * 60'000;
};

class OstImbalance : public Detector {
 public:
  OstImbalance(OstImbalanceParams params, int64_t interval_ms);
  std::string_view kind() const override { return "ost_imbalance"; }
  bool wants(std::string_view name) const override;
  bool wants_series(std::string_view name, const Labels& labels) const override {
    if (name.starts_with("beegfs_")) return name == "beegfs_server_bytes_total" || label_value(labels, "nodetype") == "storage";
    return is_ost(label_value(labels, "target"));  // MDTs hold inodes, not stripes
  }
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  struct Fill {
    double capacity = 0, available = -1, free = -1;
    int64_t t_capacity = 0, t_available = 0, t_free = 0;
  };
  // A file system of one kind: Lustre and BeeGFS names may coincide.
  using FsKey = std::pair<bool, std::string>;  // (BeeGFS?, fs)
  struct FsState {
    std::map<std::string, Fill> targets;
    int64_t fill_since = -1;  // first bucket the fill condition held, -1 when not holding
    int64_t skew_since = -1;
    bool anomalous = false;
  };
  struct Writes {
    std::map<std::string, double> client, server;  // target → bytes/s
  };
  OstImbalanceParams params_;
  int64_t interval_ms_;
  std::map<FsKey, FsState> fs_;
  std::map<int64_t, std::map<FsKey, Writes>> writes_;  // bucket → file system
};

}  // namespace ss::collector::detect
