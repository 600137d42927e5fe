// stormscope incidents: lists a collector's incidents (GET /api/v1/incidents) or shows one in full.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/client.h"
#include "cli/command.h"
#include "common/time.h"

namespace ss::cli {
namespace {

struct IncidentsArgs {
  std::string id, from = "now-24h", to = "now", kind, fs;
  int limit = 1000;
  bool json = false;
};

std::string culprit_text(const nlohmann::json& c) {
  std::string s;
  auto add = [&](const char* key, const char* prefix) {
    if (c.contains(key) && c[key].is_string() && !c[key].get<std::string>().empty())
      s += (s.empty() ? "" : " ") + std::string(prefix) + c[key].get<std::string>();
  };
  add("job", "job ");
  add("node", "on ");
  add("comm", "");
  add("path", "");
  add("user", "user ");
  return fmt::format("{} ({:.0f}%)", s, 100 * c.value("share", 0.0));
}

int run(const IncidentsArgs& a, const Globals& g) {
  auto client = collector_client(g.collector, g.token);
  if (!client) {
    std::cerr << "stormscope incidents: " << client.error().message << "\n";
    return 2;
  }
  if (!a.id.empty()) {
    auto r = (*client)->Get("/api/v1/incidents/" + a.id);
    if (!r || r->status != 200) {
      std::cerr << "stormscope incidents: " << describe_failure(r, g.collector, "/api/v1/incidents/" + a.id) << "\n";
      return r && r->status == 404 ? 1 : 2;
    }
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (a.json || !j.is_object()) {
      std::cout << (j.is_discarded() ? r->body : j.dump(2)) << "\n";
      return 0;
    }
    std::cout << fmt::format("{}  {}  {}\n{}\n", j.value("id", ""), j.value("kind", ""), j.value("severity", ""),
                             j.value("summary", ""));
    std::cout << fmt::format("file system {}  target {}\n", j.value("fs", ""), j.value("target", ""));
    std::cout << fmt::format("start {}  end {}\n", format_rfc3339(j.value("start", int64_t{0})),
                             j["end"].is_null() ? "(open)" : format_rfc3339(j["end"].get<int64_t>()));
    std::cout << fmt::format("GPU idle {:.0f} s, ${:.2f}\n", j.value("gpu_idle_seconds", 0.0), j.value("cost_usd", 0.0));
    std::string nodes;
    for (const auto& n : j.value("nodes", nlohmann::json::array())) nodes += (nodes.empty() ? "" : ", ") + n.get<std::string>();
    std::cout << "nodes: " << (nodes.empty() ? "-" : nodes) << "\nculprits:\n";
    for (const auto& c : j.value("culprits", nlohmann::json::array()))
      std::cout << "  " << culprit_text(c) << fmt::format("  ${:.2f}", c.value("cost_usd", 0.0)) << "\n";
    // Storms and spikes: the jobs whose GPUs it idled, whose cost is the incident's.
    const auto& victims = j.value("victims", nlohmann::json::array());
    if (!victims.empty()) {
      std::cout << "victims:\n";
      for (const auto& v : victims) {
        std::string on;
        for (const auto& n : v.value("nodes", nlohmann::json::array())) on += (on.empty() ? "" : ", ") + n.get<std::string>();
        std::cout << fmt::format("  job {} on {}: {:.0f} GPU-s idle, ${:.2f}\n", v.value("job", ""), on,
                                 v.value("gpu_idle_seconds", 0.0), v.value("cost_usd", 0.0));
      }
    }
    std::cout << "evidence:\n" << j.value("evidence", nlohmann::json::object()).dump(2) << "\n";
    return 0;
  }
  httplib::Params params{{"from", a.from}, {"to", a.to}, {"limit", std::to_string(a.limit)}};
  if (!a.kind.empty()) params.emplace("kind", a.kind);
  if (!a.fs.empty()) params.emplace("fs", a.fs);
  auto r = (*client)->Get("/api/v1/incidents", params, httplib::Headers{});
  if (!r || r->status != 200) {
    std::cerr << "stormscope incidents: " << describe_failure(r, g.collector, "/api/v1/incidents") << "\n";
    return 2;
  }
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("incidents")) {
    std::cerr << "stormscope incidents: unexpected answer: " << r->body.substr(0, 200) << "\n";
    return 2;
  }
  if (a.json) {
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << fmt::format("{:<20} {:<17} {:<14} {:>8} {:<8} {:>9}  {}\n", "start", "kind", "fs/target", "duration",
                           "severity", "cost", "top culprit / summary");
  for (const auto& i : j["incidents"]) {
    int64_t start = i.value("start", int64_t{0});
    std::string dur = i["end"].is_null() ? "open" : format_duration(std::max<int64_t>(0, i["end"].get<int64_t>() - start));
    std::string where = i.value("target", "").empty() ? i.value("fs", "") : i.value("target", "");
    const auto& culprits = i.value("culprits", nlohmann::json::array());
    std::cout << fmt::format("{:<20} {:<17} {:<14} {:>8} {:<8} {:>9}  {}\n", format_rfc3339(start).substr(0, 19),
                             i.value("kind", ""), where, dur, i.value("severity", ""),
                             fmt::format("${:.2f}", i.value("cost_usd", 0.0)),
                             culprits.empty() ? i.value("summary", "") : culprit_text(culprits[0]));
    std::cout << fmt::format("{:<20} {}\n", "", i.value("id", ""));
  }
  std::cout << j["incidents"].size() << " incident(s)\n";
  return 0;
}

}  // namespace

Command incidents_command() {
  return {"incidents", "List a collector's incidents, or show one (culprits, cost, evidence)",
          [](CLI::App& sub) -> CommandRun {
            auto a = std::make_shared<IncidentsArgs>();
            sub.add_option("id", a->id, "an incident id: show it in full");
            sub.add_option("--from", a->from, "start of the range (RFC 3339, ms, now-1h; default now-24h)");
            sub.add_option("--to", a->to, "end of the range (default now)");
            sub.add_option("--kind", a->kind, "metadata_storm, waittime_spike, ost_imbalance or checkpoint_stall");
            sub.add_option("--fs", a->fs, "file system name");
            sub.add_option("--limit", a->limit, "at most this many (default 1000)");
            sub.add_flag("--json", a->json, "print the collector's JSON");
            return [a](const Globals& g) { return run(*a, g); };
          }};
}

}  // namespace ss::cli
