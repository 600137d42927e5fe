#include "collector/cost/incident_cost.h"

#include <algorithm>
#include <map>
#include <set>

#include "collector/cost/cost_report.h"

namespace ss::collector::cost {

Result<IncidentCost> job_idle_cost(Store& store, const std::string& job, int64_t from_ms, int64_t to_ms,
                                   const CostConfig& config) {
  IncidentCost out;
  if (to_ms <= from_ms) return out;
  auto report = compute_cost_report(store, {from_ms, to_ms, job, ""}, config);
  if (!report) return report.error();
  out.gpu_idle_seconds = report->total.idle_gpu_hours * 3600;
  out.cost_usd = report->total.cost_usd;
  return out;
}

namespace {

// Nodes with Lustre client RPCs to the file system (or the target) in the window; else the nodes whose
// system calls reached the file system (the eBPF vfs_ops_total{fs}: BeeGFS, Weka, Lustre without
// client statistics); empty when neither is known: every node may then be a victim.
Result<std::set<std::string>> waiting_nodes(Store& store, const std::string& fs, const std::string& target,
                                            int64_t from_ms, int64_t to_ms) {
  std::set<std::string> nodes;
  auto add_nodes = [&](const std::string& name, const std::vector<Matcher>& m) -> Result<void> {
    auto series = store.select(name, m);
    if (!series) return series.error();
    for (const auto& s : *series) {
      std::string node(label_value(s.labels, "node"));
      if (nodes.count(node)) continue;
      auto points = store.read(s.id, from_ms, to_ms);
      if (!points) return points.error();
      if (!points->empty()) nodes.insert(node);
    }
    return ok();
  };
  std::vector<Matcher> m = {{"fs", Matcher::Op::Eq, fs}};
  if (!target.empty()) m.push_back({"target", Matcher::Op::Eq, target});
  if (auto r = add_nodes("lustre_client_rpcs_total", m); !r) return r.error();
  if (nodes.empty())
    if (auto r = add_nodes("vfs_ops_total", {{"fs", Matcher::Op::Eq, fs}}); !r) return r.error();
  return nodes;
}

}  // namespace

Result<IncidentCost> victims_idle_cost(Store& store, const std::string& fs, const std::string& target, int64_t from_ms,
                                       int64_t to_ms, const CostConfig& config, double min_idle_fraction) {
  IncidentCost out;
  if (to_ms <= from_ms) return out;
  auto nodes = waiting_nodes(store, fs, target, from_ms, to_ms);
  if (!nodes) return nodes.error();
  auto report = compute_cost_report(store, {from_ms, to_ms, "", ""}, config);
  if (!report) return report.error();
  struct Job {
    double gpu_hours = 0, idle_gpu_hours = 0, cost_usd = 0;
    std::set<std::string> nodes;
  };
  std::map<std::string, Job> jobs;
  for (const auto& r : report->rows) {
    if (r.job.empty() || (!nodes->empty() && !nodes->count(r.node))) continue;
    Job& j = jobs[r.job];
    j.gpu_hours += r.gpu_hours;
    j.idle_gpu_hours += r.idle_gpu_hours;
    j.cost_usd += r.cost_usd;
    j.nodes.insert(r.node);
  }
  for (auto& [id, j] : jobs) {
    if (j.gpu_hours <= 0 || j.idle_gpu_hours < min_idle_fraction * j.gpu_hours) continue;
    VictimCost v{id, {j.nodes.begin(), j.nodes.end()}, j.idle_gpu_hours * 3600, j.cost_usd};
    out.gpu_idle_seconds += v.gpu_idle_seconds;
    out.cost_usd += v.cost_usd;
    out.victims.push_back(std::move(v));
  }
  std::stable_sort(out.victims.begin(), out.victims.end(),
                   [](const VictimCost& a, const VictimCost& b) { return a.cost_usd > b.cost_usd; });
  return out;
}

}  // namespace ss::collector::cost
