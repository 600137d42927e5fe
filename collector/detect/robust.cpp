#include "collector/detect/robust.h"

#include <algorithm>
#include <cmath>

namespace ss::collector::detect {

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  size_t mid = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + mid, values.end());
  double hi = values[mid];
  if (values.size() % 2 == 1) return hi;
  double lo = *std::max_element(values.begin(), values.begin() + mid);
  return (lo + hi) / 2;
}

double mad(const std::vector<double>& values, double med) {
  std::vector<double> dev;
  dev.reserve(values.size());
  for (double v : values) dev.push_back(std::fabs(v - med));
  return median(std::move(dev));
}

void History::add(double v) {
  values_.push_back(v);
  while (values_.size() > capacity_) values_.pop_front();
}

Baseline History::baseline() const {
  std::vector<double> v(values_.begin(), values_.end());
  Baseline b;
  b.samples = v.size();
  b.median = median(v);
  b.mad = mad(v, b.median);
  return b;
}

}  // namespace ss::collector::detect
