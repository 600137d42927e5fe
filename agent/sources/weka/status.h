// Parser for `weka status -J` / REST `GET /api/v2/cluster` (reference §B4): the cluster health users alert on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace ss::agent::weka {

struct ProtectionLevel {
  int failures = 0;     // numFailures: data that can survive this many more failures...
  double percent = 0;   // ...is this share of all data
};

struct HangingIos {
  std::string kind;     // "backend", "driver_frontend", "nfs_frontend"
  bool detected = false;  // the last "hanging IOs" event is newer than the last "no longer detected" one
};

struct ClusterStatus {
  std::string name, release, status, io_status;
  std::optional<double> active_alerts;
  std::optional<double> drives_active, drives_total;
  std::optional<double> io_nodes_active, io_nodes_total;
  std::optional<double> rebuild_progress_percent, unavailable_percent;
  std::vector<ProtectionLevel> protection;
  std::vector<HangingIos> hanging_ios;
  std::optional<double> capacity_total_bytes;
};

Result<ClusterStatus> parse_status(std::string_view text);

}  // namespace ss::agent::weka
