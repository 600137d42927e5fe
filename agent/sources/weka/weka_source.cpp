#include "agent/sources/weka/weka_source.h"

#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "agent/sources/weka/filesystems.h"
#include "agent/sources/weka/stats.h"
#include "agent/sources/weka/status.h"
#include "common/log.h"

namespace ss::agent {

using namespace weka;

namespace {
bool contains(const std::vector<std::string>& v, std::string_view s) { return std::find(v.begin(), v.end(), s) != v.end(); }

// The categories the source reads, and the metric prefix each feeds.
struct Category {
  const char* name;
  const char* prefix;
};
constexpr Category kCategories[] = {{"ops_driver", "weka_"}, {"ops", "weka_frontend_"}};
}  // namespace

Result<std::optional<WekaConfig>> read_weka_config(const config::Section& s, const AgentContext& ctx) {
  return config::read([&]() -> std::optional<WekaConfig> {
    s.allow_only({"enabled", "run_on", "mode", "cli_path", "args", "url", "token", "token_file", "tls_verify", "timeout",
                  "cycle_timeout", "interval", "collect", "cluster"});
    bool present = s.node().IsDefined() && s.node().IsMap() && s.node().size() > 0;
    if (!s.boolean("enabled", present)) return std::nullopt;
    auto run_on = s.strings("run_on", {});
    if (!run_on.empty() && !contains(run_on, ctx.node)) return std::nullopt;
    WekaConfig c;
    c.url = s.string("url", "");
    c.mode = s.string("mode", c.url.empty() ? "cli" : "rest");
    if (c.mode != "cli" && c.mode != "rest") s.fail("mode", fmt::format("expected cli or rest, got \"{}\"", c.mode));
    c.cli_path = s.string("cli_path", c.cli_path);
    c.args = s.strings("args", {});
    c.token = s.string("token", "");
    c.token_file = s.string("token_file", "");
    if (c.mode == "rest") {
      if (c.url.empty()) s.fail("url", "is required when mode is rest (for example https://weka01:14000)");
      if (!c.url.starts_with("http://") && !c.url.starts_with("https://"))
        s.fail("url", fmt::format("must start with http:// or https://, got \"{}\"", c.url));
      while (c.url.ends_with("/")) c.url.pop_back();
      if (c.token.empty() && c.token_file.empty()) s.fail("token", "token or token_file is required when mode is rest");
    }
    c.tls_verify = s.boolean("tls_verify", c.tls_verify);
    c.timeout_ms = s.duration_ms("timeout", c.timeout_ms);
    if (c.timeout_ms < 100) s.fail("timeout", "must be at least 100ms");
    c.cycle_timeout_ms = s.duration_ms("cycle_timeout", std::max(c.cycle_timeout_ms, c.timeout_ms));
    if (c.cycle_timeout_ms < c.timeout_ms) s.fail("cycle_timeout", "must not be shorter than timeout");
    c.interval_ms = s.duration_ms("interval", c.interval_ms);
    if (c.interval_ms < 60'000)
      s.fail("interval", "must be at least 60s: Weka keeps one-minute statistics, polling faster only repeats them");
    c.cluster = s.string("cluster", "");
    c.fs_names = ctx.fs_names;
    c.collect = s.strings("collect", c.collect);
    for (const auto& w : c.collect)
      if (w != "stats" && w != "status" && w != "filesystems")
        s.fail("collect", fmt::format("expected stats, status or filesystems, got \"{}\"", w));
    return c;
  });
}

WekaSource::WekaSource(WekaConfig config) : config_(std::move(config)), runner_("weka", config_.timeout_ms, config_.cycle_timeout_ms) {}

Result<std::string> WekaSource::fetch(const std::vector<std::string>& cli_args, const std::string& rest_path) {
  if (config_.mode == "cli") {
    std::vector<std::string> argv{config_.cli_path};
    argv.insert(argv.end(), config_.args.begin(), config_.args.end());
    argv.insert(argv.end(), cli_args.begin(), cli_args.end());
    auto r = runner_.run(argv);
    if (r.error) return Error{*r.error};
    return std::move(r.out);
  }
  if (auto refused = runner_.refuse("GET " + config_.url + "/api/v2" + rest_path)) return Error{*refused};
  std::string token = config_.token;
  if (!config_.token_file.empty()) {
    std::ifstream in(config_.token_file);
    if (!in) return errorf("cannot read the Weka token file {}", config_.token_file);
    std::stringstream ss;
    ss << in.rdbuf();
    token = ss.str();
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r' || token.back() == ' ')) token.pop_back();
  }
  httplib::Client client(config_.url);
  int64_t timeout_ms = runner_.next_timeout_ms();
  auto secs = static_cast<time_t>(timeout_ms / 1000);
  auto usecs = static_cast<time_t>((timeout_ms % 1000) * 1000);
  client.set_connection_timeout(secs, usecs);
  client.set_read_timeout(secs, usecs);
  client.set_write_timeout(secs, usecs);
  client.enable_server_certificate_verification(config_.tls_verify);
  client.set_bearer_token_auth(token);
  auto res = client.Get("/api/v2" + rest_path);
  if (!res) {
    if (res.error() == httplib::Error::Read || res.error() == httplib::Error::Connection) runner_.abort();
    auto message = fmt::format("GET {}/api/v2{}: {}", config_.url, rest_path, httplib::to_string(res.error()));
    log::warn("weka: {}", message);
    return Error{message};
  }
  if (res->status != 200) {
    std::string body = res->body.substr(0, 200);
    auto message = fmt::format("GET {}/api/v2{}: HTTP {}{}{}", config_.url, rest_path, res->status,
                               res->status == 401 ? " (token rejected or expired)" : "", body.empty() ? "" : ": " + body);
    log::warn("weka: {}", message);
    return Error{message};
  }
  return std::move(res->body);
}

Result<void> WekaSource::collect(Collection& out) {
  runner_.start_cycle();
  out.describe("weka_op_rate", MetricKind::Gauge, "Weka client (ops_driver) operations per second, mean over the minute.");
  out.describe("weka_op_latency_seconds", MetricKind::Gauge, "Weka client (ops_driver) mean operation latency over the minute.");
  out.describe("weka_io_bytes_per_second", MetricKind::Gauge, "Weka client (ops_driver) read/write bytes per second, mean over the minute.");
  out.describe("weka_ops_rate", MetricKind::Gauge, "All Weka client (ops_driver) operations per second, mean over the minute.");
  out.describe("weka_frontend_op_rate", MetricKind::Gauge, "Weka frontend (ops: POSIX, NFS, SMB, S3) operations per second.");
  out.describe("weka_frontend_op_latency_seconds", MetricKind::Gauge, "Weka frontend (ops) mean operation latency.");
  out.describe("weka_frontend_io_bytes_per_second", MetricKind::Gauge, "Weka frontend (ops) read/write bytes per second.");
  out.describe("weka_frontend_ops_rate", MetricKind::Gauge, "All Weka frontend (ops) operations per second.");
  out.describe("weka_fs_capacity_bytes", MetricKind::Gauge, "Size of a Weka file system.");
  out.describe("weka_fs_used_bytes", MetricKind::Gauge, "Used bytes of a Weka file system.");
  out.describe("weka_cluster_status_ok", MetricKind::Gauge, "1 when weka status reports OK.");
  out.describe("weka_io_started", MetricKind::Gauge, "1 when the cluster's IO status is STARTED.");
  out.describe("weka_protection_ratio", MetricKind::Gauge,
               "Share of data that can survive `failures` more failures (rebuild.protectionState).");
  out.describe("weka_rebuild_progress_ratio", MetricKind::Gauge, "Rebuild progress, 0..1.");
  out.describe("weka_unavailable_data_ratio", MetricKind::Gauge, "Share of data that is unavailable.");
  out.describe("weka_hanging_ios", MetricKind::Gauge, "1 while Weka reports hanging IOs of a kind (its last event is newer than the all-clear).");
  out.describe("weka_active_alerts", MetricKind::Gauge, "Active Weka alerts.");
  out.describe("weka_drives_active", MetricKind::Gauge, "Active Weka drives.");
  out.describe("weka_drives", MetricKind::Gauge, "Weka drives, active or not.");
  out.describe("weka_io_processes_active", MetricKind::Gauge, "Active Weka IO processes (io_nodes).");
  out.describe("weka_io_processes", MetricKind::Gauge, "Weka IO processes (io_nodes), active or not.");
  out.describe("weka_info", MetricKind::Gauge, "Weka cluster name and release (value 1); fs is the name its statistics carry.");
  out.describe("stormscope_agent_unknown_fields_total", MetricKind::Counter,
               "Fields a parser did not understand and skipped, by source and command.");

  std::vector<std::string> errors;
  // Status first: it names the cluster that labels the cluster-wide statistics.
  if (contains(config_.collect, "status")) {
    auto r = fetch({"status", "-J"}, "/cluster");
    if (r) emit_status(*r, out, errors);
    else errors.push_back(r.error().message);
  }
  if (contains(config_.collect, "stats")) {
    std::string categories;
    for (const auto& c : kCategories) categories += (categories.empty() ? "" : ",") + std::string(c.name);
    if (config_.mode == "cli") {
      // -R: raw units; -J: JSON. The last two minutes, so the newest complete bucket is always there.
      auto r = fetch({"stats", "--category", categories, "--start-time", "-2m", "-R", "-J"}, "");
      if (r) emit_stats(*r, out, errors);
      else errors.push_back(r.error().message);
    } else {
      for (const auto& c : kCategories) {
        auto r = fetch({}, fmt::format("/stats?category={}&interval=120&resolution_secs=60", c.name));
        if (r) emit_stats(*r, out, errors);
        else errors.push_back(r.error().message);
      }
    }
  }
  if (contains(config_.collect, "filesystems")) {
    auto r = fetch({"fs", "-J"}, "/fileSystems");
    if (r) emit_filesystems(*r, out, errors);
    else errors.push_back(r.error().message);
  }
  for (const auto& [command, n] : unknown_fields_)
    out.add("stormscope_agent_unknown_fields_total", {{"source", "weka"}, {"command", command}}, n);
  if (errors.empty()) return ok();
  std::string message = errors.front();
  if (errors.size() > 1) message += fmt::format(" (and {} more errors)", errors.size() - 1);
  return Error{message};
}

std::string WekaSource::cluster_fs() const {
  const std::string& name = config_.cluster.empty() ? reported_cluster_ : config_.cluster;
  return config_.fs_names.name(name.empty() ? kUnknownWeka : name);
}

void WekaSource::emit_stats(const std::string& text, Collection& out, std::vector<std::string>& errors) {
  auto parsed = parse_stats(text);
  if (!parsed) return errors.push_back(parsed.error().message);
  size_t unknown = parsed->unknown_fields;
  const std::string fs = cluster_fs();
  for (const auto& v : newest_values(*parsed)) {
    const Category* cat = nullptr;
    for (const auto& c : kCategories)
      if (v.category == c.name) cat = &c;
    if (!cat || !v.param.empty()) continue;  // other categories or parameterised stats: not asked for
    std::string op;
    std::string prefix = cat->prefix;
    switch (classify_stat(v.stat, op)) {
      case StatKind::OpRate: out.add_at(prefix + "op_rate", {{"fs", fs}, {"op", op}}, v.value, v.t_ms); break;
      case StatKind::OpLatency:
        out.add_at(prefix + "op_latency_seconds", {{"fs", fs}, {"op", op}}, v.value / 1e6, v.t_ms);
        break;
      case StatKind::Bytes: out.add_at(prefix + "io_bytes_per_second", {{"fs", fs}, {"op", op}}, v.value, v.t_ms); break;
      case StatKind::Total: out.add_at(prefix + "ops_rate", {{"fs", fs}}, v.value, v.t_ms); break;
      case StatKind::Ignored: break;
      case StatKind::Unknown: ++unknown; break;
    }
  }
  unknown_fields_["weka stats"] += static_cast<double>(unknown);
}

void WekaSource::emit_status(const std::string& text, Collection& out, std::vector<std::string>& errors) {
  auto parsed = parse_status(text);
  if (!parsed) return errors.push_back(parsed.error().message);
  const auto& s = *parsed;
  if (!s.name.empty()) reported_cluster_ = s.name;
  const std::string fs = cluster_fs();
  const Labels l{{"fs", fs}};
  out.add("weka_info", {{"fs", fs}, {"cluster", s.name}, {"release", s.release}}, 1);
  out.add("weka_cluster_status_ok", l, s.status == "OK" ? 1 : 0);
  if (!s.io_status.empty()) out.add("weka_io_started", l, s.io_status == "STARTED" ? 1 : 0);
  for (const auto& p : s.protection)
    out.add("weka_protection_ratio", {{"fs", fs}, {"failures", std::to_string(p.failures)}}, p.percent / 100);
  if (s.rebuild_progress_percent) out.add("weka_rebuild_progress_ratio", l, *s.rebuild_progress_percent / 100);
  if (s.unavailable_percent) out.add("weka_unavailable_data_ratio", l, *s.unavailable_percent / 100);
  for (const auto& h : s.hanging_ios) out.add("weka_hanging_ios", {{"fs", fs}, {"kind", h.kind}}, h.detected ? 1 : 0);
  if (s.active_alerts) out.add("weka_active_alerts", l, *s.active_alerts);
  if (s.drives_active) out.add("weka_drives_active", l, *s.drives_active);
  if (s.drives_total) out.add("weka_drives", l, *s.drives_total);
  if (s.io_nodes_active) out.add("weka_io_processes_active", l, *s.io_nodes_active);
  if (s.io_nodes_total) out.add("weka_io_processes", l, *s.io_nodes_total);
}

void WekaSource::emit_filesystems(const std::string& text, Collection& out, std::vector<std::string>& errors) {
  auto parsed = parse_filesystems(text);
  if (!parsed) return errors.push_back(parsed.error().message);
  unknown_fields_["weka fs"] += static_cast<double>(parsed->unknown_fields);
  // Each file system is labelled with its own name and, in `cluster`, the `fs` of the cluster-wide statistics.
  const std::string cluster = cluster_fs();
  for (const auto& fs : parsed->items) {
    Labels l{{"fs", config_.fs_names.name(fs.name)}, {"cluster", cluster}};
    if (fs.capacity_bytes) out.add("weka_fs_capacity_bytes", l, *fs.capacity_bytes);
    if (fs.used_bytes) out.add("weka_fs_used_bytes", l, *fs.used_bytes);
  }
}

Result<std::unique_ptr<Source>> make_weka_source(const config::Section& section, const AgentContext& ctx) {
  auto c = read_weka_config(section, ctx);
  if (!c) return c.error();
  if (!*c) return std::unique_ptr<Source>{};
  return std::unique_ptr<Source>(std::make_unique<WekaSource>(std::move(**c)));
}

}  // namespace ss::agent
