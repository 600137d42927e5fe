// stormscope query: series and ranges from a collector, as a table or JSON.
#include <unistd.h>

#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/command.h"
#include "common/time.h"

namespace ss::cli {
namespace {

using json = nlohmann::json;

struct QueryArgs {
  std::vector<std::string> selectors;
  std::string from = "now-1h", to = "now", step;
  bool rate = false, series_only = false, as_json = false;
};

std::string labels_text(const json& labels) {
  std::string out;
  for (const auto& [k, v] : labels.items()) {
    if (!out.empty()) out += ",";
    out += k + "=\"" + (v.is_string() ? v.get<std::string>() : v.dump()) + "\"";
  }
  return "{" + out + "}";
}

// Counters reach millions: whole numbers print in full (4448213, not 4.4482e+06), others with up to six decimals;
// only the very large and the very small fall back to exponents.
std::string value_text(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  double d = v.get<double>();
  if (!std::isfinite(d) || std::abs(d) >= 1e15) return fmt::format("{:.6g}", d);
  if (d == std::floor(d)) return fmt::format("{:.0f}", d);
  std::string s = fmt::format("{:.6f}", d);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "0" || s == "-0") return fmt::format("{:.6g}", d);
  return s;
}

int run(const QueryArgs& a, const Globals& g) {
  auto client = collector_client(g.collector, g.token);
  if (!client) {
    std::cerr << "stormscope query: " << client.error().message << "\n";
    return 2;
  }
  httplib::Params params;
  for (const auto& s : a.selectors) params.emplace("match", s);
  std::string path;
  if (a.series_only) {
    path = "/api/v1/series";
  } else {
    path = "/api/v1/query_range";
    // Times are resolved here so "now-1h" means the same on both sides of the wire.
    int64_t now = now_ms();
    for (auto [name, text] : {std::pair{"from", a.from}, std::pair{"to", a.to}}) {
      auto t = parse_time_ms(text, now);
      if (!t) {
        std::cerr << "stormscope query: --" << name << ": " << t.error().message << "\n";
        return 2;
      }
      params.emplace(name, std::to_string(*t));
    }
    if (!a.step.empty()) params.emplace("step", a.step);
    if (a.rate) params.emplace("rate", "true");
  }
  auto r = (*client)->Get(path, params, httplib::Headers{});
  if (!r || r->status != 200) {
    std::cerr << "stormscope query: " << describe_failure(r, g.collector, path) << "\n";
    return 1;
  }
  if (a.as_json) {
    std::cout << r->body << "\n";
    return 0;
  }
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("series")) {
    std::cerr << "stormscope query: the collector's answer is not the expected JSON\n";
    return 1;
  }
  if (a.series_only) {
    std::cout << fmt::format("{:>8}  {:<8}  {}\n", "ID", "TYPE", "SERIES");
    for (const auto& s : j["series"])
      std::cout << fmt::format("{:>8}  {:<8}  {}{}\n", s["id"].get<int64_t>(), s["type"].get<std::string>(),
                               s["name"].get<std::string>(), labels_text(s["labels"]));
    std::cout << j["series"].size() << " series\n";
    return 0;
  }
  size_t points = 0;
  for (const auto& s : j["series"]) {
    std::cout << s["name"].get<std::string>() << labels_text(s["labels"]) << (a.rate ? "  (per second)" : "")
              << "\n";
    for (const auto& p : s["points"]) {
      std::cout << fmt::format("  {:<24}  {:>14}\n", format_rfc3339(p[0].get<int64_t>()), value_text(p[1]));
      ++points;
    }
  }
  std::cout << fmt::format("{} series, {} points\n", j["series"].size(), points);
  return 0;
}

}  // namespace

Command query_command() {
  return {"query", "Series and ranges from a collector (table, or --json)", [](CLI::App& sub) -> CommandRun {
            auto a = std::make_shared<QueryArgs>();
            sub.add_option("selector", a->selectors,
                           "series selector, e.g. 'lustre_client_rpcs_total{fs=\"ai0\",target=~\"ai0-OST.*\"}'")
                ->required();
            sub.add_option("--from", a->from, "start: ms since the epoch, RFC 3339, or now-1h (default now-1h)");
            sub.add_option("--to", a->to, "end (default now)");
            sub.add_option("--step", a->step, "grid step (\"30s\"); default: every stored point");
            sub.add_flag("--rate", a->rate, "per-second rate of counters, across resets");
            sub.add_flag("--series", a->series_only, "list the matching series only");
            sub.add_flag("--json", a->as_json, "print the collector's JSON answer");
            return [a](const Globals& g) { return run(*a, g); };
          }};
}

}  // namespace ss::cli
