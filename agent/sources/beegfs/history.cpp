#include "agent/sources/beegfs/history.h"

#include <algorithm>

namespace ss::agent::beegfs {

std::optional<ServerStatsRow> ServerHistory::absorb(std::vector<ServerStatsRow> rows) {
  if (rows.empty()) return std::nullopt;
  std::stable_sort(rows.begin(), rows.end(),
                   [](const ServerStatsRow& a, const ServerStatsRow& b) { return a.time_s < b.time_s; });
  for (const auto& r : rows) {
    if (seen_ && r.time_s <= last_time_s_) continue;
    if (seen_ && r.time_s > last_time_s_ + 1) totals_.missed_seconds += static_cast<double>(r.time_s - last_time_s_ - 1);
    totals_.requests += r.requests;
    totals_.read_bytes += r.read_bytes;
    totals_.write_bytes += r.write_bytes;
    totals_.recv_bytes += r.recv_bytes;
    totals_.send_bytes += r.send_bytes;
    last_time_s_ = r.time_s;
    seen_ = true;
  }
  return rows.back();
}

}  // namespace ss::agent::beegfs
