// Turns the servers' per-second history (a sliding window of the last ~60 one-second buckets, re-read every
// cycle) into monotonic counters: each bucket is added once, identified by its time index, so overlapping
// windows of consecutive cycles never count a second twice.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "agent/sources/beegfs/serverstats.h"

namespace ss::agent::beegfs {

struct ServerTotals {
  double requests = 0;
  double read_bytes = 0, write_bytes = 0;
  double recv_bytes = 0, send_bytes = 0;
  double missed_seconds = 0;  // seconds that fell out of the window between two cycles (not counted)
};

class ServerHistory {
 public:
  // Adds the buckets newer than the last one seen; returns the newest row of `rows`, if any.
  std::optional<ServerStatsRow> absorb(std::vector<ServerStatsRow> rows);

  const ServerTotals& totals() const { return totals_; }
  int64_t last_time_s() const { return last_time_s_; }

 private:
  ServerTotals totals_;
  int64_t last_time_s_ = 0;
  bool seen_ = false;
};

}  // namespace ss::agent::beegfs
