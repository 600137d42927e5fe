// GPU utilization per bucket and per GPU history, for checkpoint_stall.
// A GPU that does not report in a bucket is absent from it, never taken for an idle one.
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/detect/detector.h"
#include "collector/detect/robust.h"

namespace ss::collector::detect {

struct GpuReading {
  std::string node, uuid, gpu, model, job;
  double util = 0;  // 0..1
  int64_t t_ms = 0;
};

class GpuTracker : public Detector {
 public:
  // Keeps `history_buckets` values per GPU for baselines.
  explicit GpuTracker(size_t history_buckets = 180) : history_buckets_(history_buckets) {}
  std::string_view kind() const override { return "gpu"; }
  bool wants(std::string_view name) const override { return name == "gpu_utilization_ratio"; }
  void observe(const Observation& o) override;
  void evaluate(int64_t bucket, std::vector<Finding>& out) override;

  // The readings of the bucket judged last.
  const std::vector<GpuReading>& current() const { return current_; }
  // Median utilization of one GPU over its trailing history; -1 when it has none.
  double baseline(const std::string& node, const std::string& uuid) const;

 private:
  size_t history_buckets_;
  std::map<int64_t, std::map<std::string, GpuReading>> pending_;  // bucket → node/uuid → reading
  std::unordered_map<std::string, History> history_;
  std::vector<GpuReading> current_;
};

}  // namespace ss::collector::detect
