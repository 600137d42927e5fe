#include "collector/store/store.h"

#include <algorithm>

namespace ss::collector {

void merge_bucket(Bucket& into, const Bucket& later) {
  into.count += later.count;
  into.sum += later.sum;
  into.min = std::min(into.min, later.min);
  into.max = std::max(into.max, later.max);
  into.last = later.last;
}

std::vector<Bucket> aggregate_points(const std::vector<Point>& points, int64_t from_ms, int64_t to_ms,
                                     int64_t step_ms) {
  std::vector<Bucket> out;
  if (step_ms <= 0) return out;
  for (const Point& p : points) {
    if (p.t_ms < from_ms || p.t_ms > to_ms) continue;
    int64_t t = p.t_ms - (((p.t_ms % step_ms) + step_ms) % step_ms);
    if (out.empty() || out.back().t_ms != t) {
      out.push_back({t, 1, p.value, p.value, p.value, p.value});
      continue;
    }
    merge_bucket(out.back(), {t, 1, p.value, p.value, p.value, p.value});
  }
  return out;
}

}  // namespace ss::collector
