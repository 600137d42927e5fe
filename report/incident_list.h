// Incidents over a range: the rows (from the API's incident objects or the collector's store), the
// filters of /ui/ (validated as the JSON API validates them), dollars per kind and per job, and the list
// as a page with a timeline, or as terminal text (`stormscope report --from … --to …`).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace ss::report {

struct IncidentRow {
  std::string id, kind, fs, target, severity, summary;
  int64_t start_ms = 0;
  std::optional<int64_t> end_ms;
  int64_t last_seen_ms = 0;
  double cost_usd = 0, gpu_idle_seconds = 0;
  std::vector<std::pair<std::string, double>> culprit_jobs;  // job → share of the excess
  std::vector<std::pair<std::string, double>> victim_jobs;   // job → dollars lost
  std::string top_culprit;                                   // "job 4711 on gpu017 python /lustre/…"
};

// From the API's incident object (culprits and victims included).
IncidentRow row_from_json(const nlohmann::json& incident);

struct ListFilters {
  int64_t from_ms = 0, to_ms = 0;
  std::string kind, fs, job, severity;  // empty: any
};

// from, to (default now-7d … now), kind, fs, job, severity; unknown parameters and bad values are errors.
Result<ListFilters> parse_list_filters(const std::map<std::string, std::string>& params, int64_t now_ms);
// Whether a row passes the filters (range overlap included).
bool matches(const IncidentRow& row, const ListFilters& f);

struct JobCost {
  double caused_usd = 0;  // the incidents' dollars, split by the culprit's share
  double lost_usd = 0;    // as a victim
  int incidents = 0;
};

struct RangeSummary {
  ListFilters filters;
  std::vector<IncidentRow> rows;  // oldest first
  std::map<std::string, std::pair<int, double>> by_kind;  // kind → (incidents, dollars)
  std::map<std::string, JobCost> by_job;
  double total_usd = 0;
};

RangeSummary summarize(std::vector<IncidentRow> rows, const ListFilters& filters);

// Jobs by dollars caused, then lost, most first.
std::vector<std::pair<std::string, JobCost>> worst_jobs(const RangeSummary& s, size_t n);

// `incident_base`: prefix of incident links ("/ui/incidents/"); `max_rows`: rows in the table (newest
// first; the timeline and sums cover all).
std::string list_html(const RangeSummary& s, const std::string& incident_base, size_t max_rows = 500);
std::string range_text(const RangeSummary& s, size_t max_rows = 50);

}  // namespace ss::report
