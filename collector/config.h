// The collector's configuration: its own keys at the top level of the YAML file (the same names as the
// command-line flags), plus one section per module (collector/modules.h) that the module reads itself.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>

#include "common/result.h"

namespace ss::collector {

struct HttpOptions {
  std::string host = "0.0.0.0";
  int port = 9480;                   // 0: any free port
  int threads = 8;                   // threads running handlers (connections need none of their own)
  int64_t header_timeout_ms = 10'000;  // a request's headers, from its first byte (or from connect)
  int64_t body_timeout_ms = 30'000;    // a request's body, from the end of its headers
  int64_t write_timeout_ms = 10'000;
  int64_t keepalive_timeout_ms = 60'000;  // an idle keep-alive connection between requests
  int keepalive_max = 10'000;        // requests per connection before it is closed
  int max_connections = 16'000;      // open connections; more are closed at once
};

struct CollectorConfig {
  HttpOptions http;
  std::string db_path = "./data/stormscope.db";
  std::string log_level = "info";
  YAML::Node root = YAML::Node(YAML::NodeType::Map);  // the whole file; modules read their sections
};

// "HOST:PORT", "[v6]:PORT" or ":PORT" (all addresses).
Result<void> parse_listen(const std::string& text, HttpOptions& http);

// Reads the top-level keys listen, db, log_level, http {threads, header_timeout, body_timeout,
// write_timeout, keepalive_timeout, keepalive_max, max_connections}; any other top-level key must be a module's section.
Result<CollectorConfig> read_collector_config(const YAML::Node& root);

}  // namespace ss::collector
