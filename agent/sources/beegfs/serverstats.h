// Parsers for the servers' high-resolution statistics: BeeGFS 7 `beegfs-ctl --serverstats` (text) and
// BeeGFS 8 `beegfs stats server --output ndjson --raw` (JSON). Both describe 1-second buckets: requests and
// bytes finished *in that second*, queue length and busy workers as snapshots (reference §A1, §A4.1).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::beegfs {

struct ServerStatsRow {
  int64_t time_s = 0;   // Unix second of the bucket; 0 when the output carries none
  std::string node;     // node id (7.x --perserver "nodeID", 8.x "node_id" such as "m:1"); "" in history mode
  std::string alias;    // 7.x --names "name", 8.x "alias"
  double requests = 0;  // finished in that second
  double queue_length = 0;
  double busy_workers = 0;
  double read_bytes = 0, write_bytes = 0;  // disk, in that second (storage servers)
  double recv_bytes = 0, send_bytes = 0;   // network, in that second
  bool has_disk = false, has_net = false;
};

struct ServerStats {
  std::vector<ServerStatsRow> rows;  // in output order (oldest first in history mode)
  size_t unknown_fields = 0;         // columns or keys not understood, skipped
};

// Columns are mapped by the header's names, never by position (meta, storage and --details differ).
Result<ServerStats> parse_ctl_serverstats(std::string_view text);
Result<ServerStats> parse_cli_stats_server(std::string_view text);

}  // namespace ss::agent::beegfs
