#include "collector/incidents/service.h"

#include "common/log.h"
#include "common/time.h"

namespace ss::collector::incidents {

Result<std::unique_ptr<DetectionService>> DetectionService::create(const detect::DetectConfig& config,
                                                                   const cost::CostConfig& cost,
                                                                   const std::string& incidents_db, Store* series) {
  std::unique_ptr<DetectionService> s(new DetectionService());
  s->config_ = config;
  auto store = IncidentStore::open(incidents_db);
  if (!store) return store.error();
  s->store_ = std::move(*store);
  auto set = detect::make_detectors(config);
  ManagerOptions mo;
  mo.quiet_ms = config.incidents.quiet_ms;
  mo.quiet_by_kind = {{"ost_imbalance", config.incidents.quiet_ost_imbalance_ms}};
  mo.max_unknown_ms = config.incidents.max_unknown_ms;
  mo.max_culprits = config.incidents.max_culprits;
  mo.cost = cost;
  s->manager_ = std::make_unique<IncidentManager>(mo, s->store_.get(), series);
  auto loaded = s->manager_->load();
  if (!loaded) return loaded.error();
  if (!config.alerts.urls.empty()) {
    s->alerts_ = std::make_unique<AlertPusher>(config.alerts);
    AlertPusher* pusher = s->alerts_.get();
    s->manager_->add_listener([pusher](const Incident& i, Change c) { pusher->on_change(i, c); });
  }
  IncidentManager* manager = s->manager_.get();
  int64_t interval = config.engine.interval_ms;
  s->engine_ = std::make_unique<detect::Engine>(
      config.engine, std::move(set.detectors),
      [manager, interval](int64_t bucket, std::vector<detect::Finding>& f) { manager->on_bucket(bucket, interval, f); });
  return s;
}

DetectionService::~DetectionService() = default;

void DetectionService::on_batch(const Batch& batch) {
  if (!config_.enabled) return;
  std::lock_guard lock(mu_);
  last_data_wall_ms_ = now_ms();
  engine_->ingest(batch, last_data_wall_ms_);
}

void DetectionService::tick(int64_t now) {
  std::lock_guard lock(mu_);
  engine_->tick(now);  // nodes silent on the wall clock are no longer awaited
  // When the data is live (its time close to the wall clock) and has stopped arriving altogether, the
  // buckets after it are judged empty, so that its incidents end.
  int64_t data = engine_->data_time();
  if (data == INT64_MIN || now - data > config_.incidents.max_unknown_ms * 4) return;
  if (now - last_data_wall_ms_ < config_.engine.silent_after_ms) return;
  engine_->advance(now - config_.engine.silent_after_ms);
}

void DetectionService::flush() {
  std::lock_guard lock(mu_);
  engine_->flush();
}

detect::EngineStats DetectionService::engine_stats() const {
  std::lock_guard lock(mu_);
  return engine_->stats();
}

ApiResponse DetectionService::list(const std::map<std::string, std::string>& params, int64_t now) {
  auto bad = [](const std::string& what) { return ApiResponse{400, nlohmann::json{{"error", what}}.dump()}; };
  IncidentQuery q;
  for (const auto& [k, v] : params) {
    if (k == "from" || k == "to") {
      auto t = parse_time_ms(v, now);
      if (!t) return bad(fmt::format("{}: {}", k, t.error().message));
      (k == "from" ? q.from_ms : q.to_ms) = *t;
    } else if (k == "kind") {
      if (!valid_kind(v)) return bad("kind: one of metadata_storm, waittime_spike, ost_imbalance, checkpoint_stall");
      q.kind = v;
    } else if (k == "fs") {
      q.fs = v;
    } else if (k == "limit") {
      char* end = nullptr;
      long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end || n < 1 || n > 100000) return bad("limit: a number from 1 to 100000");
      q.limit = static_cast<size_t>(n);
    } else {
      return bad("unknown parameter " + k + " (from, to, kind, fs, limit)");
    }
  }
  if (q.from_ms > q.to_ms) return bad("from is after to");
  auto r = store_->query(q);
  if (!r) return {500, nlohmann::json{{"error", r.error().message}}.dump()};
  nlohmann::json list = nlohmann::json::array();
  for (const auto& i : *r) list.push_back(to_json(i));
  return {200, nlohmann::json{{"incidents", list}}.dump()};
}

ApiResponse DetectionService::get(const std::string& id) {
  auto r = store_->get(id);
  if (!r) return {500, nlohmann::json{{"error", r.error().message}}.dump()};
  if (!r->has_value()) return {404, nlohmann::json{{"error", "no incident " + id}}.dump()};
  return {200, to_json(**r).dump()};
}

}  // namespace ss::collector::incidents
