#include "agent/sources/beegfs/beegfs_source.h"

#include <algorithm>
#include <set>

#include "agent/sources/beegfs/clientstats.h"
#include "agent/sources/beegfs/serverstats.h"
#include "agent/sources/beegfs/targets.h"
#include "common/log.h"

namespace ss::agent {

using namespace beegfs;

namespace {
bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }
}  // namespace

Result<std::optional<BeegfsConfig>> read_beegfs_config(const config::Section& s, const AgentContext& ctx) {
  return config::read([&]() -> std::optional<BeegfsConfig> {
    s.allow_only({"enabled", "run_on", "tool", "ctl_path", "cli_path", "args", "filesystems", "timeout", "cycle_timeout",
                  "history", "node_types", "collect"});
    // A present section switches the source on unless it says enabled: false.
    bool present = s.node().IsDefined() && s.node().IsMap() && s.node().size() > 0;
    if (!s.boolean("enabled", present)) return std::nullopt;
    auto run_on = s.strings("run_on", {});
    if (!run_on.empty() && !contains(run_on, ctx.node)) return std::nullopt;
    BeegfsConfig c;
    c.tool = s.string("tool", c.tool);
    if (c.tool != "auto" && c.tool != "beegfs-ctl" && c.tool != "beegfs")
      s.fail("tool", fmt::format("expected auto, beegfs-ctl (BeeGFS 7) or beegfs (BeeGFS 8), got \"{}\"", c.tool));
    c.ctl_path = s.string("ctl_path", c.ctl_path);
    c.cli_path = s.string("cli_path", c.cli_path);
    c.args = s.strings("args", {});
    c.fs_names = ctx.fs_names;
    if (s.has("filesystems")) {
      const auto& list = s.node()["filesystems"];
      if (!list.IsSequence() || list.size() == 0)
        s.fail("filesystems", "expected a list of BeeGFS instances, each {fs: NAME, args: [...]}");
      c.filesystems.clear();
      std::set<std::string> names;
      for (size_t i = 0; i < list.size(); ++i) {
        config::Section e(list[i], s.path_of("filesystems") + fmt::format("[{}]", i));
        e.allow_only({"fs", "args"});
        BeegfsInstance instance{e.string("fs", ""), e.strings("args", {})};
        if (instance.fs.empty() && instance.args.empty())
          e.fail("args", "an instance needs args that point the tools at it (--cfgFile=... or --mgmtd-addr HOST:PORT)");
        if (!instance.fs.empty() && !names.insert(instance.fs).second)
          e.fail("fs", fmt::format("\"{}\" names two instances", instance.fs));
        c.filesystems.push_back(std::move(instance));
      }
    }
    c.timeout_ms = s.duration_ms("timeout", c.timeout_ms);
    if (c.timeout_ms < 100) s.fail("timeout", "must be at least 100ms");
    c.cycle_timeout_ms = s.duration_ms("cycle_timeout", std::max(c.cycle_timeout_ms, c.timeout_ms));
    if (c.cycle_timeout_ms < c.timeout_ms) s.fail("cycle_timeout", "must not be shorter than timeout");
    c.history_s = s.duration_ms("history", c.history_s * 1000) / 1000;
    if (c.history_s < 1 || c.history_s > 60) s.fail("history", "must be between 1s and 60s (servers keep 60 s)");
    c.node_types = s.strings("node_types", c.node_types);
    for (const auto& t : c.node_types)
      if (t != "meta" && t != "storage") s.fail("node_types", fmt::format("expected meta or storage, got \"{}\"", t));
    c.collect = s.strings("collect", c.collect);
    for (const auto& w : c.collect)
      if (w != "servers" && w != "clients" && w != "users" && w != "targets")
        s.fail("collect", fmt::format("expected servers, clients, users or targets, got \"{}\"", w));
    return c;
  });
}

BeegfsSource::BeegfsSource(BeegfsConfig config) : config_(std::move(config)), runner_("beegfs", config_.timeout_ms, config_.cycle_timeout_ms) {}

bool BeegfsSource::wants(std::string_view what) const { return contains(config_.collect, what); }

std::vector<std::string> BeegfsSource::base(const Query& q) const {
  std::vector<std::string> argv{q.tool == Tool::Ctl ? config_.ctl_path : config_.cli_path};
  argv.insert(argv.end(), config_.args.begin(), config_.args.end());
  argv.insert(argv.end(), q.instance->args.begin(), q.instance->args.end());
  return argv;
}

