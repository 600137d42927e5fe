// Pushes incidents to Alertmanager (POST <url>/api/v2/alerts): an alert per open incident, re-sent every
// `resend` so Alertmanager keeps it firing, and sent once more with endsAt when the incident closes, which
// resolves it. Incidents whose data time is older than `max_age` (a replay of last week) are not pushed.
// A background thread does the network I/O: detection never waits for Alertmanager.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collector/detect/config.h"
#include "collector/incidents/incident.h"
#include "collector/incidents/manager.h"

namespace ss::collector::incidents {

// The Alertmanager v2 alert for an incident (pure; `now_ms` is the wall clock, for endsAt).
nlohmann::json alert_for(const Incident& inc, bool resolved, int64_t now_ms, const std::string& external_url);

class AlertPusher {
 public:
  explicit AlertPusher(detect::AlertParams params);
  ~AlertPusher();
  AlertPusher(const AlertPusher&) = delete;
  AlertPusher& operator=(const AlertPusher&) = delete;

  // An IncidentManager listener.
  void on_change(const Incident& inc, Change change);
  uint64_t sent() const { return sent_; }
  uint64_t failures() const { return failures_; }

 private:
  void loop();
  void post(const nlohmann::json& alerts);

  detect::AlertParams params_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, nlohmann::json> firing_;  // id → alert
  std::deque<nlohmann::json> resolved_;
  bool dirty_ = false, stop_ = false;
  std::atomic<uint64_t> sent_{0}, failures_{0};
  std::thread thread_;
};

}  // namespace ss::collector::incidents
