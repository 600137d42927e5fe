// What an incident page shows beyond the incident itself, read from the collector's stores: charts of the
// signal that raised it (from the stored series around its window, per kind) and the incidents related to
// it on the same file system with the likely chain. Rendered by report/ (collector pages, `stormscope report`).
#pragma once

#include <vector>

#include "collector/incidents/incident.h"
#include "collector/incidents/incident_store.h"
#include "collector/store/store.h"
#include "common/result.h"
#include "report/incident_page.h"

namespace ss::collector::ui {

// The window charted around an incident: some context before and after, on a grid of ~240 steps.
struct ChartWindow {
  int64_t from_ms = 0, to_ms = 0, step_ms = 0;
};
ChartWindow chart_window(const incidents::Incident& inc);

std::vector<report::Chart> incident_charts(Store& store, const incidents::Incident& inc);

// Incidents on the same file system overlapping this one (with a margin), each with its relation, and the
// chain cause → effect when there is one: a storm or an OST imbalance, then waittime spikes, then stalls.
void relate(const incidents::Incident& inc, const std::vector<incidents::Incident>& overlapping, report::IncidentView& view);

Result<report::IncidentView> build_view(Store& store, incidents::IncidentStore& incidents, const incidents::Incident& inc);

}  // namespace ss::collector::ui
