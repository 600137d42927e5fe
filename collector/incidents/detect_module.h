// The collector's `detect:` module: runs the detectors on every durable batch (through a queue and a worker
// thread, so ingest never waits for detection), keeps incidents in SQLite, pushes alerts, and serves
//   GET /api/v1/incidents?from=&to=&kind=&fs=&limit=   GET /api/v1/incidents/<id>
//   GET /api/v1/detect/status   (data time judged so far, queue length: a replay is judged when queued is 0)
// and stormscope_incidents_active / stormscope_gpu_idle_cost_dollars_total on /metrics.
#pragma once

#include "collector/modules.h"

namespace ss::collector {

Result<std::unique_ptr<RunningModule>> start_detect(const config::Section& section, CollectorContext& ctx);

// Where incidents are kept by default: beside the time-series database ("x/stormscope.db" →
// "x/stormscope.incidents.db").
std::string default_incidents_db(const std::string& db_path);

}  // namespace ss::collector
