#include "collector/incidents/alerts.h"

#include <httplib.h>

#include "common/log.h"
#include "common/time.h"

namespace ss::collector::incidents {

nlohmann::json alert_for(const Incident& inc, bool resolved, int64_t now_ms, const std::string& external_url) {
  std::string culprits;
  for (size_t i = 0; i < inc.culprits.size() && i < 3; ++i) {
    const auto& c = inc.culprits[i];
    culprits += fmt::format("{}{}{}{}{} {:.0f}%", i ? "; " : "", c.job.empty() ? "" : "job " + c.job,
                            c.node.empty() ? "" : " on " + c.node, c.comm.empty() ? "" : " (" + c.comm + ")",
                            c.path.empty() ? "" : " in " + c.path, 100 * c.share);
  }
  nlohmann::json labels = {{"alertname", "StormscopeIncident"},
                           {"kind", inc.kind},
                           {"severity", inc.severity},
                           {"incident_id", inc.id}};
  if (!inc.fs.empty()) labels["fs"] = inc.fs;
  if (!inc.target.empty()) labels["target"] = inc.target;
  std::string description = inc.summary;
  if (!culprits.empty()) description += ". Culprits: " + culprits;
  if (inc.cost_usd > 0) description += fmt::format(". GPU idle {:.0f} s, ${:.2f}", inc.gpu_idle_seconds, inc.cost_usd);
  for (size_t i = 0; i < inc.victims.size() && i < 3; ++i)
    description += fmt::format("{}job {} ${:.2f}", i ? ", " : " (victims: ", inc.victims[i].job, inc.victims[i].cost_usd);
  if (!inc.victims.empty()) description += inc.victims.size() > 3 ? ", …)" : ")";
  nlohmann::json a = {{"labels", labels},
                      {"annotations", {{"summary", inc.summary}, {"description", description}}},
                      {"startsAt", format_rfc3339(inc.start_ms)}};
  if (!external_url.empty()) a["generatorURL"] = external_url + "/api/v1/incidents/" + inc.id;
  if (resolved) a["endsAt"] = format_rfc3339(std::max(now_ms, inc.start_ms + 1));
  return a;
}

AlertPusher::AlertPusher(detect::AlertParams params) : params_(std::move(params)) {
  if (!params_.urls.empty()) thread_ = std::thread([this] { loop(); });
}

AlertPusher::~AlertPusher() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertPusher::on_change(const Incident& inc, Change change) {
  if (params_.urls.empty()) return;
  int64_t now = now_ms();
  std::lock_guard lock(mu_);
  if (change == Change::Closed) {
    auto it = firing_.find(inc.id);
    // Resolve what was pushed; an old incident that was never pushed stays silent.
    if (it != firing_.end() || now - inc.last_seen_ms <= params_.max_age_ms) {
      resolved_.push_back(alert_for(inc, true, now, params_.external_url));
      if (it != firing_.end()) firing_.erase(it);
      dirty_ = true;
    }
  } else if (now - inc.last_seen_ms <= params_.max_age_ms) {
    firing_[inc.id] = alert_for(inc, false, now, params_.external_url);
    dirty_ = dirty_ || change == Change::Opened;
  }
  if (dirty_) cv_.notify_all();
}

void AlertPusher::post(const nlohmann::json& alerts) {
  std::string body = alerts.dump();
  for (const auto& url : params_.urls) {
    httplib::Client cli(url);
    auto t = std::chrono::milliseconds(params_.timeout_ms);
    cli.set_connection_timeout(t);
    cli.set_read_timeout(t);
    cli.set_write_timeout(t);
    auto res = cli.Post("/api/v2/alerts", body, "application/json");
    if (res && res->status == 200) {
      ++sent_;
    } else {
      ++failures_;
      log::warn("alerts: POST {}/api/v2/alerts failed: {}", url,
                res ? fmt::format("HTTP {}: {}", res->status, res->body.substr(0, 200)) : httplib::to_string(res.error()));
    }
  }
}

void AlertPusher::loop() {
  std::unique_lock lock(mu_);
  int64_t last_send = 0;
  while (!stop_) {
    int64_t wait = std::max<int64_t>(1, last_send + params_.resend_ms - monotonic_ms());
    cv_.wait_for(lock, std::chrono::milliseconds(wait), [&] { return stop_ || dirty_; });
    bool due = monotonic_ms() - last_send >= params_.resend_ms;
    if (!dirty_ && !due) continue;
    nlohmann::json batch = nlohmann::json::array();
    for (auto& a : resolved_) batch.push_back(std::move(a));
    resolved_.clear();
    for (const auto& [id, a] : firing_) batch.push_back(a);
    dirty_ = false;
    last_send = monotonic_ms();
    if (batch.empty()) continue;
    lock.unlock();
    post(batch);
    lock.lock();
  }
  // Send what is left (a final resolve) before stopping.
  if (!resolved_.empty()) {
    nlohmann::json batch = nlohmann::json::array();
    for (auto& a : resolved_) batch.push_back(std::move(a));
    resolved_.clear();
    lock.unlock();
    post(batch);
  }
}

}  // namespace ss::collector::incidents
