#include "collector/modules.h"

#include "collector/section_checks.h"

#include "collector/api/ingest.h"
#include "collector/cost/cost_module.h"
#include "collector/cost/prices.h"
#include "collector/detect/config.h"
#include "collector/store/chunk_store.h"
#include "collector/incidents/detect_module.h"
#include "collector/remote/remote_write.h"

namespace ss::collector {

namespace {
// The checks: each reads its section the way its module's start does, and keeps nothing.
template <class Read>
std::function<Result<void>(const config::Section&)> check_by(Read read) {
  return [read](const config::Section& s) -> Result<void> {
    if (auto r = read(s); !r) return r.error();
    return ok();
  };
}
Result<void> check_ingest(const config::Section& s) {
  read_ingest_options(s);  // throws config::Invalid
  return ok();
}
Result<void> check_retention(const config::Section& s) {
  StoreOptions ignored;
  return read_retention(s, ignored);
}
Result<std::unique_ptr<RunningModule>> nothing_to_start(const config::Section&, CollectorContext&) {
  return std::unique_ptr<RunningModule>();
}
}  // namespace

const std::vector<Module>& collector_modules() {
  static const std::vector<Module> modules{
      {"ingest", start_ingest_api},              // POST /api/v1/ingest
      {"", start_query_api},                     // GET /api/v1/series, /api/v1/query_range
      {"", start_ops_api},                       // GET /metrics, /healthz
      {"remote_read", start_remote_read_api},    // POST /api/v1/read (Prometheus remote read)
      {"cost", start_cost},                      // GET /api/v1/cost
      {"retention", nothing_to_start},           // applied when the store opens (collector.cpp); checked below
      {"detect", start_detect},                  // detectors, incidents: GET /api/v1/incidents, alerts
      // remote_write: a list (Prometheus' format), read by the module from the whole configuration
      {"", [](const config::Section&, CollectorContext& ctx) { return remote::start_remote_write(ctx); }},
  };
  return modules;
}

Result<void> check_module_sections(const CollectorConfig& config) {
  // One line per module that has a section: it is read here, before anything is made, the way start reads it.
  using Check = std::function<Result<void>(const config::Section&)>;
  static const std::vector<std::pair<std::string, Check>> checks{
      {"ingest", check_ingest},
      {"cost", check_by(cost::read_cost_config)},
      {"retention", check_retention},
      {"detect", check_by(detect::read_detect_config)},
      {"remote_read", check_remote_read_section},
  };
  auto read = config::read([&]() -> bool {
    for (const auto& [name, check] : checks)
      if (auto r = check(config::Section(config.root[name], name)); !r) throw config::Invalid{r.error().message};
    remote::read_remote_write(config.root["remote_write"]);  // a list, not a section
    return true;
  });
  if (!read) return read.error();
  return ok();
}

}  // namespace ss::collector
