// One incident's story as a page or terminal text: summary and facts, charts of the signal against its
// baseline and threshold, culprits and victims, related incidents and the likely chain, nodes, evidence,
// and what to do next. The view is JSON (GET /api/v1/incidents/<id>/view), so the collector and
// `stormscope report` render the same thing.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/result.h"
#include "report/chart.h"

namespace ss::report {

struct RelatedIncident {
  nlohmann::json incident;  // the API's incident object
  std::string relation;     // "likely cause", "likely effect" or "overlaps"
};

struct IncidentView {
  nlohmann::json incident;  // the API's incident object
  std::vector<Chart> charts;
  std::vector<RelatedIncident> related;  // overlapping on the same file system, by start
  std::vector<std::string> chain;        // ids, cause first, including this incident; empty when none
};

nlohmann::json to_json(const IncidentView& v);
Result<IncidentView> view_from_json(const nlohmann::json& j);

struct PageLinks {
  // Prefix of incident pages ("/ui/incidents/"); empty: ids are not links (a standalone file).
  std::string incident_base;
  std::string list_href;  // "/ui/" or empty
};

std::string incident_html(const IncidentView& v, const PageLinks& links);
std::string incident_text(const IncidentView& v);

// What to do next, per kind, one step a line (plain text; commands in `backticks`).
std::vector<std::string> next_steps(const nlohmann::json& incident);

// Helpers shared with the list page.
std::string culprit_label(const nlohmann::json& culprit);
std::string duration_text(int64_t ms);
std::string severity_html(const std::string& severity);

}  // namespace ss::report
