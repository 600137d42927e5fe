// Parser for Weka's minute-resolution statistics, in every shape they come in (reference §B1-B3):
//  - `weka stats -R -J`: an array of rows {"category","stat","value","timestamp","unit","node",...};
//  - the flattened JSON-RPC form: rows {"category","node","stat_type","stat_value","timestamp"};
//  - JSON-RPC `stats_show` / REST `GET /api/v2/stats` ({"data": ...}): {"<node|all>": {"<category>":
//    [{"stats": {"OPS": 97.3, "READS[fS: 0]": 12}, "timestamp": "...", "resolution": 60}, ...]}}.
// Values are per-second averages over the minute (latencies in microseconds) and keep the minute's timestamp.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::weka {

struct StatValue {
  std::string category;  // "ops_driver", "ops", ...
  std::string stat;      // "GETATTR_OPS"
  std::string param;     // "fS: 0" for parameterised stats, else ""
  double value = 0;
  int64_t t_ms = 0;      // start of the minute bucket
};

struct Stats {
  std::vector<StatValue> values;
  size_t unknown_fields = 0;  // values that are neither numbers nor histograms, keys not understood
  size_t histograms = 0;      // histogram values (lists of buckets), skipped
};

Result<Stats> parse_stats(std::string_view text);

// The newest value of each (category, stat, param).
std::vector<StatValue> newest_values(const Stats& stats);

}  // namespace ss::agent::weka

namespace ss::agent::weka {

// What an ops / ops_driver stat means for the exported metrics.
enum class StatKind {
  OpRate,     // "<OP>_OPS", READS, WRITES: ops per second of `op`
  OpLatency,  // "<OP>_LATENCY", READ_LATENCY, WRITE_LATENCY: mean microseconds of `op`
  Bytes,      // READ_BYTES, WRITE_BYTES: bytes per second (op read/write)
  Total,      // OPS: all ops per second
  Ignored,    // known but not exported (QoS variants, THROUGHPUT, diagnostics)
  Unknown,
};

// `op` is set to the lower-case op name ("getattr", "read") for OpRate, OpLatency and Bytes.
StatKind classify_stat(std::string_view stat, std::string& op);

}  // namespace ss::agent::weka
