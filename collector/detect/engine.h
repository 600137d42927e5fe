// The detection engine: turns ingest batches into observations on data time and runs the detectors
// bucket by bucket. Counter resets (a value below the previous one: remount, reboot, agent restart) and
// gaps longer than max_gap give no observation at all, so neither can look like a burst; a bucket is
// judged once every node had `lateness` to deliver it, measured on the data's own clock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/detect/detector.h"
#include "collector/detect/series_map.h"
#include "common/sample.h"

namespace ss::collector::detect {

struct EngineOptions {
  int64_t interval_ms = 10'000;  // bucket width; the agents' interval
  int64_t lateness_ms = 10'000;  // how long after a bucket ends data for it is still awaited
  int64_t max_gap_ms = 35'000;   // a counter increase over a longer gap is not attributed to one bucket
};

struct EngineStats {
  uint64_t observations = 0;
  uint64_t late_points = 0;  // arrived after their bucket was judged
  uint64_t counter_resets = 0;
  uint64_t gaps = 0;
  uint64_t buckets = 0;
};

class Engine {
 public:
  // Receives every bucket's findings, in time order.
  using Sink = std::function<void(int64_t bucket, std::vector<Finding>& findings)>;

  Engine(EngineOptions options, std::vector<std::unique_ptr<Detector>> detectors, Sink sink);

  // Feeds one batch (any order across nodes; time order within a series is expected, older points
  // of a series are ignored). Judges every bucket the batch completes.
  void ingest(const Batch& batch);
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

  EngineOptions options_;
  std::vector<std::unique_ptr<Detector>> detectors_;
  Sink sink_;
  std::unordered_map<std::string, uint32_t> wants_;  // metric name → bit per detector
  SeriesMap<CounterState> counters_;  // per counter series: the previous point
  SeriesMap<int64_t> gauge_last_;     // per gauge series: the newest timestamp observed
  int64_t max_t_ = INT64_MIN;
  int64_t next_bucket_ = INT64_MIN;  // first bucket not judged yet
  EngineStats stats_;
};

}  // namespace ss::collector::detect
