// The collector's `detect:` section: the engine's timing and every detector's parameters.
//
//   detect:
//     enabled: true
//     incidents_db: ./data/stormscope.incidents.db   # default: beside the collector's --db
//     queue: 100000            # batches awaiting detection; beyond it batches skip detection (counted)
//     interval: 10s            # the agents' interval: the width of a judged bucket
//     lateness: 15m            # a node this far behind the newest data is not awaited (data time)
//     silent_after: 3m         # a node that sent nothing this long is not awaited (wall clock)
//     max_gap: 35s             # a counter increase over a longer gap is not judged
//     mounts: {/lustre/ai0: ai0}   # mount point → file system name (default: last path component)
//     metadata_storm: {window: 30m, min_history: 5m, k: 6, min_ratio: 2, min_excess: 5000,
//                      mdc_wait: 100ms, wait_min_ratio: 1.3, min_wait_rpcs: 20, ops: [open, stat, ...]}
//     waittime_spike: {window: 30m, min_history: 5m, floor: 100ms, k: 6, min_ratio: 3, min_rpcs: 20}
//     ost_imbalance: {full: 0.9, median_below: 0.7, spread: 0.25, for: 0s, stale: 5m, min_targets: 2,
//                     skew_ratio: 4, min_write_rate: 100MB, skew_for: 10m}
//     checkpoint_stall: {window: 30m, min_history: 3m, drop: 0.5, min_baseline_util: 0.3,
//                        min_gpu_fraction: 0.75, min_reporting: 0.5, burst_ratio: 5, burst_floor: 50MB,
//                        target_stall: 60s, quiet: 60s}
//     incidents: {quiet: 60s, quiet_ost_imbalance: 5m, max_unknown: 5m, max_culprits: 10}
//     alertmanager: {urls: [http://127.0.0.1:9093], resend: 60s, max_age: 1h, timeout: 5s,
//                    external_url: http://collector:9480}
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "collector/detect/checkpoint_stall.h"
#include "collector/detect/engine.h"
#include "collector/detect/metadata_storm.h"
#include "collector/detect/ost_imbalance.h"
#include "collector/detect/waittime_spike.h"
#include "common/config.h"
#include "common/result.h"

namespace ss::collector::detect {

struct IncidentParams {
  int64_t quiet_ms = 60'000;
  int64_t quiet_ost_imbalance_ms = 5 * 60'000;
  int64_t max_unknown_ms = 5 * 60'000;
  size_t max_culprits = 10;
};

struct AlertParams {
  std::vector<std::string> urls;  // Alertmanager base URLs; none: no alerts pushed
  int64_t resend_ms = 60'000;     // open incidents are re-sent so Alertmanager keeps them firing
  int64_t max_age_ms = 3600'000;  // incidents whose data time is older than this (replays) are not pushed
  int64_t timeout_ms = 5'000;
  std::string external_url;       // generatorURL base: <external_url>/api/v1/incidents/<id>
};

struct DetectConfig {
  bool enabled = true;
  std::string incidents_db;  // "" = beside the collector's database
  size_t queue = 100'000;
  EngineOptions engine;
  MetadataStormParams metadata_storm;
  WaittimeSpikeParams waittime_spike;
  OstImbalanceParams ost_imbalance;
  CheckpointStallParams checkpoint_stall;
  IncidentParams incidents;
  AlertParams alerts;
};

Result<DetectConfig> read_detect_config(const config::Section& detect);

// The gpu tracker first (others read it), then the four detectors.
struct DetectorSet {
  std::vector<std::unique_ptr<Detector>> detectors;
  GpuTracker* gpus = nullptr;
};
DetectorSet make_detectors(const DetectConfig& config);

}  // namespace ss::collector::detect
