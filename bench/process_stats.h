// What the benchmarks read about their own process: CPU time and /proc/self/status sizes.
#pragma once

#include <time.h>

#include <fstream>
#include <string>

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

}  // namespace ss::bench
