#include <algorithm>
#include <bit>
#include <cmath>

#include "collector/store/decimal.h"
#include "collector/store/store.h"

namespace ss::collector {
namespace {

// a + b, exact when both are short decimals (a gauge with three decimals): the sum of their integers,
// divided once. Plain floating-point addition would leave rounding noise (50.123 + 49.876 is not
// 99.999), which is both wrong in the last digit and expensive to compress; and the result does not
// depend on the order of the additions, so rollups merged later equal sums of the raw points.
double add_exact(double a, double b) {
  for (int k = 0; k < 8; ++k) {
    int64_t ai, bi;
    if (as_decimal(a, k, ai) && as_decimal(b, k, bi)) {
      int64_t s = ai + bi;
      if (std::fabs(static_cast<double>(s)) < 4.0e15) return static_cast<double>(s) / kPow10[k];
      break;
    }
  }
  return a + b;
}

}  // namespace

void merge_bucket(Bucket& into, const Bucket& later) {
  into.count += later.count;
  into.sum = add_exact(into.sum, later.sum);
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
