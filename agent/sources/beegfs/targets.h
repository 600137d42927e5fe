// Parsers for target capacity and state: BeeGFS 7 `beegfs-df` and `beegfs-ctl --listtargets --spaceinfo [--state]`
// (text), BeeGFS 8 `beegfs target list --state --capacity --output ndjson --raw` and `beegfs health capacity`
// (JSON). Reference §A3.1, §A4.3.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::beegfs {

struct TargetRow {
  std::string nodetype;      // "meta" or "storage"
  std::string target;        // numeric target id as printed ("101")
  std::string node;          // owning node as printed, "" when hidden
  std::string reachability;  // "Online", "Probably-offline", "Offline"; "" when not asked for
  std::string consistency;   // "Good", "Needs-resync", "Bad"; "" when not asked for
  std::string cap_pool;      // lower case: "normal", "low", "emergency"
  std::optional<double> total_bytes, free_bytes, inodes, inodes_free;
};

struct Targets {
  std::vector<TargetRow> rows;
  size_t unknown_fields = 0;
};

// `nodetype` applies until a "METADATA SERVERS:" / "STORAGE TARGETS:" heading (beegfs-df) says otherwise.
Result<Targets> parse_ctl_targets(std::string_view text, std::string_view nodetype);
Result<Targets> parse_cli_targets(std::string_view text);

// BeeGFS 7 `beegfs-ctl --listnodes`: "<alias> [ID: <n>]" lines (indented detail lines are skipped).
struct NodeRef {
  std::string alias;
  std::string id;
};
Result<std::vector<NodeRef>> parse_ctl_listnodes(std::string_view text);

}  // namespace ss::agent::beegfs
