// Range evaluation of stored points (pure): raw points, values on a step grid, and per-second rates of
// counters with reset handling, for the query API.
#pragma once

#include <cstdint>
#include <vector>

#include "common/sample.h"

namespace ss::collector {

struct RangeSpec {
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  int64_t step_ms = 0;       // 0: no grid, every stored point (or every rate between two points)
  bool rate = false;         // per-second rate of a counter
  int64_t lookback_ms = 300000;  // a grid value uses the newest point at most this old (Prometheus: 5m)
};

// How far before from_ms the points passed to evaluate_range() must start.
int64_t range_read_start(const RangeSpec& spec);

// `points` are in time order and cover [range_read_start(spec), to_ms].
//  - no step, no rate: the points within [from, to].
//  - no step, rate: at each point in [from, to] with a predecessor, (Δ value) / (Δ t) in per second;
//    a value below its predecessor is a counter reset, so Δ value is the new value.
//  - step: grid times t = from, from+step, … ≤ to. Value: the newest point in (t − lookback, t].
//    Rate: the increase between the newest point at or before t − step and the newest at or before t
//    (both within the lookback), reset-adjusted, divided by their time difference.
std::vector<Point> evaluate_range(const std::vector<Point>& points, const RangeSpec& spec);

}  // namespace ss::collector
