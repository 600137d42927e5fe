#include "agent/sources/tool_runner.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "common/exec.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::agent {

std::optional<std::string> find_executable(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    auto colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  return std::nullopt;
}

std::string describe_command(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

void ToolRunner::start_cycle() {
  aborted_ = false;
  deadline_ms_ = monotonic_ms() + cycle_budget_ms_;
}

int64_t ToolRunner::next_timeout_ms() const { return std::min(timeout_ms_, deadline_ms_ - monotonic_ms()); }

std::optional<std::string> ToolRunner::refuse(const std::string& what) const {
  if (aborted_) return what + ": skipped after an earlier timeout in this cycle";
  if (next_timeout_ms() < 50)
    return fmt::format("{}: skipped, the cycle budget of {} ms is used up (raise cycle_timeout)", what, cycle_budget_ms_);
  return std::nullopt;
}

ToolOutput ToolRunner::run(const std::vector<std::string>& argv) {
  ToolOutput result;
  std::string what = describe_command(argv);
  if (auto refused = refuse(what)) {
    result.error = *refused;
    return result;
  }
  ExecOptions opt;
  opt.timeout_ms = next_timeout_ms();
  auto r = run_command(argv, opt);
  if (!r) {
    result.error = what + ": " + r.error().message;
    log::warn("{}: {}", source_, *result.error);
    return result;
  }
  log::debug("{}: {} finished in {} ms ({})", source_, what, r->elapsed_ms, r->describe());
  result.out = std::move(r->out);
  result.exit_code = r->exit_code;
  if (!r->succeeded()) {
    if (r->timed_out) aborted_ = true;
    result.error = what + ": " + r->describe();
    log::warn("{}: {}", source_, *result.error);
  }
  return result;
}

}  // namespace ss::agent
