// ost_imbalance (DESIGN.md §6): the fill fractions of one file system's OSTs spread too far (the fullest
// at or above `full` while the median is below `median_below`, or max − min above `spread`), or the write
// load skewed onto few OSTs (the busiest OST writes skew_ratio × the median OST, sustained for skew_for).
// Only OST targets count: an MDT's fill is not a stripe target and never enters the spread. A target
// whose gauges are older than `stale` is left out; with fewer than min_targets fresh OSTs nothing is
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
  bool wants_series(std::string_view, const Labels& labels) const override {
    return is_ost(label_value(labels, "target"));  // MDTs hold inodes, not stripes
  }
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  struct Fill {
    double capacity = 0, available = -1, free = -1;
    int64_t t_capacity = 0, t_available = 0, t_free = 0;
  };
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
  std::map<std::string, FsState> fs_;
  std::map<int64_t, std::map<std::string, Writes>> writes_;  // bucket → fs
};

}  // namespace ss::collector::detect