// The instance's given name, else its management host (from the arguments, or the client configuration they
// or the tools' default name), renamed by fs_names; "beegfs" when the host cannot be found.
std::string BeegfsSource::fs_name(const BeegfsInstance& instance) const {
  if (!instance.fs.empty()) return instance.fs;
  std::vector<std::string> args = config_.args;
  args.insert(args.end(), instance.args.begin(), instance.args.end());
  BeegfsAddress a = beegfs_address_of_args(args);
  std::string host = a.mgmt_host;
  if (host.empty()) host = read_beegfs_mgmt_host(a.conf_path.empty() ? std::string(kBeegfsClientConf) : a.conf_path);
  return config_.fs_names.name(host.empty() ? kUnknownBeegfs : host);
}

void BeegfsSource::count_unknown(const std::string& command, size_t n) { unknown_fields_[command] += static_cast<double>(n); }

void BeegfsSource::describe(Collection& out) const {
  out.describe("beegfs_server_requests_total", MetricKind::Counter, "Requests finished by a BeeGFS server.");
  out.describe("beegfs_server_queue_length", MetricKind::Gauge, "Queued requests on a BeeGFS server (newest second).");
  out.describe("beegfs_server_busy_workers", MetricKind::Gauge, "Busy worker threads of a BeeGFS server (newest second).");
  out.describe("beegfs_server_bytes_total", MetricKind::Counter, "Bytes a BeeGFS storage server read from or wrote to disk.");
  out.describe("beegfs_server_network_bytes_total", MetricKind::Counter, "Bytes a BeeGFS server received or sent.");
  out.describe("beegfs_server_stats_missed_seconds_total", MetricKind::Counter,
               "Seconds of server statistics that left the servers' 60 s window between two reads (not counted).");
  out.describe("beegfs_client_ops_total", MetricKind::Counter, "Operations of a client on the BeeGFS servers of a node type.");
  out.describe("beegfs_client_bytes_total", MetricKind::Counter, "Bytes a client read from or wrote to the BeeGFS storage servers.");
  out.describe("beegfs_user_ops_total", MetricKind::Counter, "Operations of a user (UID) on the BeeGFS servers of a node type.");
  out.describe("beegfs_user_bytes_total", MetricKind::Counter, "Bytes a user (UID) read from or wrote to the BeeGFS storage servers.");
  out.describe("beegfs_target_capacity_bytes", MetricKind::Gauge, "Size of a BeeGFS target.");
  out.describe("beegfs_target_free_bytes", MetricKind::Gauge, "Free space of a BeeGFS target.");
  out.describe("beegfs_target_inodes", MetricKind::Gauge, "Inodes of a BeeGFS target.");
  out.describe("beegfs_target_inodes_free", MetricKind::Gauge, "Free inodes of a BeeGFS target.");
  out.describe("beegfs_target_reachable", MetricKind::Gauge, "1 when the target is Online, 0 when Probably-offline or Offline.");
  out.describe("beegfs_target_consistent", MetricKind::Gauge, "1 when the target is Good, 0 when Needs-resync or Bad.");
  out.describe("beegfs_tool_info", MetricKind::Gauge, "The BeeGFS tool the agent uses (value 1).");
  out.describe("stormscope_agent_unknown_fields_total", MetricKind::Counter,
               "Fields a parser did not understand and skipped, by source and command.");
}

Result<void> BeegfsSource::collect(Collection& out) {
  runner_.start_cycle();
  describe(out);
  Tool tool = Tool::None;
  if (config_.tool == "beegfs" || (config_.tool == "auto" && find_executable(config_.cli_path))) tool = Tool::Cli;
  else if (config_.tool == "beegfs-ctl" || (config_.tool == "auto" && find_executable(config_.ctl_path))) tool = Tool::Ctl;
  if (tool == Tool::None)
    return errorf("neither {} (BeeGFS 8) nor {} (BeeGFS 7) was found in PATH", config_.cli_path, config_.ctl_path);
  out.add("beegfs_tool_info", {{"tool", tool == Tool::Ctl ? "beegfs-ctl" : "beegfs"}, {"version", tool == Tool::Ctl ? "7" : "8"}}, 1);

  std::vector<std::string> errors;
  std::set<std::string> seen;
  for (const auto& instance : config_.filesystems) {
    Query q{tool, &instance, fs_name(instance)};
    if (!seen.insert(q.fs).second) {
      errors.push_back(fmt::format("two BeeGFS instances are both named \"{}\": give them fs names", q.fs));
      continue;
    }
    for (const auto& type : config_.node_types) {
      if (wants("servers")) collect_servers(q, type, out, errors);
      if (wants("clients")) collect_clients(q, type, false, out, errors);
      if (wants("users")) collect_clients(q, type, true, out, errors);
    }
    if (wants("targets")) collect_targets(q, config_.node_types, out, errors);
  }

  for (const auto& [command, n] : unknown_fields_)
    out.add("stormscope_agent_unknown_fields_total", {{"source", "beegfs"}, {"command", command}}, n);
  if (errors.empty()) return ok();
  std::string message = errors.front();
  if (errors.size() > 1) message += fmt::format(" (and {} more errors)", errors.size() - 1);
  return Error{message};
}

