#include "collector/incidents/detect_module.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <thread>

#include "collector/cost/prices.h"
#include "collector/incidents/service.h"
#include "collector/ui/pages.h"
#include "common/log.h"
#include "common/time.h"

namespace ss::collector {

std::string default_incidents_db(const std::string& db_path) {
  std::filesystem::path p(db_path);
  std::string stem = p.stem().string();
  return (p.parent_path() / (stem.empty() ? "stormscope.incidents.db" : stem + ".incidents.db")).string();
}

namespace {

class DetectModule : public RunningModule {
 public:
  DetectModule(std::unique_ptr<incidents::DetectionService> svc, size_t queue, prometheus::Registry& registry)
      : svc_(std::move(svc)),
        max_queue_(queue),
        active_(prometheus::BuildGauge()
                    .Name("stormscope_incidents_active")
                    .Help("Open incidents, by kind and file system.")
                    .Register(registry)),
        cost_(prometheus::BuildCounter()
                  .Name("stormscope_gpu_idle_cost_dollars_total")
                  .Help("GPU idle dollars attributed to incidents since the collector started.")
                  .Register(registry)),
        dropped_(prometheus::BuildCounter()
                     .Name("stormscope_detect_dropped_batches_total")
                     .Help("Batches not judged by the detectors because their queue was full.")
                     .Register(registry)
                     .Add({})),
        queued_(prometheus::BuildGauge()
                    .Name("stormscope_detect_queued_batches")
                    .Help("Batches waiting for the detectors.")
                    .Register(registry)
                    .Add({})),
        info_(prometheus::BuildGauge()
                  .Name("stormscope_incident_info")
                  .Help("1 for each open incident, labelled with its id (the page is /ui/incidents/<id>), kind, file "
                        "system, target, severity and top culprit job; gone once it closes.")
                  .Register(registry)),
        incident_cost_(prometheus::BuildGauge()
                           .Name("stormscope_incident_cost_dollars")
                           .Help("GPU idle dollars of each open incident so far (the final figure is on its page "
                                 "and in the API once it closes).")
                           .Register(registry)),
        late_(counter(registry, "stormscope_detect_late_points_total",
                      "Points that arrived after their bucket was judged (not seen by the detectors).")),
        resets_(counter(registry, "stormscope_detect_resets_total", "Counter resets seen (intervals skipped).")),
        buckets_(counter(registry, "stormscope_detect_buckets_total", "Buckets judged by the detectors.")),
        incomplete_(counter(registry, "stormscope_detect_incomplete_buckets_total",
                            "Buckets judged without a node that had reported shortly before them (given up on: "
                            "behind by detect.lateness or silent for detect.silent_after).")) {
    for (const char* k : incidents::kKinds) {
      active_.Add({{"kind", k}, {"fs", ""}}).Set(0);
      cost_.Add({{"kind", k}, {"fs", ""}});
    }
    worker_ = std::thread([this] { loop(); });
  }
  ~DetectModule() override { stop(); }

