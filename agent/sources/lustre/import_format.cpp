#include "agent/sources/lustre/import_format.h"

#include <utility>
#include <vector>

#include "agent/sources/lustre/text.h"

namespace ss::agent::lustre {

int import_state_code(std::string_view s) {
  static constexpr std::string_view kStates[] = {"CLOSED",       "NEW",         "DISCONN", "CONNECTING",
                                                 "REPLAY",       "REPLAY_LOCKS", "REPLAY_WAIT", "RECOVER",
                                                 "FULL",         "EVICTED",     "IDLE"};
  for (size_t i = 0; i < std::size(kStates); ++i)
    if (s == kStates[i]) return static_cast<int>(i) + 1;
  return 0;
}

namespace {

std::string_view unquote(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') return v.substr(1, v.size() - 2);
  return v;
}

// "408 usec" → 408; "N sec" → N.
std::optional<uint64_t> leading_number(std::string_view v) {
  std::string_view rest = v;
  return to_u64(next_token(rest));
}

}  // namespace

Import parse_import(std::string_view text) {
  Import out;
  // Nesting by indentation: (indent, key) of the open mappings; the innermost names the section.
  std::vector<std::pair<size_t, std::string_view>> open;
  std::string_view line;
  while (next_line(text, line)) {
    std::string_view t = trim(line);
    if (t.empty()) continue;
    size_t indent = line.find_first_not_of(" \t");
    size_t colon = t.find(':');
    if (colon == std::string_view::npos) {
      ++out.skipped_lines;
      continue;
    }
    std::string_view key = trim(t.substr(0, colon));
    std::string_view value = trim(t.substr(colon + 1));
    while (!open.empty() && indent <= open.back().first) open.pop_back();
    if (value.empty()) {  // "import:", "rpcs:", "connection:", …
      open.emplace_back(indent, key);
      continue;
    }
    std::string_view section = open.size() >= 2 ? open.back().second : std::string_view{};
    if (section.empty()) {
      if (key == "name") out.name = std::string(value);
      else if (key == "target") out.target = std::string(value);
      else if (key == "state") out.state = std::string(value);
    } else if (section == "connection") {
      if (key == "current_connection") out.current_connection = std::string(unquote(value));
      else if (key == "connection_attempts") out.connection_attempts = to_u64(value);
      else if (key == "idle") out.idle_s = leading_number(value);
    } else if (section == "rpcs") {
      if (key == "inflight") out.inflight = to_u64(value);
      else if (key == "unregistering") out.unregistering = to_u64(value);
      else if (key == "timeouts") out.timeouts = to_u64(value);
      else if (key == "avg_waittime") out.avg_waittime_us = leading_number(value);
    } else if (section == "service_estimates") {
      if (key == "services") out.service_estimate_s = leading_number(value);
      else if (key == "network") out.network_estimate_s = leading_number(value);
    }
  }
  return out;
}

}  // namespace ss::agent::lustre
