#include "agent/agent_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "agent/exporter.h"
#include "common/config.h"
#include "common/log.h"
#include "common/sample.h"
#include "common/time.h"

namespace ss::agent {
namespace {

Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return errorf("token_file: cannot read {}", path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return errorf("token_file: {} is empty", path);
  return t;
}

std::string describe_ms(int64_t ms) { return format_duration(ms); }

}  // namespace

Result<AgentConfig> make_agent_config(const YAML::Node& file, const AgentFlags& flags, const std::string& hostname) {
  AgentConfig c;
  std::string token_file;
  auto read = config::read([&]() -> bool {
    config::Section top(file, "");
    top.allow_only({"collector", "token", "token_file", "listen", "interval", "node", "spool", "spool_max_size",
                    "source_timeout", "source_timeouts", "request_timeout", "max_backoff", "first_send_jitter", "proc_root", "log_level",
                    "fs_names", "sources"});
    // One URL, or a list of them (two collectors that both store everything, docs/remote.md).
    if (top.has("collector") && top.node()["collector"].IsSequence()) c.collectors = top.strings("collector", {});
    else if (top.has("collector")) c.collectors = {top.string("collector", "")};
    c.token = top.string("token", c.token);
    token_file = top.string("token_file", "");
    c.listen = top.string("listen", c.listen);
    c.interval_ms = top.duration_ms("interval", c.interval_ms);
    c.node = top.string("node", c.node);
    c.spool = top.string("spool", c.spool);
    c.spool_max_bytes = top.bytes("spool_max_size", c.spool_max_bytes);
    c.source_timeout_ms = top.duration_ms("source_timeout", c.source_timeout_ms);
    auto per_source = top.child("source_timeouts");
    for (const auto& kv : per_source.node())
      c.source_timeouts_ms[kv.first.as<std::string>()] = per_source.duration_ms(kv.first.as<std::string>(), 0);
    c.request_timeout_ms = top.duration_ms("request_timeout", c.request_timeout_ms);
    c.max_backoff_ms = top.duration_ms("max_backoff", c.max_backoff_ms);
    c.first_send_jitter_ms = top.duration_ms("first_send_jitter", c.first_send_jitter_ms);
    c.proc_root = top.string("proc_root", c.proc_root);
    c.log_level = top.string("log_level", c.log_level);
    if (top.has("fs_names")) {
      const auto& m = top.node()["fs_names"];
      if (!m.IsMap()) top.fail("fs_names", "expected a mapping of mount point or derived name to file-system name");
      for (const auto& kv : m) {
        auto key = kv.first.as<std::string>();
        if (!kv.second.IsScalar() || kv.second.as<std::string>().empty())
          top.fail("fs_names", fmt::format("{}: expected a non-empty file-system name", key));
        c.fs_names[key] = kv.second.as<std::string>();
      }
    }
    auto sources = top.child("sources");  // throws unless a mapping
    c.sources = sources.node();
    return true;
  });
  if (!read) return read.error();

  // Flags win over the file.
  if (flags.collector) {
    c.collectors.clear();
    std::string_view rest = *flags.collector;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      c.collectors.emplace_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  if (flags.listen) c.listen = *flags.listen;
  if (flags.node) c.node = *flags.node;
  if (flags.spool) c.spool = *flags.spool;
  if (flags.log_level) c.log_level = *flags.log_level;
  if (flags.token_file) {
    token_file = *flags.token_file;
    c.token.clear();
  }
  if (flags.interval) {
    auto ms = parse_duration_ms(*flags.interval);
    if (!ms) return errorf("--interval: {}", ms.error().message);
    c.interval_ms = *ms;
  }

  if (!token_file.empty()) {
    if (!c.token.empty()) return Error{"token and token_file are both set: use one"};
    auto t = read_token_file(token_file);
    if (!t) return t.error();
    c.token = *t;
  }
  if (c.interval_ms < 100) return errorf("interval: {} is too short (at least 100ms)", describe_ms(c.interval_ms));
  if (c.node.empty()) c.node = hostname;
  if (!valid_node_name(c.node))
    return errorf("node: \"{}\" is not 1-253 characters of [A-Za-z0-9._-]; set --node", c.node);
  if (auto hp = parse_host_port(c.listen); !hp) return errorf("listen: {}", hp.error().message);
  for (const auto& url : c.collectors) {
    if (!url.starts_with("http://") && !url.starts_with("https://"))
      return errorf("collector: \"{}\" must be a URL starting with http:// or https://", url);
    if (std::count(c.collectors.begin(), c.collectors.end(), url) > 1)
      return errorf("collector: \"{}\" is listed twice", url);
  }
  if (c.spool.empty()) return Error{"spool: must name a directory"};
  if (c.spool_max_bytes < 1 << 20) return Error{"spool_max_size: must be at least 1MiB"};
  if (c.source_timeout_ms == 0) c.source_timeout_ms = std::min<int64_t>(5'000, c.interval_ms * 4 / 5);
  // A cycle waits for its slowest source, so a timeout as long as the interval would make cycles overlap.
  if (c.source_timeout_ms >= c.interval_ms)
    return errorf("source_timeout: {} must be shorter than the interval ({})", describe_ms(c.source_timeout_ms),
                  describe_ms(c.interval_ms));
  for (const auto& [name, ms] : c.source_timeouts_ms)
    if (ms <= 0 || ms >= c.interval_ms)
      return errorf("source_timeouts.{}: {} must be above 0 and shorter than the interval ({})", name,
                    describe_ms(ms), describe_ms(c.interval_ms));
  if (c.request_timeout_ms <= 0) return Error{"request_timeout: must be above 0"};
  if (c.max_backoff_ms < 100) return Error{"max_backoff: must be at least 100ms"};
  if (c.first_send_jitter_ms < 0) return Error{"first_send_jitter: must not be negative"};
  log::Level level;
  if (!log::parse_level(c.log_level, level))
    return errorf("log_level: \"{}\" is not debug, info, warn or error", c.log_level);
  return c;
}

}  // namespace ss::agent
