#include "agent/sources/weka/status.h"

#include "agent/sources/weka/json_util.h"

namespace ss::agent::weka {

namespace {

constexpr std::string_view kCmd = "weka status";

std::optional<double> at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* p = &j;
  for (const char* k : path) {
    if (!p->is_object() || !p->contains(k)) return std::nullopt;
    p = &(*p)[k];
  }
  return number(*p);
}

std::string str(const nlohmann::json& j, const char* key) {
  if (j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  return "";
}

}  // namespace

Result<ClusterStatus> parse_status(std::string_view text) {
  auto parsed = parse_json(text, kCmd);
  if (!parsed) return parsed.error();
  const auto& j = unwrap_data(*parsed);
  if (!j.is_object()) return errorf("{}: expected an object (run it with -J)", kCmd);
  if (!j.contains("status") || !j["status"].is_string())
    return errorf("{}: no \"status\" string: not the output of weka status -J", kCmd);
  ClusterStatus s;
  s.name = str(j, "name");
  s.release = str(j, "release");
  s.status = str(j, "status");
  s.io_status = str(j, "io_status");
  s.active_alerts = at(j, {"active_alerts_count"});
  s.drives_active = at(j, {"drives", "active"});
  s.drives_total = at(j, {"drives", "total"});
  s.io_nodes_active = at(j, {"io_nodes", "active"});
  s.io_nodes_total = at(j, {"io_nodes", "total"});
  s.rebuild_progress_percent = at(j, {"rebuild", "progressPercent"});
  s.unavailable_percent = at(j, {"rebuild", "unavailablePercent"});
  s.capacity_total_bytes = at(j, {"capacity", "total_bytes"});
  if (j.contains("rebuild") && j["rebuild"].is_object() && j["rebuild"].contains("protectionState")) {
    const auto& ps = j["rebuild"]["protectionState"];
    if (!ps.is_array()) return errorf("{}: rebuild.protectionState is not a list", kCmd);
    for (size_t i = 0; i < ps.size(); ++i) {
      auto f = at(ps[i], {"numFailures"});
      auto p = at(ps[i], {"percent"});
      if (!f || !p) return errorf("{}: rebuild.protectionState[{}] needs numFailures and percent", kCmd, i);
      s.protection.push_back({static_cast<int>(*f), *p});
    }
  }
  if (j.contains("hanging_ios") && j["hanging_ios"].is_object()) {
    const auto& h = j["hanging_ios"];
    for (const char* kind : {"backend", "driver_frontend", "nfs_frontend"}) {
      std::string ev = str(h, fmt::format("last_emitted_{}_event", kind).c_str());
      std::string gone = str(h, fmt::format("last_emitted_{}_no_longer_detected_event", kind).c_str());
      auto t_ev = ev.empty() ? std::nullopt : timestamp_ms(nlohmann::json(ev));
      auto t_gone = gone.empty() ? std::nullopt : timestamp_ms(nlohmann::json(gone));
      s.hanging_ios.push_back({kind, t_ev && (!t_gone || *t_ev > *t_gone)});
    }
  }
  return s;
}

}  // namespace ss::agent::weka
