// The generic Lustre "stats" format (lprocfs_stats_seq_show): osc/mdc/llite/obdfilter stats, md_stats,
// exports stats, service stats (ost.OSS.*, mds.MDS.*, ldlm.services.*) and ldlm pool stats.
//
//   snapshot_time             1749628869.786323838 secs.nsecs      (secs.usecs before 2.10)
//   start_time / elapsed_time …                                     (2.15+, optional again in 2.16)
//   req_waittime              31543 samples [usecs] 1113 37208 44430818 66263839664
//   ioctl                     114 samples [reqs]                     (count-only lines)
//
// Lines whose count is 0 are not printed by Lustre, so a missing line means 0. Units are normalised
// (usec→usecs, regs→reqs, sec→secs). An unrecognised line is counted in skipped_lines, never fatal.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ss::agent::lustre {

struct StatsHeader {
  std::optional<double> snapshot_s;  // may be seconds since boot (2.15.0/2.15.1): do not trust as epoch
  std::optional<double> start_s;
  std::optional<double> elapsed_s;
};

struct StatsCounter {
  std::string name;
  int64_t count = 0;
  std::string unit;      // normalised: "usecs", "reqs", "secs", "bytes", "pages", "bufs", "locks", …
  bool has_sum = false;  // min, max and sum were printed
  int64_t min = 0, max = 0, sum = 0;
  bool has_sumsq = false;  // sumsq overflows u64 in practice: informative only
  uint64_t sumsq = 0;
};

struct Stats {
  StatsHeader header;
  std::vector<StatsCounter> counters;  // in file order; a name may repeat (2.10 obdfilter `statfs`)
  size_t skipped_lines = 0;

  const StatsCounter* find(std::string_view name) const;
};

// "usec"/"usecs" → "usecs", "regs"/"reqs" → "reqs", "sec"/"secs" → "secs"; others unchanged.
std::string_view normalize_unit(std::string_view unit);

// HeaderTimes::Skip recognises the header lines without converting their times, for readers that stamp
// samples with their own clock (a third of the parse of a 20-line osc stats file).
enum class HeaderTimes { Parse, Skip };
Stats parse_stats(std::string_view text, HeaderTimes times = HeaderTimes::Parse);

// One header line ("snapshot_time  1.5 secs.nsecs", "snapshot_time: 1.5 (secs.nsecs)",
// "snapshot_time   : 1.5 secs.nsecs"); sets the matching header field (unless header is null) and returns
// true when it is one.
bool parse_stats_header_line(std::string_view line, StatsHeader* header);

}  // namespace ss::agent::lustre
