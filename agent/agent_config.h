// The agent's settings: command-line flags over the YAML file given by --config, over defaults (DESIGN.md §4a).
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss::agent {

struct AgentConfig {
  std::vector<std::string> collectors;  // empty: no shipping; several: each gets every batch
  std::string token;      // bearer token for the collector (from `token` or `token_file`)
  std::string listen = "0.0.0.0:9479";
  int64_t interval_ms = 10'000;
  std::string node;  // default: the host name
  std::string spool = "./data/spool";
  int64_t spool_max_bytes = 256ll << 20;
  int64_t source_timeout_ms = 0;                     // default min(5s, 80 % of the interval)
  std::map<std::string, int64_t> source_timeouts_ms;  // per source
  int64_t request_timeout_ms = 10'000;
  int64_t max_backoff_ms = 60'000;
  int64_t first_send_jitter_ms = 2'000;
  std::string proc_root = "/proc";
  std::string log_level = "info";
  std::map<std::string, std::string> fs_names;  // renames of the `fs` label (agent/fs_names.h)
  YAML::Node sources = YAML::Node(YAML::NodeType::Map);  // the `sources:` mapping, read by the registry
};

// Flags as given on the command line; unset ones leave the file's value or the default.
struct AgentFlags {
  // collector: one URL, or several separated by commas
  std::optional<std::string> collector, listen, interval, node, spool, token_file, log_level;
};

// Reads the YAML mapping (unknown keys are errors naming their path), applies the flags, fills defaults and
// checks every value. `hostname` is the default node name.
Result<AgentConfig> make_agent_config(const YAML::Node& file, const AgentFlags& flags, const std::string& hostname);

}  // namespace ss::agent
