#include "collector/modules.h"

#include "collector/cost/cost_module.h"
#include "collector/store/chunk_store.h"
#include "collector/incidents/detect_module.h"
#include "collector/remote/remote_write.h"

namespace ss::collector {

namespace {
Result<std::unique_ptr<RunningModule>> check_retention(const config::Section& section, CollectorContext&) {
  StoreOptions ignored;
  if (auto r = read_retention(section, ignored); !r.ok()) return r.error();
  return std::unique_ptr<RunningModule>();
}
}  // namespace

const std::vector<Module>& collector_modules() {
  static const std::vector<Module> modules{
      {"ingest", start_ingest_api},  // POST /api/v1/ingest
      {"", start_query_api},         // GET /api/v1/series, /api/v1/query_range
      {"", start_ops_api},           // GET /metrics, /healthz
      {"remote_read", start_remote_read_api},  // POST /api/v1/read (Prometheus remote read)
      {"cost", start_cost},          // GET /api/v1/cost
      {"retention", check_retention},  // applied when the store opens (collector.cpp); validated here
      {"detect", start_detect},      // detectors, incidents: GET /api/v1/incidents, alerts
      // remote_write: a list (Prometheus' format), read by the module from the whole configuration
      {"", [](const config::Section&, CollectorContext& ctx) { return remote::start_remote_write(ctx); }},
  };
  return modules;
}

}  // namespace ss::collector
