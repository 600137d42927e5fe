// osc.*.rpc_stats and mdc.*.rpc_stats: RPCs and pages in flight, and the pages-per-RPC, RPCs-in-flight and
// offset histograms. Variants: the ≤2.14 "(secs.nsecs)" header and the 2.15+ three-line header; mdc's
// "modify" section (2.10+, "%%" in its table header from 2.16); space-padded nanoseconds in 2.12-2.14;
// master's "DIO RPCs in flight". Rows: "N:\t\t read % cum% | write % cum%".
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "agent/sources/lustre/stats_format.h"

namespace ss::agent::lustre {

struct RpcHistRow {
  uint64_t bucket = 0;  // pages, RPC count or page offset (K/M suffixes expanded)
  uint64_t read = 0;    // the only column of the modify table
  uint64_t write = 0;
};

struct RpcStats {
  StatsHeader header;
  std::optional<uint64_t> read_in_flight, write_in_flight, dio_in_flight, modify_in_flight;
  std::optional<uint64_t> pending_read_pages, pending_write_pages;
  std::vector<RpcHistRow> pages_per_rpc, rpcs_in_flight, offset, modify_rpcs_in_flight;
  size_t skipped_lines = 0;
};

RpcStats parse_rpc_stats(std::string_view text);

}  // namespace ss::agent::lustre
