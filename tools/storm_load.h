// The metadata-storm load generator behind `stormscope storm`: N threads doing stat / open / getdents /
// create+unlink in a small directory tree for a duration, counting ops. Used for demos, the eBPF tests and
// bench/vfs_overhead (which also uses the `getppid` op as an unrelated-system-call baseline).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::cli {

enum class StormOp { Stat, Open, Readdir, Create, Getppid };

std::string_view storm_op_name(StormOp op);
Result<StormOp> parse_storm_op(std::string_view text);
Result<std::vector<StormOp>> parse_storm_ops(std::string_view comma_list);  // "stat,open"

struct StormOptions {
  std::string dir;  // the tree is made below it (it must exist)
  int threads = 2;
  int64_t duration_ms = 5'000;
  std::vector<StormOp> ops{StormOp::Stat};  // each thread cycles through them
  int dirs = 4;    // sub-directories in the tree
  int files = 64;  // files per sub-directory
};

struct StormResult {
  double seconds = 0;      // wall time
  double cpu_seconds = 0;  // CPU time of the storm threads (user + system): steadier on a busy machine
  std::map<StormOp, uint64_t> ops;  // completed ops per kind
  uint64_t total() const;
  double per_second(StormOp op) const;
  double total_per_second() const;
  double total_per_cpu_second() const;
};

// Makes <dir>/storm/d<i>/f<j> (idempotent).
Result<void> prepare_storm_tree(const StormOptions& options);

// Runs the storm (prepare_storm_tree first); fails on the first error a thread meets.
Result<StormResult> run_storm(const StormOptions& options);

}  // namespace ss::cli