void BeegfsSource::collect_servers(const Query& q, const std::string& type, Collection& out, std::vector<std::string>& errors) {
  const Tool tool = q.tool;
  // 1. The server list. 2. Each server's history, so every server gets its own counters.
  std::vector<NodeRef> nodes;
  if (tool == Tool::Ctl) {
    auto argv = base(q);
    argv.insert(argv.end(), {"--listnodes", "--nodetype=" + type});
    auto r = runner_.run(argv);
    if (r.error) return errors.push_back(*r.error);
    auto parsed = parse_ctl_listnodes(r.out);
    if (!parsed) return errors.push_back(parsed.error().message);
    nodes = std::move(*parsed);
  } else {
    auto argv = base(q);
    argv.insert(argv.end(), {"stats", "server", "--node-type", type, "--interval", "0", "--output", "ndjson", "--raw"});
    auto r = runner_.run(argv);
    if (r.error) return errors.push_back(*r.error);
    auto parsed = parse_cli_stats_server(r.out);
    if (!parsed) return errors.push_back(parsed.error().message);
    count_unknown("beegfs stats server", parsed->unknown_fields);
    for (const auto& row : parsed->rows)
      if (!row.node.empty()) nodes.push_back({row.alias.empty() ? row.node : row.alias, row.node});
  }
  for (const auto& node : nodes) {
    auto argv = base(q);
    if (tool == Tool::Ctl)
      argv.insert(argv.end(), {"--serverstats", "--nodetype=" + type, fmt::format("--history={}", config_.history_s), node.id});
    else
      argv.insert(argv.end(), {"stats", "server", node.id, "--interval", "0", "--history",
                               fmt::format("{}s", config_.history_s), "--output", "ndjson", "--raw", "--columns", "all"});
    auto r = runner_.run(argv);
    if (r.error) {
      errors.push_back(*r.error);
      continue;
    }
    auto parsed = tool == Tool::Ctl ? parse_ctl_serverstats(r.out) : parse_cli_stats_server(r.out);
    if (!parsed) {
      errors.push_back(parsed.error().message);
      continue;
    }
    count_unknown(tool == Tool::Ctl ? "beegfs-ctl --serverstats" : "beegfs stats server", parsed->unknown_fields);
    std::vector<ServerStatsRow> rows;
    for (auto& row : parsed->rows)
      if (row.time_s > 0) rows.push_back(std::move(row));
    if (rows.empty()) {
      errors.push_back(fmt::format("{}: no timed history rows for {} server {}", describe_command(argv), type, node.alias));
      continue;
    }
    std::string server = node.alias.empty() ? node.id : node.alias;
    auto& h = history_[{q.fs, type, server}];
    auto newest = h.absorb(std::move(rows));
    int64_t t = newest->time_s * 1000;  // the servers' own clock: the bucket the values belong to
    const auto& tot = h.totals();
    Labels l{{"fs", q.fs}, {"nodetype", type}, {"server", server}};
    out.add_at("beegfs_server_requests_total", l, tot.requests, t);
    out.add_at("beegfs_server_queue_length", l, newest->queue_length, t);
    out.add_at("beegfs_server_busy_workers", l, newest->busy_workers, t);
    out.add_at("beegfs_server_stats_missed_seconds_total", l, tot.missed_seconds, t);
    if (newest->has_disk && type == "storage") {
      out.add_at("beegfs_server_bytes_total", {{"fs", q.fs}, {"server", server}, {"op", "read"}}, tot.read_bytes, t);
      out.add_at("beegfs_server_bytes_total", {{"fs", q.fs}, {"server", server}, {"op", "write"}}, tot.write_bytes, t);
    }
    if (newest->has_net) {
      out.add_at("beegfs_server_network_bytes_total", {{"fs", q.fs}, {"nodetype", type}, {"server", server}, {"op", "received"}},
                 tot.recv_bytes, t);
      out.add_at("beegfs_server_network_bytes_total", {{"fs", q.fs}, {"nodetype", type}, {"server", server}, {"op", "sent"}},
                 tot.send_bytes, t);
    }
  }
}

