// The BeeGFS source: runs the BeeGFS 7 `beegfs-ctl` or BeeGFS 8 `beegfs` CLI (detected, or chosen in the
// configuration), hands the output to the pure parsers and exports the BeeGFS rows of DESIGN.md §3, every
// series labelled with the BeeGFS instance it comes from (`fs`, agent/fs_names.h). One source can query several
// instances, each with its own management host. Configured by `sources.beegfs` (docs/sources/beegfs.md).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "agent/source.h"
#include "agent/sources/beegfs/history.h"
#include "agent/sources/tool_runner.h"
#include "common/config.h"

namespace ss::agent {

// One BeeGFS instance: the arguments that point the tools at it, and its name (empty: derived).
struct BeegfsInstance {
  std::string fs;
  std::vector<std::string> args;
};

struct BeegfsConfig {
  std::string tool = "auto";  // auto | beegfs-ctl | beegfs
  std::string ctl_path = "beegfs-ctl";
  std::string cli_path = "beegfs";
  std::vector<std::string> args;  // extra arguments for every call (--cfgFile=..., --mgmtd-addr ...)
  std::vector<BeegfsInstance> filesystems = {{}};  // each instance's own arguments follow `args`
  FsNames fs_names;
  int64_t timeout_ms = 4'000;        // one command
  int64_t cycle_timeout_ms = 4'500;  // all commands of one cycle (below the agent's source timeout, 5 s by default)
  int64_t history_s = 60;
  std::vector<std::string> node_types = {"meta", "storage"};
  std::vector<std::string> collect = {"servers", "clients", "users", "targets"};
};

// nullopt when the section disables the source (or this node is not in run_on).
Result<std::optional<BeegfsConfig>> read_beegfs_config(const config::Section& section, const AgentContext& ctx);

class BeegfsSource : public Source {
 public:
  explicit BeegfsSource(BeegfsConfig config);

  std::string_view name() const override { return "beegfs"; }
  Result<void> collect(Collection& out) override;

 private:
  enum class Tool { None, Ctl, Cli };

  // What one cycle queries: the tool, the instance's arguments and its `fs` label.
  struct Query {
    Tool tool;
    const BeegfsInstance* instance;
    std::string fs;
  };

  std::vector<std::string> base(const Query& q) const;
  std::string fs_name(const BeegfsInstance& instance) const;
  void describe(Collection& out) const;
  void count_unknown(const std::string& command, size_t n);
  void collect_servers(const Query& q, const std::string& nodetype, Collection& out, std::vector<std::string>& errors);
  void collect_clients(const Query& q, const std::string& nodetype, bool users, Collection& out,
                       std::vector<std::string>& errors);
  void collect_targets(const Query& q, const std::vector<std::string>& nodetypes, Collection& out,
                       std::vector<std::string>& errors);
  bool wants(std::string_view what) const;

  BeegfsConfig config_;
  ToolRunner runner_;
  std::map<std::tuple<std::string, std::string, std::string>, beegfs::ServerHistory> history_;  // (fs, nodetype, server)
  std::map<std::string, double> unknown_fields_;                                  // by command
};

Result<std::unique_ptr<Source>> make_beegfs_source(const config::Section& section, const AgentContext& ctx);

}  // namespace ss::agent
