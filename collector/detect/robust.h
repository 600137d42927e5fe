// Robust statistics and trailing histories for detector baselines: median and MAD resist the outliers
// (storms, spikes) that would drag a mean, and a trailing window forgets yesterday's load.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

namespace ss::collector::detect {

// Median of the values (0 when empty). Takes a copy: callers keep their order.
double median(std::vector<double> values);

// Median absolute deviation around the median (unscaled; multiply by 1.4826 for a normal sigma).
double mad(const std::vector<double>& values, double med);

struct Baseline {
  double median = 0;
  double mad = 0;      // unscaled
  size_t samples = 0;  // how many values it was made from
  double sigma() const { return 1.4826 * mad; }
};

// The last `capacity` values of one quantity, oldest first.
class History {
 public:
  explicit History(size_t capacity = 180) : capacity_(capacity) {}
  void add(double v);
  size_t size() const { return values_.size(); }
  Baseline baseline() const;
  const std::deque<double>& values() const { return values_; }

 private:
  size_t capacity_;
  std::deque<double> values_;
};

}  // namespace ss::collector::detect
