// The GPU idle cost of DESIGN.md §7, as pure functions over utilization series:
//
//   cost_usd = Σ_gpu Σ_t max(0, baseline_util − util(t)) · Δt · price_per_gpu_second(model)
//
// A point of `gpu_utilization_ratio` is the mean over the interval that ends at its timestamp, so each
// point covers the time since the previous point. Points further apart than `max_gap_ms` leave a gap:
// the missing time is neither GPU time nor idle time, and the point after the gap only opens a new
// stretch. Covered time is clipped to the window [from_ms, to_ms]; pass the points before the window
// too, so that the first interval inside it and the baseline are known.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collector/cost/prices.h"
#include "common/sample.h"

namespace ss::collector::cost {

struct IdleCost {
  double gpu_seconds = 0;       // time covered by data inside the window
  double idle_gpu_seconds = 0;  // Σ max(0, baseline − util) · Δt
  double cost_usd = 0;

  IdleCost& operator+=(const IdleCost& o) {
    gpu_seconds += o.gpu_seconds;
    idle_gpu_seconds += o.idle_gpu_seconds;
    cost_usd += o.cost_usd;
    return *this;
  }
};

// Time-weighted mean utilization over [from_ms − window_ms, from_ms), or nothing when no interval
// of the series falls there. Values are clamped to 0..1.
std::optional<double> baseline_before(const std::vector<Point>& points, int64_t from_ms, int64_t window_ms,
                                      int64_t max_gap_ms);

// Idle time and cost of one GPU in [from_ms, to_ms] against `baseline` (0..1). Intervals where the GPU
// is at or above the baseline count as GPU time and cost nothing.
IdleCost idle_cost(const std::vector<Point>& points, double baseline, int64_t from_ms, int64_t to_ms,
                   int64_t max_gap_ms, double price_per_gpu_second);

// One GPU's series, as the store holds it (points may start before the window).
struct GpuUtilization {
  std::string model;          // NVML model name, priced through the table
  std::vector<Point> points;  // gpu_utilization_ratio, time order
};

struct GpuIdleCost {
  IdleCost cost;
  double baseline = 0;
  bool baseline_measured = false;  // false: no data before the window, config.default_baseline was used
  double price_per_gpu_hour = 0;
};

// The whole §7 formula for one GPU: baseline from the `baseline_window_ms` before `from_ms`, price by model.
GpuIdleCost gpu_idle_cost(const GpuUtilization& gpu, int64_t from_ms, int64_t to_ms, const CostConfig& config);

}  // namespace ss::collector::cost
