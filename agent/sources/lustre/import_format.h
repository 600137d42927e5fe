// osc.*.import / mdc.*.import: the YAML-like state of a client's connection to one target.
//   import:
//       name: ai0-OST0000-osc-ffff88105db50000
//       target: ai0-OST0000_UUID
//       state: FULL
//       connection: { current_connection: 172.20.20.5@o2ib ("…" quoted in 2.16), idle: N sec (2.12+) }
//       rpcs: { inflight: N, unregistering: N, timeouts: N, avg_waittime: N usec|usecs }
//       service_estimates: { services: N sec, network: N sec }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ss::agent::lustre {

struct Import {
  std::string name;
  std::string target;  // "ai0-OST0000_UUID"
  std::string state;   // "FULL", "IDLE", "DISCONN", …
  std::string current_connection;
  std::optional<uint64_t> connection_attempts;
  std::optional<uint64_t> idle_s;
  std::optional<uint64_t> inflight;
  std::optional<uint64_t> unregistering;
  std::optional<uint64_t> timeouts;
  std::optional<uint64_t> avg_waittime_us;  // lifetime average: not for spike detection
  std::optional<uint64_t> service_estimate_s;
  std::optional<uint64_t> network_estimate_s;
  size_t skipped_lines = 0;
};

Import parse_import(std::string_view text);

// Lustre's own numbering of enum lustre_imp_state (CLOSED=1 … FULL=9, EVICTED=10, IDLE=11); 0 = unknown.
int import_state_code(std::string_view state);

}  // namespace ss::agent::lustre
