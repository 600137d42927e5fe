// Detection wired for the collector: the engine with its detectors fed by the ingest observer, the incident
// manager with its SQLite store and Alertmanager pusher, and the incident API (DESIGN.md §5). Pure of HTTP:
// handlers take query parameters and return status and body, so the collector's server (or a test) only
// routes to them. The detect module mirrors its figures into the collector's /metrics.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "collector/cost/prices.h"
#include "collector/detect/config.h"
#include "collector/detect/engine.h"
#include "collector/incidents/alerts.h"
#include "collector/incidents/incident_store.h"
#include "collector/incidents/manager.h"
#include "collector/store/store.h"

namespace ss::collector::incidents {

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
};

class DetectionService {
 public:
  // `incidents_db`: the SQLite file for incidents (":memory:" for none on disk). `series`: the store the
  // batches are appended to before on_batch sees them, read for the cost of incidents (null: no cost).
  static Result<std::unique_ptr<DetectionService>> create(const detect::DetectConfig& config,
                                                          const cost::CostConfig& cost,
                                                          const std::string& incidents_db, Store* series);
  ~DetectionService();

  // The ingest observer: every durable batch, in any order across nodes. Thread-safe.
  void on_batch(const Batch& batch);
  // Wall-clock tick (once a few seconds): when no data arrives, buckets are still judged, so incidents
  // of nodes that all went silent end after max_unknown instead of staying open forever.
  void tick(int64_t now_ms);
  // Judges every pending bucket (end of a replay).
  void flush();

  // GET /api/v1/incidents?from=&to=&kind=&fs=&limit=
  ApiResponse list(const std::map<std::string, std::string>& params, int64_t now_ms);
  // GET /api/v1/incidents/<id>
  ApiResponse get(const std::string& id);

  IncidentManager& manager() { return *manager_; }
  IncidentStore& incident_store() { return *store_; }
  detect::EngineStats engine_stats() const;

 private:
  DetectionService() = default;
  detect::DetectConfig config_;
  std::unique_ptr<IncidentStore> store_;
  std::unique_ptr<IncidentManager> manager_;
  std::unique_ptr<AlertPusher> alerts_;
  std::unique_ptr<detect::Engine> engine_;
  mutable std::mutex mu_;  // the engine is single-threaded
  int64_t last_data_wall_ms_ = 0;
};

}  // namespace ss::collector::incidents
