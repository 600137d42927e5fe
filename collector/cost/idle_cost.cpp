#include "collector/cost/idle_cost.h"

#include <algorithm>
#include <cmath>

namespace ss::collector::cost {

namespace {

double clamp_ratio(double v) { return std::clamp(v, 0.0, 1.0); }

// Calls f(util, seconds) for the part of every covered interval that lies inside [from_ms, to_ms).
template <class F>
void for_each_interval(const std::vector<Point>& points, int64_t from_ms, int64_t to_ms, int64_t max_gap_ms, F&& f) {
  const Point* prev = nullptr;
  for (const auto& p : points) {
    // An unknown value leaves its own interval uncovered, never idle.
    if (prev && !std::isnan(p.value) && p.t_ms > prev->t_ms && p.t_ms - prev->t_ms <= max_gap_ms) {
      int64_t start = std::max(prev->t_ms, from_ms);
      int64_t end = std::min(p.t_ms, to_ms);
      if (end > start) f(clamp_ratio(p.value), static_cast<double>(end - start) / 1000.0);
    }
    prev = &p;
  }
}

}  // namespace

std::optional<double> baseline_before(const std::vector<Point>& points, int64_t from_ms, int64_t window_ms,
                                      int64_t max_gap_ms) {
  double weighted = 0, seconds = 0;
  for_each_interval(points, from_ms - window_ms, from_ms, max_gap_ms, [&](double util, double s) {
    weighted += util * s;
    seconds += s;
  });
  if (seconds <= 0) return std::nullopt;
  return weighted / seconds;
}

IdleCost idle_cost(const std::vector<Point>& points, double baseline, int64_t from_ms, int64_t to_ms,
                   int64_t max_gap_ms, double price_per_gpu_second) {
  IdleCost c;
  baseline = clamp_ratio(baseline);
  for_each_interval(points, from_ms, to_ms, max_gap_ms, [&](double util, double s) {
    c.gpu_seconds += s;
    c.idle_gpu_seconds += std::max(0.0, baseline - util) * s;
  });
  c.cost_usd = c.idle_gpu_seconds * price_per_gpu_second;
  return c;
}

GpuIdleCost gpu_idle_cost(const GpuUtilization& gpu, int64_t from_ms, int64_t to_ms, const CostConfig& config) {
  GpuIdleCost out;
  auto measured = baseline_before(gpu.points, from_ms, config.baseline_window_ms, config.max_gap_ms);
  out.baseline_measured = measured.has_value();
  out.baseline = measured.value_or(config.default_baseline);
  out.price_per_gpu_hour = config.prices.per_gpu_hour(gpu.model, config.pricing);
  out.cost = idle_cost(gpu.points, out.baseline, from_ms, to_ms, config.max_gap_ms, out.price_per_gpu_hour / 3600.0);
  return out;
}

}  // namespace ss::collector::cost
