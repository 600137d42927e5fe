// Runs the storage tools (beegfs-ctl, beegfs, weka) for a source: every call has the configured timeout and is
// logged with its duration; a failure becomes an error message naming the command. After a timeout the rest of
// the cycle's commands are skipped, so one hung management daemon costs one timeout per cycle, not one per
// command; the next cycle tries again.
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
  ToolRunner(std::string source, int64_t timeout_ms) : source_(std::move(source)), timeout_ms_(timeout_ms) {}

  void start_cycle() { aborted_ = false; }
  bool aborted() const { return aborted_; }
  void abort() { aborted_ = true; }  // for callers with their own I/O (HTTP) that timed out

  ToolOutput run(const std::vector<std::string>& argv);

 private:
  std::string source_;
  int64_t timeout_ms_;
  bool aborted_ = false;
};

// "beegfs-ctl --serverstats --nodetype=meta" for messages.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace ss::agent
