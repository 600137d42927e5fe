#include "collector/incidents/incident.h"

#include <cmath>

namespace ss::collector::incidents {

bool valid_kind(std::string_view kind) {
  for (const char* k : kKinds)
    if (kind == k) return true;
  return false;
}

nlohmann::json to_json(const Incident& i) {
  nlohmann::json culprits = nlohmann::json::array();
  for (const auto& c : i.culprits) {
    // The culprit's part of the incident's cost: what its share of the excess idled elsewhere. Weights are sums
    // of rate x time: whole operations (or bytes) are what a reader wants, not 377753.5000000001.
    nlohmann::json o = {{"share", c.share}, {"ops", std::llround(c.weight)}, {"cost_usd", c.share * i.cost_usd}};
    if (!c.job.empty()) o["job"] = c.job;
    if (!c.node.empty()) o["node"] = c.node;
    if (!c.comm.empty()) o["comm"] = c.comm;
    if (!c.path.empty()) o["path"] = c.path;
    if (!c.user.empty()) o["user"] = c.user;
    culprits.push_back(std::move(o));
  }
  nlohmann::json victims = nlohmann::json::array();
  for (const auto& v : i.victims)
    victims.push_back({{"job", v.job}, {"nodes", v.nodes}, {"gpu_idle_seconds", v.gpu_idle_seconds}, {"cost_usd", v.cost_usd}});
  return {{"id", i.id},
          {"kind", i.kind},
          {"fs", i.fs},
          {"target", i.target},
          {"key", i.key},
          {"start", i.start_ms},
          {"end", i.end_ms ? nlohmann::json(*i.end_ms) : nlohmann::json(nullptr)},
          {"detected", i.detected_ms},
          {"last_seen", i.last_seen_ms},
          {"severity", i.severity},
          {"summary", i.summary},
          {"culprits", culprits},
          {"nodes", i.nodes},
          {"gpu_idle_seconds", i.gpu_idle_seconds},
          {"cost_usd", i.cost_usd},
          {"victims", victims},
          {"peak", i.peak},
          {"close_reason", i.close_reason},
          {"evidence", i.evidence}};
}

Result<Incident> incident_from_json(const nlohmann::json& j) {
  try {
    Incident i;
    i.id = j.at("id").get<std::string>();
    i.kind = j.at("kind").get<std::string>();
    i.fs = j.value("fs", "");
    i.target = j.value("target", "");
    i.key = j.at("key").get<std::string>();
    i.start_ms = j.at("start").get<int64_t>();
    if (j.contains("end") && !j["end"].is_null()) i.end_ms = j["end"].get<int64_t>();
    i.detected_ms = j.value("detected", i.start_ms);
    i.last_seen_ms = j.value("last_seen", i.start_ms);
    i.severity = j.value("severity", "warning");
    i.summary = j.value("summary", "");
    for (const auto& c : j.value("culprits", nlohmann::json::array())) {
      detect::Culprit k;
      k.job = c.value("job", "");
      k.node = c.value("node", "");
      k.comm = c.value("comm", "");
      k.path = c.value("path", "");
      k.user = c.value("user", "");
      k.share = c.value("share", 0.0);
      k.weight = c.value("ops", 0.0);
      i.culprits.push_back(std::move(k));
    }
    i.nodes = j.value("nodes", std::vector<std::string>{});
    i.gpu_idle_seconds = j.value("gpu_idle_seconds", 0.0);
    i.cost_usd = j.value("cost_usd", 0.0);
    for (const auto& v : j.value("victims", nlohmann::json::array()))
      i.victims.push_back({v.at("job").get<std::string>(), v.value("nodes", std::vector<std::string>{}),
                           v.value("gpu_idle_seconds", 0.0), v.value("cost_usd", 0.0)});
    i.peak = j.value("peak", 0.0);
    i.close_reason = j.value("close_reason", "");
    i.evidence = j.value("evidence", nlohmann::json::object());
    return i;
  } catch (const nlohmann::json::exception& e) {
    return errorf("incident: {}", e.what());
  }
}

}  // namespace ss::collector::incidents