  void enqueue(const std::shared_ptr<const Batch>& b) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= max_queue_) {
        dropped_.Increment();
        return;
      }
      queue_.push_back(b);
      queued_.Set(static_cast<double>(queue_.size()));
    }
    cv_.notify_one();
  }

  void stop() override {
    {
      std::lock_guard lock(mu_);
      if (stop_) return;
      stop_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) worker_.join();
  }

  incidents::DetectionService& service() { return *svc_; }

  nlohmann::json status() {
    std::lock_guard lock(mu_);
    auto st = svc_->engine_stats();
    return {{"queued", queue_.size() + (busy_ ? 1 : 0)},
            {"data_time", data_time_},
            {"buckets", st.buckets},
            {"observations", st.observations},
            {"late_points", st.late_points},
            {"counter_resets", st.counter_resets},
            {"gaps", st.gaps},
            {"incomplete_buckets", st.incomplete_buckets},
            {"dropped_batches", dropped_.Value()}};
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    int64_t last_tick = monotonic_ms();
    while (true) {
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stop_ || !queue_.empty(); });
      if (stop_) break;
      while (!queue_.empty()) {
        std::shared_ptr<const Batch> b = std::move(queue_.front());
        queue_.pop_front();
        queued_.Set(static_cast<double>(queue_.size()));
        busy_ = true;
        lock.unlock();
        svc_->on_batch(*b);
        int64_t newest = INT64_MIN;
        for (const auto& s : b->series)
          for (const auto& p : s.points) newest = std::max(newest, p.t_ms);
        b.reset();  // freed outside the lock
        lock.lock();
        busy_ = false;
        data_time_ = std::max(data_time_, newest);
      }
      if (monotonic_ms() - last_tick >= 5000) {
        last_tick = monotonic_ms();
        lock.unlock();
        svc_->tick(now_ms());
        lock.lock();
      }
      lock.unlock();
      publish();
      lock.lock();
    }
  }

  static prometheus::Counter& counter(prometheus::Registry& registry, const char* name, const char* help) {
    return prometheus::BuildCounter().Name(name).Help(help).Register(registry).Add({});
  }
  static void catch_up(prometheus::Counter& c, uint64_t total) {
    if (static_cast<double>(total) > c.Value()) c.Increment(static_cast<double>(total) - c.Value());
  }

  // Mirrors the manager's and the engine's figures into the registry families (the one path to /metrics).
  void publish() {
    auto st = svc_->engine_stats();
    catch_up(late_, st.late_points);
    catch_up(resets_, st.counter_resets);
    catch_up(buckets_, st.buckets);
    catch_up(incomplete_, st.incomplete_buckets);
    auto counts = svc_->manager().active();
    for (auto& [key, g] : shown_) g->Set(0);
    for (const auto& [key, n] : counts) {
      auto& g = shown_[key];
      if (!g) g = &active_.Add({{"kind", key.first}, {"fs", key.second}});
      g->Set(n);
    }
    // One info series per open incident; an incident whose labels change (severity, culprit) gets new ones.
    std::map<std::string, prometheus::Gauge*> still, still_cost;
    for (const auto& inc : svc_->manager().open_incidents()) {
      std::string job = inc.culprits.empty() ? "" : inc.culprits.front().job;
      std::map<std::string, std::string> labels{{"id", inc.id},         {"kind", inc.kind},
                                                {"fs", inc.fs},         {"target", inc.target},
                                                {"severity", inc.severity}, {"culprit_job", job}};
      std::string key = inc.id + '\0' + inc.severity + '\0' + job;
      auto it = info_shown_.find(key);
      prometheus::Gauge* g = it != info_shown_.end() ? it->second : &info_.Add(labels);
      g->Set(1);
      still[key] = g;
      labels.erase("severity");
      std::string ckey = inc.id + '\0' + job;
      auto ct = cost_shown_.find(ckey);
      prometheus::Gauge* c = ct != cost_shown_.end() ? ct->second : &incident_cost_.Add(labels);
      c->Set(inc.cost_usd);
      still_cost[ckey] = c;
    }
    for (const auto& [key, g] : info_shown_)
      if (!still.count(key)) info_.Remove(g);
    for (const auto& [key, g] : cost_shown_)
      if (!still_cost.count(key)) incident_cost_.Remove(g);
    info_shown_ = std::move(still);
    cost_shown_ = std::move(still_cost);
    for (const auto& [key, total] : svc_->manager().cost_totals()) {
      double& seen = cost_seen_[key];
      if (total > seen) {
        cost_.Add({{"kind", key.first}, {"fs", key.second}}).Increment(total - seen);
        seen = total;
      }
    }
  }

  std::unique_ptr<incidents::DetectionService> svc_;
  size_t max_queue_;
  prometheus::Family<prometheus::Gauge>& active_;
  prometheus::Family<prometheus::Counter>& cost_;
  prometheus::Counter& dropped_;
  prometheus::Gauge& queued_;
  prometheus::Family<prometheus::Gauge>& info_;
  prometheus::Family<prometheus::Gauge>& incident_cost_;
  std::map<std::string, prometheus::Gauge*> info_shown_;  // id, severity, culprit job → its series
  std::map<std::string, prometheus::Gauge*> cost_shown_;  // id, culprit job → its series
  prometheus::Counter &late_, &resets_, &buckets_, &incomplete_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> shown_;
  std::map<std::pair<std::string, std::string>, double> cost_seen_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const Batch>> queue_;  // shared with the ingest handler: no copy
  bool stop_ = false, busy_ = false;
  int64_t data_time_ = 0;
  std::thread worker_;
};

std::map<std::string, std::string> params_of(const http::Request& req) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : req.params) out[k] = v;
  return out;
}

}  // namespace

Result<std::unique_ptr<RunningModule>> start_detect(const config::Section& section, CollectorContext& ctx) {
  auto dc = detect::read_detect_config(section);
  if (!dc) return dc.error();
  if (!dc->enabled) {
    log::info("detect: disabled");
    return std::unique_ptr<RunningModule>();
  }
  // The prices of the `cost:` section (owned by the cost module; read here, not validated twice in spirit).
  cost::CostConfig costs;
  if (ctx.config.root.IsMap() && ctx.config.root["cost"]) {
    auto c = cost::read_cost_config(config::Section(ctx.config.root["cost"], "cost"));
    if (!c) return c.error();
    costs = *c;
  }
  std::string db = dc->incidents_db.empty() ? default_incidents_db(ctx.config.db_path) : dc->incidents_db;
  auto svc = incidents::DetectionService::create(*dc, costs, db, &ctx.store);
  if (!svc) return svc.error();
  auto module = std::make_unique<DetectModule>(std::move(*svc), dc->queue, ctx.registry);
  DetectModule* m = module.get();
  ctx.observers.add_shared([m](const std::shared_ptr<const Batch>& b) { m->enqueue(b); });
  ctx.router.get("/api/v1/incidents", "/api/v1/incidents", [m](const http::Request& req, http::Response& res) {
    auto r = m->service().list(params_of(req), now_ms());
    res.status = r.status;
    res.set_content(r.body, "application/json");
  });
  ctx.router.get(R"(/api/v1/incidents/([A-Za-z0-9_.-]+))", "/api/v1/incidents/:id",
                 [m](const http::Request& req, http::Response& res) {
                   auto r = m->service().get(req.matches[1]);
                   res.status = r.status;
                   res.set_content(r.body, "application/json");
                 });
  ctx.router.get("/api/v1/detect/status", "/api/v1/detect/status", [m](const http::Request&, http::Response& res) {
    reply_json(res, 200, m->status());
  });
  ui::add_routes(ctx.router, ctx.store, m->service());
  log::info("detect: incidents in {}{}", db,
            dc->alerts.urls.empty() ? "" : fmt::format(", alerts to {} Alertmanager(s)", dc->alerts.urls.size()));
  return std::unique_ptr<RunningModule>(std::move(module));
}

}  // namespace ss::collector
