// A simulated GPU cluster on Lustre, emitted as ingest batches (DESIGN.md §3, §4): nodes with GPUs, two
// file systems with an MDT and OSTs each, jobs of 2-16 nodes, a daily load swing of ±50 % and noise.
// Incidents of every kind are injected at known times with known culprits, among benign confounders
// (heavy but normal load, load that ramps to 1.5-3x over 3-10 minutes and stays, a job starting on idle
// nodes, a large sequential read, counter resets from a remount, a node reboot, a node that stops
// reporting, a job that ends, an evaluation phase, a write burst with busy GPUs). The ground truth says
// what was injected where and what it truly cost: the §7 sum over the emitted GPU points of the stalled
// job, or of the victim jobs of a storm or spike (every job on the file system, whose GPUs slow down).
// Delivery is per interval (each node sends each sample at once) or batched: every agent sends 1-12
// samples at a time, out of phase with the others, and one 10-minute outage after the warm-up holds
// everything back until the spools drain, node after node. Both deliveries carry the same samples.
// The same options and seed give the same batches, byte for byte.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/sample.h"

namespace ss::collector::sim {

struct SimOptions {
  uint64_t seed = 1;
  int64_t start_ms = 1763683200000;  // 2025-11-21T00:00:00Z
  int64_t duration_ms = 4 * 3600'000;
  int64_t interval_ms = 10'000;
  int nodes = 16;
  int gpus_per_node = 8;
  int64_t warmup_ms = 40 * 60'000;  // no injection before this (the detectors learn their baselines)
  int64_t slot_ms = 20 * 60'000;    // one injection or confounder per slot
  // "mixed" (incidents and confounders), "incidents", "confounders", "quiet" (no injection)
  std::string scenario = "mixed";
  // "interval" or "batched" (up to max_batch samples per agent and batch, out of phase, one outage)
  std::string delivery = "interval";
  int max_batch = 12;
  int64_t outage_ms = 10 * 60'000;
};

// The true §7 cost of one victim job of a storm or spike.
struct TruthVictim {
  std::string job;
  std::vector<std::string> nodes;
  double gpu_idle_seconds = 0, cost_usd = 0;
};

struct TruthEntry {
  std::string kind;  // an incident kind, or a confounder ("counter_reset", "node_reboot", ...)
  bool confounder = false;
  int64_t start_ms = 0, end_ms = 0;
  std::string fs, target, job, node, comm, path;
  std::vector<std::string> nodes;
  std::vector<std::string> also;  // other incident kinds this injection may rightly raise
  std::string note;
  // The §7 cost over the points the injection changed (H200 spot, baseline the 10 minutes before),
  // filled once run() has passed the injection: the stalled job's, or the victims' sum.
  double gpu_idle_seconds = 0, cost_usd = 0;
  std::vector<TruthVictim> victims;
};

struct GroundTruth {
  SimOptions options;
  std::vector<TruthEntry> entries;
};

nlohmann::json to_json(const GroundTruth& t);
Result<GroundTruth> ground_truth_from_json(const nlohmann::json& j);

class Simulator {
 public:
  explicit Simulator(SimOptions options);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // The schedule is fixed at construction; the onset of ost_imbalance is known once run() has passed it.
  const GroundTruth& truth() const;
  // Emits every batch: per interval, one batch per reporting node in time order; batched, as the
  // agents' shippers would (options().delivery).
  void run(const std::function<void(const Batch&)>& sink);

 private:
  struct Impl;
  Impl* impl_;
};

Result<void> validate(const SimOptions& o);

}  // namespace ss::collector::sim
