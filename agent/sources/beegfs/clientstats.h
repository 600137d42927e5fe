// Parsers for the per-client and per-user op counters the servers keep: BeeGFS 7 `beegfs-ctl --clientstats` /
// `--userstats` with --interval=0 (text) and BeeGFS 8 `beegfs stats client|user --interval 0 --output ndjson --raw`
// (JSON). Counters are cumulative since server start. Ops are read by name, never by position, because the op
// list changes between releases (reference §A2.3, §A4.2).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace ss::agent::beegfs {

struct ClientOps {
  std::string id;  // client IP (or host name), or UID (user name, "-1" for unknown)
  // Op counts by lower-case BeeGFS name ("open", "statli", "ops-rd"); "sum" and the byte counters excluded.
  std::vector<std::pair<std::string, double>> ops;
  double sum = 0;  // the server's `sum` op: the total of all ops
  double read_bytes = 0, write_bytes = 0;
  bool has_bytes = false;
};

struct ClientStats {
  std::vector<ClientOps> entries;  // the Sum:/Summary line is left out
  size_t unknown_fields = 0;       // tokens or keys not understood, skipped
};

Result<ClientStats> parse_ctl_clientstats(std::string_view text);
// `key` is "client" or "user" (the id column of `beegfs stats client` / `beegfs stats user`).
Result<ClientStats> parse_cli_stats_clients(std::string_view text, std::string_view key);

}  // namespace ss::agent::beegfs
