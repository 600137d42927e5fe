#include "collector/query/range.h"

#include <algorithm>
#include <cmath>

namespace ss::collector {

int64_t range_read_start(const RangeSpec& spec) {
  if (spec.step_ms <= 0) return spec.rate ? spec.from_ms - spec.lookback_ms : spec.from_ms;
  return spec.from_ms - spec.lookback_ms - (spec.rate ? spec.step_ms : 0);
}

std::vector<Point> evaluate_range(const std::vector<Point>& points, const RangeSpec& spec) {
  std::vector<Point> out;
  if (spec.step_ms <= 0 && !spec.rate) {
    for (const auto& p : points)
      if (p.t_ms >= spec.from_ms && p.t_ms <= spec.to_ms) out.push_back(p);
    return out;
  }
  // Reset-adjusted cumulative values: the counter as if it had never been reset.
  std::vector<double> adjusted(points.size());
  double offset = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    double v = points[i].value;
    if (spec.rate && i > 0 && !std::isnan(v) && !std::isnan(points[i - 1].value) && v < points[i - 1].value)
      offset += points[i - 1].value;
    adjusted[i] = v + offset;
  }
  if (spec.step_ms <= 0) {  // rate between consecutive points
    for (size_t i = 1; i < points.size(); ++i) {
      const auto& p = points[i];
      if (p.t_ms < spec.from_ms || p.t_ms > spec.to_ms) continue;
      int64_t dt = p.t_ms - points[i - 1].t_ms;
      if (dt <= 0 || dt > spec.lookback_ms) continue;
      out.push_back({p.t_ms, (adjusted[i] - adjusted[i - 1]) * 1000.0 / double(dt)});
    }
    return out;
  }
  // Index of the newest point at or before t, or -1.
  auto newest_at = [&](int64_t t) -> ptrdiff_t {
    auto it = std::upper_bound(points.begin(), points.end(), t, [](int64_t x, const Point& p) { return x < p.t_ms; });
    return (it - points.begin()) - 1;
  };
  for (int64_t t = spec.from_ms; t <= spec.to_ms; t += spec.step_ms) {
    ptrdiff_t b = newest_at(t);
    if (b < 0 || points[b].t_ms <= t - spec.lookback_ms) continue;
    if (!spec.rate) {
      out.push_back({t, points[b].value});
      continue;
    }
    ptrdiff_t a = newest_at(t - spec.step_ms);
    if (a < 0 || a == b || points[a].t_ms <= t - spec.step_ms - spec.lookback_ms) continue;
    double dt = double(points[b].t_ms - points[a].t_ms) / 1000.0;
    out.push_back({t, (adjusted[b] - adjusted[a]) / dt});
  }
  return out;
}

}  // namespace ss::collector
