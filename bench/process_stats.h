// What the benchmarks read about their own process (CPU time, /proc/self/status sizes) and how they sum up
// per-cycle timings.
#pragma once

#include <time.h>

#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

namespace ss::bench {

// CPU time of the whole process (every thread), ms.
inline double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// A kB field of /proc/self/status (VmRSS, VmHWM), or -1.
inline long status_kib(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stol(line.substr(key.size() + 1));
  return -1;
}

// Mean, median and maximum of per-cycle timings (not empty).
struct Spread {
  double mean = 0, p50 = 0, max = 0;
};

inline Spread spread(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()), v[v.size() / 2], v.back()};
}

}  // namespace ss::bench
