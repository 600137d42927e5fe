// Runs the storage tools (beegfs-ctl, beegfs, weka) for a source: every call has the configured timeout and is
// logged with its duration; a failure becomes an error message naming the command. After a timeout the rest of
// the cycle's commands are skipped, so one hung management daemon costs one timeout per cycle, not one per
// command; the next cycle tries again. A cycle budget bounds all calls of one collect() together, so the source
// returns its own reason before the agent's scheduler deadline for it runs out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss::agent {

// The executable as given when it contains '/', else its first match in $PATH; nullopt when not found.
std::optional<std::string> find_executable(const std::string& name);

struct ToolOutput {
  std::string out;                   // stdout, also when the tool failed (it may still hold usable rows)
  int exit_code = 0;
  std::optional<std::string> error;  // set when the command did not succeed
};

class ToolRunner {
 public:
  ToolRunner(std::string source, int64_t timeout_ms, int64_t cycle_budget_ms)
      : source_(std::move(source)), timeout_ms_(timeout_ms), cycle_budget_ms_(cycle_budget_ms) {}

  void start_cycle();
  // The timeout for the next call: the per-call timeout, cut to what is left of the cycle budget (<= 0: none left).
  int64_t next_timeout_ms() const;
  // An error message when the next call must not start (after a timeout, or the budget is used up).
  std::optional<std::string> refuse(const std::string& what) const;
  void abort() { aborted_ = true; }  // for callers with their own I/O (HTTP) that timed out

  ToolOutput run(const std::vector<std::string>& argv);

 private:
  std::string source_;
  int64_t timeout_ms_;
  int64_t cycle_budget_ms_;
  int64_t deadline_ms_ = 0;  // monotonic
  bool aborted_ = false;
};

// "beegfs-ctl --serverstats --nodetype=meta" for messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace ss::agent
