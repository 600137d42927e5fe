#include "collector/cost/cost_report.h"

#include <algorithm>
#include <cmath>

#include "common/time.h"

namespace ss::collector::cost {

namespace {

struct TaggedPoint {
  Point p;
  size_t job = 0;  // index into the GPU's job list
};

struct Gpu {
  std::string node, model;
  std::vector<std::string> jobs;
  std::vector<TaggedPoint> points;
};

nlohmann::json row_json(const CostRow& r, bool with_keys) {
  nlohmann::json j;
  if (with_keys) {
    j["job"] = r.job.empty() ? nlohmann::json(nullptr) : nlohmann::json(r.job);
    j["node"] = r.node;
  }
  j["gpus"] = r.gpus;
  j["gpu_hours"] = r.gpu_hours;
  j["idle_gpu_hours"] = r.idle_gpu_hours;
  j["cost_usd"] = r.cost_usd;
  return j;
}

}  // namespace

Result<CostReport> compute_cost_report(Store& store, const CostQuery& q, const CostConfig& config) {
  if (q.to_ms <= q.from_ms) return Error{"`to` must be after `from`"};
  std::vector<Matcher> matchers;
  // Not filtered by job here: the GPU's earlier jobs give its baseline.
  if (!q.node.empty()) matchers.push_back({"node", Matcher::Op::Eq, q.node});
  auto series = store.select("gpu_utilization_ratio", matchers);
  if (!series) return series.error();

  const int64_t read_from = q.from_ms - config.baseline_window_ms - config.max_gap_ms;
  std::map<std::pair<std::string, std::string>, Gpu> gpus;
  for (const auto& s : *series) {
    std::string node(label_value(s.labels, "node"));
    std::string uuid(label_value(s.labels, "uuid"));
    std::string id = uuid.empty() ? "#" + std::string(label_value(s.labels, "gpu")) : uuid;
    Gpu& g = gpus[{node, id}];
    g.node = node;
    if (g.model.empty()) g.model = std::string(label_value(s.labels, "model"));
    std::string job(label_value(s.labels, "job"));
    auto it = std::find(g.jobs.begin(), g.jobs.end(), job);
    size_t job_index = static_cast<size_t>(it - g.jobs.begin());
    if (it == g.jobs.end()) g.jobs.push_back(job);
    auto points = store.read(s.id, read_from, q.to_ms);
    if (!points) return points.error();
    for (const auto& p : *points) g.points.push_back({p, job_index});
  }

  CostReport report;
  report.query = q;
  report.pricing = config.pricing;
  std::map<std::pair<std::string, std::string>, CostRow> rows;  // (job, node)
  for (auto& [key, g] : gpus) {
    std::stable_sort(g.points.begin(), g.points.end(),
                     [](const TaggedPoint& a, const TaggedPoint& b) { return a.p.t_ms < b.p.t_ms; });
    std::vector<Point> all;
    for (const auto& tp : g.points) all.push_back(tp.p);
    auto measured = baseline_before(all, q.from_ms, config.baseline_window_ms, config.max_gap_ms);
    if (!measured) ++report.gpus_without_baseline;
    double baseline = measured.value_or(config.default_baseline);
    double per_second = config.prices.per_gpu_second(g.model, config.pricing);
    bool contributed = false;
    for (size_t j = 0; j < g.jobs.size(); ++j) {
      if (!q.job.empty() && g.jobs[j] != q.job) continue;
      // Other jobs' points become unknown: their intervals are not this job's, the next point of this
      // job covers only the time since them.
      std::vector<Point> mine = all;
      for (size_t k = 0; k < mine.size(); ++k)
        if (g.points[k].job != j) mine[k].value = NAN;
      IdleCost c = idle_cost(mine, baseline, q.from_ms, q.to_ms, config.max_gap_ms, per_second);
      if (c.gpu_seconds <= 0) continue;
      contributed = true;
      CostRow& r = rows[{g.jobs[j], g.node}];
      r.job = g.jobs[j];
      r.node = g.node;
      ++r.gpus;
      r.gpu_hours += c.gpu_seconds / 3600;
      r.idle_gpu_hours += c.idle_gpu_seconds / 3600;
      r.cost_usd += c.cost_usd;
    }
    if (contributed) ++report.total.gpus;  // once, even when it served several jobs
  }
  for (auto& [key, r] : rows) {
    report.total.gpu_hours += r.gpu_hours;
    report.total.idle_gpu_hours += r.idle_gpu_hours;
    report.total.cost_usd += r.cost_usd;
    report.rows.push_back(std::move(r));
  }
  std::stable_sort(report.rows.begin(), report.rows.end(),
                   [](const CostRow& a, const CostRow& b) { return a.cost_usd > b.cost_usd; });
  return report;
}

nlohmann::json cost_report_json(const CostReport& r) {
  nlohmann::json j;
  j["from"] = r.query.from_ms;
  j["to"] = r.query.to_ms;
  if (!r.query.job.empty()) j["job"] = r.query.job;
  if (!r.query.node.empty()) j["node"] = r.query.node;
  j["pricing"] = std::string(pricing_name(r.pricing));
  j["total"] = row_json(r.total, false);
  j["gpus_without_baseline"] = r.gpus_without_baseline;
  j["rows"] = nlohmann::json::array();
  for (const auto& row : r.rows) j["rows"].push_back(row_json(row, true));
  return j;
}

CostAnswer handle_cost_request(Store& store, const CostConfig& config, const std::map<std::string, std::string>& params,
                               int64_t now_ms) {
  auto bad = [](std::string message) {
    return CostAnswer{400, nlohmann::json{{"error", std::move(message)}}.dump()};
  };
  for (const auto& [k, v] : params)
    if (k != "from" && k != "to" && k != "job" && k != "node")
      return bad("unknown parameter \"" + k + "\" (from, to, job, node)");
  CostQuery q;
  q.to_ms = now_ms;
  if (auto it = params.find("to"); it != params.end()) {
    auto t = parse_time_ms(it->second, now_ms);
    if (!t) return bad("to: " + t.error().message);
    q.to_ms = *t;
  }
  q.from_ms = q.to_ms - 3'600'000;
  if (auto it = params.find("from"); it != params.end()) {
    auto t = parse_time_ms(it->second, now_ms);
    if (!t) return bad("from: " + t.error().message);
    q.from_ms = *t;
  }
  if (q.to_ms <= q.from_ms) return bad("`to` must be after `from`");
  if (auto it = params.find("job"); it != params.end()) q.job = it->second;
  if (auto it = params.find("node"); it != params.end()) q.node = it->second;
  auto report = compute_cost_report(store, q, config);
  if (!report) return CostAnswer{500, nlohmann::json{{"error", report.error().message}}.dump()};
  return CostAnswer{200, cost_report_json(*report).dump()};
}

}  // namespace ss::collector::cost
