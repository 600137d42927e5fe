// The detection engine: turns ingest batches into observations on data time and runs the detectors
// bucket by bucket. Counter resets (a value below the previous one: remount, reboot, agent restart) and
// gaps longer than max_gap give no observation at all, so neither can look like a burst.
//
// A bucket is judged only when its data is in: when every node that has reported has delivered data past
// the bucket's end, except the nodes given up on. A node is given up on once the newest data of any node
// is `lateness` ahead of its own (data time: a replay or a spool drained after an outage is judged as
// it happened), or once it has sent nothing for `silent_after` on the wall clock (a dead agent delays
// live verdicts by that much at most). Agents that send many samples at once, out of phase with each
// other, therefore change no verdict. A bucket judged while a node that had reported within max_gap
// before it was given up on counts as incomplete.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <set>
#include <unordered_map>
#include <vector>

#include "collector/detect/detector.h"
#include "collector/detect/series_map.h"
#include "common/sample.h"

namespace ss::collector::detect {

struct EngineOptions {
  int64_t interval_ms = 10'000;      // bucket width; the agents' interval
  int64_t lateness_ms = 15 * 60'000;  // a node this far behind the newest data (data time) is not awaited
  int64_t silent_after_ms = 3 * 60'000;  // a node silent this long on the wall clock is not awaited
  int64_t max_gap_ms = 35'000;       // a counter increase over a longer gap is not attributed to one bucket
};

struct EngineStats {
  uint64_t observations = 0;
  uint64_t late_points = 0;  // arrived after their bucket was judged
  uint64_t counter_resets = 0;
  uint64_t gaps = 0;
  uint64_t buckets = 0;
  uint64_t incomplete_buckets = 0;  // judged without a node that had reported within max_gap before them
};

class Engine {
 public:
  // Receives every bucket's findings, in time order.
  using Sink = std::function<void(int64_t bucket, std::vector<Finding>& findings)>;

  Engine(EngineOptions options, std::vector<std::unique_ptr<Detector>> detectors, Sink sink);

  // Feeds one batch (any order across nodes; time order within a series is expected, older points
  // of a series are ignored), received at `wall_ms` (0: no wall clock, only data time gives nodes up).
  // Judges every bucket that is complete.
  void ingest(const Batch& batch, int64_t wall_ms = 0);
  // Gives up on nodes silent since before `wall_ms` − silent_after and judges what that completes.
  void tick(int64_t wall_ms);
  // Judges every bucket that ends at or before `watermark_ms` (a wall-clock tick when data stops).
  void advance(int64_t watermark_ms);
  // Judges every pending bucket (end of a replay).
  void flush();

  int64_t bucket_of(int64_t t_ms) const;
  int64_t data_time() const { return max_t_; }
  const EngineStats& stats() const { return stats_; }
  const EngineOptions& options() const { return options_; }
  Detector* detector(std::string_view kind) const;

 private:
  struct CounterState {
    int64_t t_ms = 0;
    double value = 0;
  };
  void observe_series(const std::string& node, const Series& s, uint32_t wanted);
  uint32_t wanted_series(const Series& s, uint32_t by_name) const;
  uint32_t wanted_mask(const std::string& name);
  void judge_until(int64_t last_bucket);
  void judge_complete(int64_t wall_ms);

  struct NodeState {
    int64_t newest = INT64_MIN;  // data time of its newest point
    int64_t wall = 0;            // when its last batch came
    bool awaited = false;        // in `awaited_`
  };
  EngineOptions options_;
  std::vector<std::unique_ptr<Detector>> detectors_;
  Sink sink_;
  std::unordered_map<std::string, uint32_t> wants_;  // metric name → bit per detector
  SeriesMap<CounterState> counters_;  // per counter series: the previous point
  SeriesMap<int64_t> gauge_last_;     // per gauge series: the newest timestamp observed
  int64_t max_t_ = INT64_MIN;
  int64_t next_bucket_ = INT64_MIN;  // first bucket not judged yet
  std::unordered_map<std::string, NodeState> nodes_;
  std::set<std::pair<int64_t, std::string>> awaited_;  // (newest, node) of the nodes buckets wait for
  std::vector<std::pair<int64_t, std::string>> given_up_;  // (newest, node), while recent enough to count
  EngineStats stats_;
};

}  // namespace ss::collector::detect
