#include "collector/detect/waittime_spike.h"

#include <fmt/format.h>

#include <algorithm>

namespace ss::collector::detect {

WaittimeSpike::WaittimeSpike(WaittimeSpikeParams params, int64_t interval_ms)
    : params_(params), interval_ms_(std::max<int64_t>(interval_ms, 1)) {
  window_buckets_ = std::max<int64_t>(params_.window_ms / interval_ms_, 3);
  min_history_ = std::clamp<int64_t>(params_.min_history_ms / interval_ms_, 1, window_buckets_);
}

void WaittimeSpike::observe(const Observation& o) {
  std::string target(o.label("target"));
  if (target.empty()) return;
  Acc& a = pending_[o.bucket][target];
  if (a.fs.empty()) a.fs = std::string(o.label("fs"));
  bool wait = o.name == "lustre_client_rpc_wait_seconds_total";
  (wait ? a.wait_s : a.rpcs) += o.value;
  auto& mine = a.by_node[std::string(o.node)];
  (wait ? mine.first : mine.second) += o.value;
}

void WaittimeSpike::evaluate(int64_t bucket, std::vector<Finding>& out) {
  std::map<std::string, Acc> targets;
  if (auto it = pending_.find(bucket); it != pending_.end()) targets = std::move(it->second);
  pending_.erase(pending_.begin(), pending_.upper_bound(bucket));

  for (auto& [target, a] : targets) {
    Finding f;
    f.kind = "waittime_spike";
    f.key = "waittime_spike/" + target;
    f.fs = a.fs;
    f.target = target;
    auto& hist = history_.try_emplace(target, History(window_buckets_)).first->second;
    auto spiking = spike_nodes_.find(target);
    if (a.rpcs < params_.min_rpcs) {
      // Too few RPCs to judge; a spike stays undecided rather than over.
      if (spiking != spike_nodes_.end()) {
        f.state = State::Unknown;
        out.push_back(std::move(f));
      }
      continue;
    }
    double mean_s = a.wait_s / a.rpcs;
    if (hist.size() < min_history_) {
      hist.add(mean_s);
      continue;
    }
    Baseline b = hist.baseline();
    double threshold_s =
        std::max({params_.floor_ms / 1000.0, b.median * params_.min_ratio, b.median + params_.k * b.sigma()});
    if (mean_s <= threshold_s) {
      hist.add(mean_s);
      bool missing = false;
      if (spiking != spike_nodes_.end())
        for (const auto& n : spiking->second) missing = missing || !a.by_node.count(n);
      f.state = missing ? State::Unknown : State::Quiet;
      if (!missing && spiking != spike_nodes_.end()) spike_nodes_.erase(spiking);
      out.push_back(std::move(f));
      continue;
    }
    f.state = State::Anomalous;
    f.score = mean_s;
    nlohmann::json per_node = nlohmann::json::object();
    std::set<std::string> nodes;
    for (const auto& [node, wr] : a.by_node) {
      if (wr.second <= 0) continue;
      double m = wr.first / wr.second;
      per_node[node] = {{"mean_wait_ms", 1000 * m}, {"rpcs", wr.second}};
      if (m * 1000 >= params_.floor_ms) nodes.insert(node);
    }
    spike_nodes_[target] = nodes;
    f.nodes.assign(nodes.begin(), nodes.end());
    f.severity = mean_s >= 5 * std::max(params_.floor_ms / 1000.0, b.median) ? "critical" : "warning";
    f.summary = fmt::format("req_waittime spike on {}: {:.0f} ms per RPC (baseline {:.1f} ms) over {:.0f} RPCs, {} node{}",
                            target, 1000 * mean_s, 1000 * b.median, a.rpcs, nodes.size(), nodes.size() == 1 ? "" : "s");
    f.evidence = {{"bucket", bucket},
                  {"series", "lustre_client_rpc_wait_seconds_total / lustre_client_rpcs_total"},
                  {"target", target},
                  {"mean_wait_ms", 1000 * mean_s},
                  {"rpcs", a.rpcs},
                  {"baseline_ms", 1000 * b.median},
                  {"mad_ms", 1000 * b.mad},
                  {"threshold_ms", 1000 * threshold_s},
                  {"nodes", per_node}};
    out.push_back(std::move(f));
  }
  // Targets whose spike nodes all went silent: undecided.
  for (const auto& [target, nodes] : spike_nodes_) {
    if (targets.count(target)) continue;
    Finding f;
    f.kind = "waittime_spike";
    f.key = "waittime_spike/" + target;
    f.target = target;
    f.state = State::Unknown;
    out.push_back(std::move(f));
  }
}

}  // namespace ss::collector::detect
