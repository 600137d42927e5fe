// Runs an external command with a deadline: the whole process group is killed when it runs over,
// so a hanging `lctl`, `beegfs-ctl` or `weka` never blocks the agent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss {

struct ExecOptions {
  int64_t timeout_ms = 10'000;
  size_t max_output_bytes = 64 << 20;  // stdout beyond this is an error (the child is killed)
  std::vector<std::string> env;        // extra NAME=value entries
};

struct ExecResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  bool timed_out = false;
  int64_t elapsed_ms = 0;
  std::string out;
  std::string err;

  bool succeeded() const { return !timed_out && signal == 0 && exit_code == 0; }
  // "exit code 3: <first line of stderr>", "timed out after 5s", "killed by signal 9".
  std::string describe() const;
};

// Error only when the command could not be started (not found, not executable).
Result<ExecResult> run_command(const std::vector<std::string>& argv, const ExecOptions& options = {});

// Runs the command and returns stdout when it succeeded; otherwise an error naming the command.
Result<std::string> run_for_output(const std::vector<std::string>& argv, const ExecOptions& options = {});

}  // namespace ss
