// Incidents in SQLite: one row per incident (its JSON body plus the columns queries filter on), in their
// own table, by default in a file beside the time-series database. Open incidents are read back at start,
// so an incident survives a restart of the collector. Thread-safe (one connection behind a mutex).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "collector/incidents/incident.h"
#include "common/result.h"

struct sqlite3;

namespace ss::collector::incidents {

struct IncidentQuery {
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;  // incidents overlapping [from, to]
  std::string kind, fs;                            // empty: any
  size_t limit = 1000;
};

class IncidentStore {
 public:
  // `path` ":memory:" keeps everything in memory (benchmarks, tests).
  static Result<std::unique_ptr<IncidentStore>> open(const std::string& path);
  ~IncidentStore();

  Result<void> put(const Incident& incident);  // insert or replace
  Result<std::vector<Incident>> query(const IncidentQuery& q);
  Result<std::optional<Incident>> get(const std::string& id);
  // What a list shows of each incident, as the API's JSON without evidence, nodes or key (SQLite picks the
  // fields out of the stored bodies: parsing 10,000 whole bodies would dominate a list page).
  Result<std::vector<nlohmann::json>> query_summaries(const IncidentQuery& q);
  Result<std::vector<Incident>> open_incidents();

 private:
  explicit IncidentStore(sqlite3* db) : db_(db) {}
  Result<std::vector<Incident>> select(const std::string& sql, const std::vector<std::string>& text,
                                       const std::vector<int64_t>& ints);
  Result<std::vector<nlohmann::json>> select_json(const std::string& sql, const std::vector<std::string>& text,
                                                  const std::vector<int64_t>& ints);
  sqlite3* db_;
  std::mutex mu_;
};

}  // namespace ss::collector::incidents
