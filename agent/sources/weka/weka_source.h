// The Weka source: reads `weka stats` (ops_driver and ops categories), `weka status -J` and `weka fs -J` through
// the CLI, or the same data through the REST API v2 when a URL is configured. Weka keeps one-minute statistics,
// so the source runs once a minute and stamps the values with the minute they describe. Every series carries `fs`
// (agent/fs_names.h): the file system's name for per-file-system series, the cluster's name for cluster-wide ones.
// Configured by `sources.weka` (docs/sources/weka.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/source.h"
#include "agent/sources/tool_runner.h"
#include "common/config.h"

namespace ss::agent {

struct WekaConfig {
  std::string mode = "cli";  // cli | rest
  std::string cli_path = "weka";
  std::vector<std::string> args;  // extra CLI arguments (-H backend01, -P 14000)
  std::string url;                // REST base, "https://weka01:14000"
  std::string token;              // REST access token
  std::string token_file;         // or a file holding it (re-read every cycle, so it can be rotated)
  bool tls_verify = true;
  int64_t timeout_ms = 4'000;        // one command or request
  int64_t cycle_timeout_ms = 4'500;  // all of one cycle (below the agent's source timeout, 5 s by default)
  int64_t interval_ms = 60'000;
  std::vector<std::string> collect = {"stats", "status", "filesystems"};
  std::string cluster;  // the cluster's name; empty: the name `weka status` reports
  FsNames fs_names;
};

Result<std::optional<WekaConfig>> read_weka_config(const config::Section& section, const AgentContext& ctx);

class WekaSource : public Source {
 public:
  explicit WekaSource(WekaConfig config);

  std::string_view name() const override { return "weka"; }
  int64_t interval_ms() const override { return config_.interval_ms; }
  Result<void> collect(Collection& out) override;

 private:
  // Fetches one document: `cli_args` through the CLI, or `rest_path` through the REST API.
  Result<std::string> fetch(const std::vector<std::string>& cli_args, const std::string& rest_path);
  // The `fs` of cluster-wide series: the configured or reported cluster name, renamed; "weka" while unknown.
  std::string cluster_fs() const;
  void emit_stats(const std::string& text, Collection& out, std::vector<std::string>& errors);
  void emit_status(const std::string& text, Collection& out, std::vector<std::string>& errors);
  void emit_filesystems(const std::string& text, Collection& out, std::vector<std::string>& errors);

  WekaConfig config_;
  ToolRunner runner_;
  std::map<std::string, double> unknown_fields_;
  std::string reported_cluster_;  // from the last `weka status`
};

Result<std::unique_ptr<Source>> make_weka_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent
