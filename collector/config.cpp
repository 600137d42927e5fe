#include "collector/config.h"

#include <algorithm>
#include <charconv>

#include "collector/modules.h"
#include "common/config.h"
#include "common/log.h"

namespace ss::collector {

Result<void> parse_listen(const std::string& text, HttpOptions& http) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) return errorf("listen address \"{}\" is not HOST:PORT", text);
  std::string host = text.substr(0, colon);
  std::string port = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535)
    return errorf("listen address \"{}\": port \"{}\" is not a number from 0 to 65535", text, port);
  http.host = host.empty() ? "0.0.0.0" : host;
  http.port = p;
  return {};
}

Result<CollectorConfig> read_collector_config(const YAML::Node& root) {
  return config::read([&]() -> CollectorConfig {
    CollectorConfig c;
    c.root = root;
    config::Section top(root, "");
    std::vector<std::string_view> allowed{"listen", "db", "log_level", "http", "remote_write"};
    for (const auto& m : collector_modules())
      if (!m.section.empty()) allowed.push_back(m.section);
    if (root.IsMap()) {
      for (const auto& kv : root) {
        auto key = kv.first.as<std::string>();
        if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
          std::string list;
          for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
          top.fail(key, fmt::format("unknown key (known keys: {})", list));
        }
      }
    }
    if (top.has("listen")) {
      if (auto r = parse_listen(top.string("listen", ""), c.http); !r) top.fail("listen", r.error().message);
    }
    c.db_path = top.string("db", c.db_path);
    c.log_level = top.string("log_level", c.log_level);
    log::Level level;
    if (!log::parse_level(c.log_level, level)) top.fail("log_level", "expected debug, info, warn or error");
    auto http = top.child("http");
    http.allow_only({"threads", "header_timeout", "body_timeout", "write_timeout", "keepalive_timeout",
                     "keepalive_max", "max_connections"});
    c.http.threads = static_cast<int>(http.integer("threads", c.http.threads));
    if (c.http.threads < 2 || c.http.threads > 4096) http.fail("threads", "must be between 2 and 4096");
    c.http.header_timeout_ms = http.duration_ms("header_timeout", c.http.header_timeout_ms);
    c.http.body_timeout_ms = http.duration_ms("body_timeout", c.http.body_timeout_ms);
    c.http.write_timeout_ms = http.duration_ms("write_timeout", c.http.write_timeout_ms);
    c.http.keepalive_timeout_ms = http.duration_ms("keepalive_timeout", c.http.keepalive_timeout_ms);
    c.http.keepalive_max = static_cast<int>(http.integer("keepalive_max", c.http.keepalive_max));
    if (c.http.keepalive_max < 1) http.fail("keepalive_max", "must be at least 1");
    c.http.max_connections = static_cast<int>(http.integer("max_connections", c.http.max_connections));
    if (c.http.max_connections < 1) http.fail("max_connections", "must be at least 1");
    for (auto [key, v] : {std::pair{"header_timeout", c.http.header_timeout_ms}, {"body_timeout", c.http.body_timeout_ms},
                          {"write_timeout", c.http.write_timeout_ms}, {"keepalive_timeout", c.http.keepalive_timeout_ms}})
      if (v <= 0) http.fail(key, "must be positive");
    return c;
  });
}

}  // namespace ss::collector
