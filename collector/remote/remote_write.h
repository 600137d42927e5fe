// Remote write out (docs/remote.md): every batch the collector acknowledges is appended to a durable
// queue on disk (collector/remote/disk_queue.h), and one sender per `remote_write` endpoint reads it from
// its own cursor, relabels, and POSTs Prometheus remote-write 1.0 requests, retrying 5xx, 429 and
// transport errors with backoff until they succeed; other 4xx answers drop the request (counted).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "collector/remote/relabel.h"
#include "common/result.h"

namespace ss::collector {
struct CollectorContext;
class RunningModule;
}  // namespace ss::collector

namespace ss::collector::remote {

struct EndpointOptions {
  std::string name;  // remote_name on the metrics and the cursor's file name
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string basic_username, basic_password, basic_password_file;
  std::string bearer_token, bearer_token_file;
  std::string ca_file, cert_file, key_file;
  bool insecure_skip_verify = false;
  int64_t remote_timeout_ms = 30'000;
  size_t max_samples_per_send = 2000;
  int64_t batch_send_deadline_ms = 5'000;
  int64_t min_backoff_ms = 30;
  int64_t max_backoff_ms = 5'000;
  bool retry_on_http_429 = true;
  int64_t max_backlog_bytes = int64_t(1) << 30;  // queue_config.max_backlog_bytes (ours): disk bound
  std::vector<RelabelRule> relabel;
};

// Reads the `remote_write` list (Prometheus' key names); throws config::Invalid naming the bad key.
std::vector<EndpointOptions> read_remote_write(const YAML::Node& list);

Result<std::unique_ptr<RunningModule>> start_remote_write(CollectorContext& ctx);

}  // namespace ss::collector::remote
