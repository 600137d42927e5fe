// checkpoint_stall (DESIGN.md §6): the GPUs of one job drop from their own baseline utilization together
// while the job writes in a burst. A drop alone (the job ended, an evaluation phase, a data-loader stall)
// is not a checkpoint; neither is a burst alone. GPUs that stop reporting are absent, never idle: with
// fewer than min_reporting of the job's known GPUs reporting nothing is judged.
// Write load per job from vfs_bytes_total{op="write",job}; without eBPF, the osc write bytes
// (lustre_client_bytes_total{op="write"}) of the job's nodes. Reports the stall's duration, bytes,
// effective bandwidth and the bandwidth that would have kept it under target_stall.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "collector/detect/detector.h"
#include "collector/detect/gpu_tracker.h"
#include "collector/detect/robust.h"

namespace ss::collector::detect {

struct CheckpointStallParams {
  int64_t window_ms = 30 * 60'000;
  int64_t min_history_ms = 3 * 60'000;
  double drop = 0.5;               // a GPU dropped when below (1 − drop) × its baseline …
  double min_baseline_util = 0.3;  // … and its baseline is at least this (idle GPUs cannot drop)
  double min_gpu_fraction = 0.75;  // of the job's judged GPUs that dropped together
  double min_reporting = 0.5;      // of the job's known GPUs that must report
  double burst_ratio = 5;          // write rate at least this times the job's baseline …
  double burst_floor = 50e6;       // … and at least this many bytes/s
  int64_t target_stall_ms = 60'000;
  int64_t quiet_ms = 60'000;       // a pause shorter than this continues the same stall
  std::map<std::string, std::string> mounts;  // mount point → fs name (default: the last path component)
};

class CheckpointStall : public Detector {
 public:
  CheckpointStall(CheckpointStallParams params, int64_t interval_ms, const GpuTracker* gpus);
  std::string_view kind() const override { return "checkpoint_stall"; }
  bool wants(std::string_view name) const override {
    return name == "vfs_bytes_total" || name == "lustre_client_bytes_total" || name == "vfs_ops_total";
  }
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

 private:
  struct Writes {
    std::map<std::string, std::map<std::string, double>> job_fs;   // job → fs → bytes/s (vfs)
    std::map<std::string, std::map<std::string, double>> node_fs;  // node → fs → bytes/s (osc)
    std::map<std::string, double> job_fsyncs;
  };
  struct JobState {
    History write_history{180};
    std::map<std::string, int64_t> known_gpus;  // node/uuid → last bucket seen
    int64_t last_burst = INT64_MIN;
    int64_t last_anomalous = INT64_MIN;
    int64_t episode_start = 0;
    double episode_bytes = 0, episode_stall_s = 0, episode_fsyncs = 0;
    std::map<std::string, double> episode_fs_bytes;
    bool anomalous = false;
  };
  std::string fs_of_mount(std::string_view mount) const;

  CheckpointStallParams params_;
  int64_t interval_ms_;
  size_t window_buckets_, min_history_;
  const GpuTracker* gpus_;
  std::map<int64_t, Writes> pending_;
  std::unordered_map<std::string, History> gpu_history_;  // node/uuid → util outside stalls
  std::map<std::string, JobState> jobs_;
};

}  // namespace ss::collector::detect