void BeegfsSource::collect_clients(const Query& q, const std::string& type, bool users, Collection& out,
                                   std::vector<std::string>& errors) {
  const Tool tool = q.tool;
  auto argv = base(q);
  if (tool == Tool::Ctl)
    argv.insert(argv.end(), {users ? "--userstats" : "--clientstats", "--nodetype=" + type, "--interval=0", "--perinterval"});
  else
    argv.insert(argv.end(), {"stats", users ? "user" : "client", "--node-type", type, "--interval", "0", "--output",
                             "ndjson", "--raw"});
  auto r = runner_.run(argv);
  if (r.error) return errors.push_back(*r.error);
  auto parsed = tool == Tool::Ctl ? parse_ctl_clientstats(r.out) : parse_cli_stats_clients(r.out, users ? "user" : "client");
  if (!parsed) return errors.push_back(parsed.error().message);
  count_unknown(tool == Tool::Ctl ? (users ? "beegfs-ctl --userstats" : "beegfs-ctl --clientstats")
                                  : (users ? "beegfs stats user" : "beegfs stats client"),
                parsed->unknown_fields);
  const char* key = users ? "user" : "client";
  std::string ops = users ? "beegfs_user_ops_total" : "beegfs_client_ops_total";
  std::string bytes = users ? "beegfs_user_bytes_total" : "beegfs_client_bytes_total";
  for (const auto& e : parsed->entries) {
    for (const auto& [op, v] : e.ops) out.add(ops, {{"fs", q.fs}, {"nodetype", type}, {key, e.id}, {"op", op}}, v);
    if (e.has_bytes) {
      out.add(bytes, {{"fs", q.fs}, {key, e.id}, {"op", "read"}}, e.read_bytes);
      out.add(bytes, {{"fs", q.fs}, {key, e.id}, {"op", "write"}}, e.write_bytes);
    }
  }
}

void BeegfsSource::collect_targets(const Query& q, const std::vector<std::string>& types, Collection& out,
                                   std::vector<std::string>& errors) {
  const Tool tool = q.tool;
  std::vector<TargetRow> rows;
  if (tool == Tool::Ctl) {
    for (const auto& type : types) {
      auto argv = base(q);
      argv.insert(argv.end(), {"--listtargets", "--nodetype=" + type, "--state", "--spaceinfo"});
      auto r = runner_.run(argv);
      if (r.error) {
        errors.push_back(*r.error);
        // Exit codes 5-7 (node unreachable, target offline or not good) still print the table.
        if (r.out.empty() || r.exit_code < 5 || r.exit_code > 7) continue;
      }
      auto parsed = parse_ctl_targets(r.out, type);
      if (!parsed) {
        errors.push_back(parsed.error().message);
        continue;
      }
      count_unknown("beegfs-ctl --listtargets", parsed->unknown_fields);
      rows.insert(rows.end(), parsed->rows.begin(), parsed->rows.end());
    }
  } else {
    auto argv = base(q);
    argv.insert(argv.end(), {"target", "list", "--state", "--capacity", "--output", "ndjson", "--raw"});
    auto r = runner_.run(argv);
    if (r.error) return errors.push_back(*r.error);
    auto parsed = parse_cli_targets(r.out);
    if (!parsed) return errors.push_back(parsed.error().message);
    count_unknown("beegfs target list", parsed->unknown_fields);
    for (auto& row : parsed->rows)
      if (contains(types, row.nodetype)) rows.push_back(std::move(row));
  }
  for (const auto& row : rows) {
    Labels l{{"fs", q.fs}, {"nodetype", row.nodetype}, {"target", row.target}};
    if (row.total_bytes) out.add("beegfs_target_capacity_bytes", l, *row.total_bytes);
    if (row.free_bytes) out.add("beegfs_target_free_bytes", l, *row.free_bytes);
    if (row.inodes) out.add("beegfs_target_inodes", l, *row.inodes);
    if (row.inodes_free) out.add("beegfs_target_inodes_free", l, *row.inodes_free);
    if (!row.reachability.empty()) out.add("beegfs_target_reachable", l, row.reachability == "Online" ? 1 : 0);
    if (!row.consistency.empty()) out.add("beegfs_target_consistent", l, row.consistency == "Good" ? 1 : 0);
  }
}

Result<std::unique_ptr<Source>> make_beegfs_source(const config::Section& section, const AgentContext& ctx) {
  auto c = read_beegfs_config(section, ctx);
  if (!c) return c.error();
  if (!*c) return std::unique_ptr<Source>{};
  return std::unique_ptr<Source>(std::make_unique<BeegfsSource>(std::move(**c)));
}

}  // namespace ss::agent
