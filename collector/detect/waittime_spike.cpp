#include "collector/detect/waittime_spike.h"

#include <fmt/format.h>

#include <algorithm>

namespace ss::collector::detect {

WaittimeSpike::WaittimeSpike(WaittimeSpikeParams params, int64_t interval_ms)
    : params_(params), interval_ms_(std::max<int64_t>(interval_ms, 1)) {
  window_buckets_ = std::max<int64_t>(params_.window_ms / interval_ms_, 3);
  min_history_ = std::clamp<int64_t>(params_.min_history_ms / interval_ms_, 1, window_buckets_);
}

bool WaittimeSpike::wants(std::string_view n) const {
  return n == "lustre_client_rpc_wait_seconds_total" || n == "lustre_client_rpcs_total" ||
         n == "weka_op_latency_seconds" || n == "weka_op_rate" || n == "beegfs_server_queue_length" ||
         n == "beegfs_server_busy_workers" || n == "beegfs_server_requests_total";
}

bool WaittimeSpike::wants_series(std::string_view, const Labels& labels) const {
  return !label_value(labels, "target").empty() || !label_value(labels, "op").empty() ||
         !label_value(labels, "server").empty();
}

void WaittimeSpike::observe(const Observation& o) {
  std::string_view n = o.name;
  if (n.starts_with("lustre_")) {
    std::string target(o.label("target"));
    if (target.empty()) return;
    Acc& a = pending_[o.bucket]["lustre|" + target];
    if (a.target.empty()) a.fs = std::string(o.label("fs")), a.target = target;
    bool wait = n == "lustre_client_rpc_wait_seconds_total";
    (wait ? a.wait_s : a.rpcs) += o.value;
    auto& mine = a.by_node[std::string(o.node)];
    (wait ? mine.first : mine.second) += o.value;
  } else if (n.starts_with("weka_")) {
    // Cluster-wide statistics, once a minute; several agents reporting the cluster report the same values.
    std::string fs(o.label("fs")), op(o.label("op"));
    Acc& a = pending_[o.bucket]["weka|" + fs + "|" + op];
    a.family = Family::Weka;
    a.fs = fs;
    a.target = op;
    (n == "weka_op_rate" ? a.op_rate : a.latency_s) = o.value;
  } else {
    std::string fs(o.label("fs")), type(o.label("nodetype")), server(o.label("server"));
    if (server.empty()) return;
    Acc& a = pending_[o.bucket]["beegfs|" + fs + "|" + type + "|" + server];
    a.family = Family::Beegfs;
    a.fs = fs;
    a.target = server;
    a.nodetype = type;
    if (n == "beegfs_server_queue_length") a.queue = std::max(a.queue, o.value);
    else if (n == "beegfs_server_busy_workers") a.busy = std::max(a.busy, o.value);
    else a.requests = std::max(a.requests, o.value), a.requests_dt = std::max(a.requests_dt, o.dt_s);
  }
}

double WaittimeSpike::floor_s(Family f) const {
  switch (f) {
    case Family::Weka: return params_.weka_floor_ms / 1000;
    case Family::Beegfs: return params_.beegfs_floor_ms / 1000;
    default: return params_.floor_ms / 1000;
  }
}

bool WaittimeSpike::judged_value(const Acc& a, double& value_s, double& weight) const {
  switch (a.family) {
    case Family::Lustre:
      if (a.rpcs < params_.min_rpcs) return false;
      value_s = a.wait_s / a.rpcs;
      weight = a.rpcs;
      return true;
    case Family::Weka:
      weight = a.op_rate * 60;  // the op's count in Weka's minute
      if (a.latency_s < 0 || weight < params_.min_rpcs) return false;
      value_s = a.latency_s;
      return true;
    case Family::Beegfs: {
      if (a.queue < 0) return false;
      // A server that finishes nothing while requests wait: count the wait as at least a second per request.
      double rate = a.requests_dt > 0 ? a.requests / a.requests_dt : 0;
      value_s = a.queue > 0 ? a.queue / std::max(rate, 1.0) : 0;
      weight = a.queue;
      return true;
    }
  }
  return false;
}

void WaittimeSpike::evaluate(int64_t bucket, std::vector<Finding>& out) {
  std::map<std::string, Acc> targets;
  if (auto it = pending_.find(bucket); it != pending_.end()) targets = std::move(it->second);
  pending_.erase(pending_.begin(), pending_.upper_bound(bucket));

  auto finding_for = [](const std::string& key, const Acc& a) {
    Finding f;
    f.kind = "waittime_spike";
    f.key = a.family == Family::Lustre ? "waittime_spike/" + a.target : "waittime_spike/" + key;
    f.fs = a.fs;
    f.target = a.family == Family::Beegfs ? a.nodetype + ":" + a.target : a.target;
    return f;
  };
  for (auto& [key, a] : targets) {
    Finding f = finding_for(key, a);
    // Weka judges a value per minute: its history counts minutes, not buckets.
    size_t per_value = a.family == Family::Weka ? std::max<int64_t>(60'000 / interval_ms_, 1) : 1;
    auto& hist = history_.try_emplace(key, History(std::max<size_t>(window_buckets_ / per_value, 3))).first->second;
    size_t min_history = std::max<size_t>(min_history_ / per_value, 1);
    auto spiking = spiking_.find(key);
    double value_s = 0, weight = 0;
    if (!judged_value(a, value_s, weight)) {
      // Too little to judge; a spike stays undecided rather than over.
      if (spiking != spiking_.end()) {
        f.state = State::Unknown;
        out.push_back(std::move(f));
      }
      continue;
    }
    if (hist.size() < min_history) {
      hist.add(value_s);
      continue;
    }
    Baseline b = hist.baseline();
    double floor = floor_s(a.family);
    double threshold_s = std::max({floor, b.median * params_.min_ratio, b.median + params_.k * b.sigma()});
    bool queued = a.family != Family::Beegfs || a.queue >= params_.beegfs_min_queue;
    if (value_s <= threshold_s || !queued) {
      hist.add(value_s);
      bool missing = false;
      if (spiking != spiking_.end())
        for (const auto& n : spiking->second.second) missing = missing || !a.by_node.count(n);
      f.state = missing ? State::Unknown : State::Quiet;
      if (!missing && spiking != spiking_.end()) spiking_.erase(spiking);
      out.push_back(std::move(f));
      continue;
    }
    f.state = State::Anomalous;
    f.score = value_s;
    f.severity = value_s >= 5 * std::max(floor, b.median) ? "critical" : "warning";
    nlohmann::json per_node = nlohmann::json::object();
    std::set<std::string> nodes;
    for (const auto& [node, wr] : a.by_node) {
      if (wr.second <= 0) continue;
      double m = wr.first / wr.second;
      per_node[node] = {{"mean_wait_ms", 1000 * m}, {"rpcs", wr.second}};
      if (m >= floor) nodes.insert(node);
    }
    spiking_[key] = {a, nodes};
    f.nodes.assign(nodes.begin(), nodes.end());
    f.evidence = {{"bucket", bucket},
                  {"target", f.target},
                  {"mean_wait_ms", 1000 * value_s},
                  {"baseline_ms", 1000 * b.median},
                  {"mad_ms", 1000 * b.mad},
                  {"threshold_ms", 1000 * threshold_s}};
    switch (a.family) {
      case Family::Lustre:
        f.summary = fmt::format("req_waittime spike on {}: {:.0f} ms per RPC (baseline {:.1f} ms) over {:.0f} RPCs, {} node{}",
                                a.target, 1000 * value_s, 1000 * b.median, a.rpcs, nodes.size(), nodes.size() == 1 ? "" : "s");
        f.evidence["series"] = "lustre_client_rpc_wait_seconds_total / lustre_client_rpcs_total";
        f.evidence["file_system"] = "lustre";
        f.evidence["rpcs"] = a.rpcs;
        f.evidence["nodes"] = per_node;
        break;
      case Family::Weka:
        f.summary = fmt::format("Weka {} latency spike on {}: {:.1f} ms per op (baseline {:.2f} ms) at {} ops/s", a.target,
                                a.fs, 1000 * value_s, 1000 * b.median, format_rate(a.op_rate));
        f.evidence["series"] = "weka_op_latency_seconds";
        f.evidence["file_system"] = "weka";
        f.evidence["op"] = a.target;
        f.evidence["ops_per_second"] = a.op_rate;
        break;
      case Family::Beegfs: {
        double rate = a.requests_dt > 0 ? a.requests / a.requests_dt : 0;
        f.summary = fmt::format(
            "BeeGFS {} server {} on {}: {:.0f} requests queued{} at {} requests/s, ~{:.0f} ms wait per request "
            "(baseline {:.1f} ms)",
            a.nodetype, a.target, a.fs, a.queue, a.busy >= 0 ? fmt::format(", {:.0f} workers busy", a.busy) : "",
            format_rate(rate), 1000 * value_s, 1000 * b.median);
        f.evidence["series"] = "beegfs_server_queue_length / rate(beegfs_server_requests_total)";
        f.evidence["file_system"] = "beegfs";
        f.evidence["nodetype"] = a.nodetype;
        f.evidence["server"] = a.target;
        f.evidence["queue_length"] = a.queue;
        if (a.busy >= 0) f.evidence["busy_workers"] = a.busy;
        f.evidence["requests_per_second"] = rate;
        break;
      }
    }
    out.push_back(std::move(f));
  }
  // Targets whose spike went silent (nodes or the source stopped reporting): undecided. Weka reports once a
  // minute, so its buckets in between say nothing.
  for (const auto& [key, spike] : spiking_) {
    if (targets.count(key) || spike.first.family == Family::Weka) continue;
    Finding f = finding_for(key, spike.first);
    f.state = State::Unknown;
    out.push_back(std::move(f));
  }
}

}  // namespace ss::collector::detect
