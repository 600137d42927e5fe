#include "collector/detect/metadata_storm.h"
#include "collector/detect/finding_key.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace ss::collector::detect {

namespace {

const std::set<std::string, std::less<>> kLliteMetaOps = {
    "open",    "close",   "getattr", "setattr", "getxattr", "setxattr", "listxattr", "removexattr",
    "statfs",  "readdir", "create",  "unlink",  "mkdir",    "rmdir",    "rename",    "mknod",
    "link",    "symlink", "lookup",  "truncate"};

bool weka_metadata_op(std::string_view op) {
  for (std::string_view data : {"read", "write", "throughput", "bytes"})
    if (op.find(data) != std::string_view::npos) return false;
  return true;
}

std::string last_component(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return std::string(name.empty() ? path : name);  // "/" stays "/"
}

// Source order for culprits: the most specific first.
const char* const kPartySources[] = {"dirs", "jobs", "lustre_jobs", "beegfs_clients", "beegfs_users"};

}  // namespace

MetadataStorm::MetadataStorm(MetadataStormParams params, int64_t interval_ms)
    : params_(std::move(params)), interval_ms_(std::max<int64_t>(interval_ms, 1)) {
  window_buckets_ = std::max<int64_t>(params_.window_ms / interval_ms_, 3);
  min_history_ = std::clamp<int64_t>(params_.min_history_ms / interval_ms_, 1, window_buckets_);
}

bool MetadataStorm::wants(std::string_view n) const {
  return n == "vfs_ops_total" || n == "lustre_client_ops_total" || n == "lustre_client_llite_ops_total" ||
         n == "lustre_mdt_ops_total" || n == "lustre_job_ops_total" || n == "beegfs_server_requests_total" ||
         n == "beegfs_client_ops_total" || n == "beegfs_user_ops_total" || n == "beegfs_server_queue_length" ||
         n == "weka_op_rate" || n == "weka_fs_capacity_bytes" ||
         n == "lustre_client_rpc_wait_seconds_total" || n == "lustre_client_rpcs_total";
}

// The label-only filters of observe(), asked before the engine keeps state for a series.
bool MetadataStorm::wants_series(std::string_view n, const Labels& labels) const {
  auto label = [&](std::string_view k) { return label_value(labels, k); };
  if (n == "vfs_ops_total") return params_.vfs_ops.count(std::string(label("op"))) > 0;
  if (n == "lustre_client_ops_total" || n == "lustre_job_ops_total" || n == "lustre_client_rpc_wait_seconds_total" ||
      n == "lustre_client_rpcs_total")
    return is_mdt(label("target"));
  if (n == "lustre_client_llite_ops_total") return kLliteMetaOps.count(label("op")) > 0;
  if (n == "beegfs_server_requests_total" || n == "beegfs_client_ops_total" || n == "beegfs_user_ops_total" ||
      n == "beegfs_server_queue_length")
    return label("nodetype") == "meta";
  if (n == "weka_op_rate") return weka_metadata_op(label("op"));
  return true;
}

std::string MetadataStorm::fs_of_mount(std::string_view mount) const {
  auto it = params_.mounts.find(std::string(mount));
  if (it != params_.mounts.end()) return it->second;
  return last_component(mount);
}

std::string MetadataStorm::vfs_fs(std::string_view mount, std::string_view fs_label) const {
  if (fs_label.empty() || params_.mounts.count(std::string(mount))) return fs_of_mount(mount);
  return std::string(fs_label);
}

void MetadataStorm::add_vfs_party(Pending& p, std::string_view fstype, const std::string& fs,
                                  const std::string& source, const Culprit& who, double rate) {
  add_party(p, fs, source, who, rate);
  if (fstype != "wekafs") return;
  if (auto it = weka_cluster_.find(fs); it != weka_cluster_.end() && it->second != fs)
    add_party(p, it->second, source, who, rate);
}

History& MetadataStorm::history(const std::string& key, int64_t bucket) {
  auto [it, fresh] = tracked_.try_emplace(key, Tracked{History(window_buckets_), bucket});
  (void)fresh;
  it->second.last_bucket = bucket;
  return it->second.history;
}

void MetadataStorm::add_party(Pending& p, const std::string& fs, const std::string& source, Culprit who,
                              double rate) {
  std::string key = fmt::format("{}|{}|{}|{}|{}", who.node, who.job, who.comm, who.path, who.user);
  Party& party = p.parties[fs][source][key];
  if (party.rate == 0 && party.who.node.empty() && party.who.job.empty() && party.who.path.empty() &&
      party.who.user.empty())
    party.who = std::move(who);
  party.rate += rate;
}

void MetadataStorm::observe(const Observation& o) {
  const std::string node(o.node);
  auto add_signal = [&](const std::string& source, const std::string& fs, const std::string& target,
                        std::string_view op, double rate) {
    Pending& p = at(o.bucket);
    Signal& s = p.signals[source + "|" + fs + "|" + target];
    if (s.source.empty()) {
      s.source = source;
      s.fs = fs;
      s.target = target;
      s.series = std::string(o.name);
    }
    s.by_node[node] += rate;
    s.by_op[std::string(op)] += rate;
  };
  std::string_view n = o.name;
  if (n == "vfs_ops_total") {
    std::string op(o.label("op"));
    if (!params_.vfs_ops.count(op)) return;
    std::string mount(o.label("mount"));
    std::string fs = vfs_fs(mount, o.label("fs"));
    if (!mount.empty()) mount_fs_[mount] = fs;
    add_signal("vfs", fs, "", op, o.rate());
    Culprit who;
    who.node = node;
    who.job = std::string(o.label("job"));
    if (!who.job.empty()) at(o.bucket).jobs[node].insert(who.job);
    add_vfs_party(at(o.bucket), o.label("fstype"), fs, "jobs", who, o.rate());
  } else if (n == "lustre_client_ops_total") {
    std::string target(o.label("target"));
    if (!is_mdt(target)) return;
    add_signal("mdc", std::string(o.label("fs")), target, o.label("op"), o.rate());
  } else if (n == "lustre_client_llite_ops_total") {
    if (!kLliteMetaOps.count(o.label("op"))) return;
    add_signal("llite", std::string(o.label("fs")), "", o.label("op"), o.rate());
  } else if (n == "lustre_mdt_ops_total") {
    add_signal("mdt", std::string(o.label("fs")), std::string(o.label("target")), o.label("op"), o.rate());
  } else if (n == "lustre_job_ops_total") {
    if (!is_mdt(o.label("target"))) return;
    Culprit who;
    who.job = std::string(o.label("job"));
    add_party(at(o.bucket), std::string(o.label("fs")), "lustre_jobs", std::move(who), o.rate());
  } else if (n == "beegfs_server_requests_total" || n == "beegfs_server_queue_length") {
    // Per meta server of an instance ("beegfs" from agents that predate the fs label).
    if (o.label("nodetype") != "meta") return;
    std::string fs(o.label("fs"));
    if (fs.empty()) fs = "beegfs";
    std::string server(o.label("server"));
    if (n == "beegfs_server_queue_length") at(o.bucket).queues[fs][server] = o.value;
    else add_signal("beegfs", fs, server, "meta requests", o.rate());
  } else if (n == "beegfs_client_ops_total" || n == "beegfs_user_ops_total") {
    if (o.label("nodetype") != "meta") return;
    std::string fs(o.label("fs"));
    Culprit who;
    bool client = n == "beegfs_client_ops_total";
    (client ? who.node : who.user) = std::string(o.label(client ? "client" : "user"));
    add_party(at(o.bucket), fs.empty() ? "beegfs" : fs, client ? "beegfs_clients" : "beegfs_users", std::move(who),
              o.rate());
  } else if (n == "weka_fs_capacity_bytes") {
    std::string fs(o.label("fs")), cluster(o.label("cluster"));
    if (!fs.empty() && !cluster.empty()) weka_cluster_[fs] = cluster;
  } else if (n == "weka_op_rate") {
    // Cluster-wide: the cluster's fs ("weka" from agents that predate the fs label).
    if (!weka_metadata_op(o.label("op"))) return;
    std::string fs(o.label("fs"));
    add_signal("weka", fs.empty() ? "weka" : fs, "", o.label("op"), o.value);
  } else if (n == "lustre_client_rpc_wait_seconds_total" || n == "lustre_client_rpcs_total") {
    std::string target(o.label("target"));
    if (!is_mdt(target)) return;
    Wait& w = at(o.bucket).waits[std::string(o.label("fs")) + "|" + target];
    bool wait = n == "lustre_client_rpc_wait_seconds_total";
    (wait ? w.wait_s : w.rpcs) += o.value;
    auto& mine = w.by_node[node];
    (wait ? mine.first : mine.second) += o.value;
  }
}

// A job's probes series start with its first point: the job is on the node from that bucket on.
void MetadataStorm::observe_start(const Observation& o) {
  if (o.name != "vfs_ops_total") return;
  std::string job(o.label("job"));
  if (!job.empty()) at(o.bucket).jobs[std::string(o.node)].insert(std::move(job));
}

void MetadataStorm::observe_event(std::string_view node, const Event& e, int64_t bucket) {
  nlohmann::json fields = nlohmann::json::parse(e.fields_json, nullptr, false);
  if (!fields.is_object() || !fields.contains("dirs") || !fields["dirs"].is_array()) return;
  // Agents that label events with fs send one event per file system; older ones one per fstype.
  const std::string event_fs(label_value(e.labels, "fs"));
  const std::string_view fstype = label_value(e.labels, "fstype");
  double interval_s = interval_ms_ / 1000.0;
  for (const auto& d : fields["dirs"]) {
    if (!d.is_object() || !d.contains("path") || !d["path"].is_string()) continue;
    std::string path = d["path"].get<std::string>();
    double ops = d.contains("ops") && d["ops"].is_number() ? d["ops"].get<double>() : 0;
    if (!(ops > 0)) continue;
    // The file system is the longest known mount point holding the path.
    std::string fs, best;
    bool found = false;
    auto consider = [&](const std::string& mount, const std::string& name) {
      if (path.compare(0, mount.size(), mount) == 0 &&
          (path.size() == mount.size() || path[mount.size()] == '/' || mount == "/") &&
          (!found || mount.size() > best.size())) {
        found = true;
        best = mount;
        fs = name;
      }
    };
    for (const auto& [m, f] : params_.mounts) consider(m, f);
    if (!found && !event_fs.empty()) {
      fs = event_fs;
      found = true;
    } else {
      for (const auto& [m, f] : mount_fs_) consider(m, f);
    }
    if (!found) continue;
    Culprit who;
    who.node = std::string(node);
    who.path = path;
    if (d.contains("job") && d["job"].is_string()) who.job = d["job"].get<std::string>();
    if (d.contains("comm") && d["comm"].is_string()) who.comm = d["comm"].get<std::string>();
    add_vfs_party(at(bucket), fstype, fs, "dirs", who, ops / interval_s);
  }
}

void MetadataStorm::prune(int64_t bucket) {
  int64_t horizon = bucket - static_cast<int64_t>(window_buckets_) * interval_ms_;
  for (auto it = tracked_.begin(); it != tracked_.end();)
    it = it->second.last_bucket < horizon ? tracked_.erase(it) : std::next(it);
  for (auto node = node_jobs_.begin(); node != node_jobs_.end();) {
    std::erase_if(node->second, [&](const auto& job) { return job.second < horizon; });
    node = node->second.empty() ? node_jobs_.erase(node) : std::next(node);
  }
}

void MetadataStorm::restart_baselines_for_new_jobs(const Pending& p, int64_t bucket) {
  for (const auto& [node, jobs] : p.jobs) {
    auto& seen = node_jobs_[node];
    bool fresh = false;
    for (const auto& job : jobs) fresh = !seen.count(job) || fresh, seen[job] = bucket;
    if (!fresh) continue;
    const std::string suffix = "|" + node;
    for (auto it = tracked_.begin(); it != tracked_.end();) {
      const std::string& key = it->first;
      bool client_signal = key.starts_with("s|vfs|") || key.starts_with("s|mdc|") || key.starts_with("s|llite|");
      it = client_signal && key.ends_with(suffix) ? tracked_.erase(it) : std::next(it);
    }
  }
}

void MetadataStorm::evaluate(int64_t bucket, std::vector<Finding>& out) {
  Pending p;
  if (auto it = pending_.find(bucket); it != pending_.end()) p = std::move(it->second);
  pending_.erase(pending_.begin(), pending_.upper_bound(bucket));
  if (++buckets_seen_ % 60 == 0) prune(bucket);
  restart_baselines_for_new_jobs(p, bucket);
  const double interval_s = interval_ms_ / 1000.0;

  struct Judged {
    const Signal* signal = nullptr;
    double S = 0, B = 0, sigma = 0, threshold = 0, E = 0, E_wait = 0;
    size_t reporting = 0, warming = 0;
    bool anomalous = false;
    std::map<std::string, double> excess, wait_excess;  // per storming node
  };
  struct FsView {
    std::vector<Judged> judged;
    std::set<std::string> reporting;  // nodes with any metadata signal in this bucket
    bool anomalous = false;
  };
  std::map<std::string, FsView> view;

  // MDC waits per file system: the MDTs above the floor.
  struct WaitView {
    std::string target;
    double mean_ms = 0, rpcs = 0;
    std::vector<std::string> nodes;
  };
  std::map<std::string, std::vector<WaitView>> waits;
  for (const auto& [wkey, w] : p.waits) {
    std::string fs = wkey.substr(0, wkey.find('|'));
    if (w.rpcs < params_.min_wait_rpcs) continue;
    double mean_ms = 1000.0 * w.wait_s / w.rpcs;
    if (mean_ms < params_.mdc_wait_ms) continue;
    WaitView wv{wkey.substr(wkey.find('|') + 1), mean_ms, w.rpcs, {}};
    for (const auto& [node, wr] : w.by_node)
      if (wr.second > 0 && 1000.0 * wr.first / wr.second >= params_.mdc_wait_ms) wv.nodes.push_back(node);
    waits[fs].push_back(std::move(wv));
  }

  for (const auto& [skey, s] : p.signals) {
    Judged j;
    j.signal = &s;
    FsView& fv = view[s.fs];
    const bool active = storming_.count(s.fs) > 0;
    const bool slow_mds = waits.count(s.fs) > 0;
    // Hysteresis: a storm under way ends below half the thresholds that start one.
    const double ratio = active ? 1 + (params_.min_ratio - 1) / 2 : params_.min_ratio;
    const double node_floor = active ? params_.min_node_excess / 2 : params_.min_node_excess;
    const bool client = s.source == "vfs" || s.source == "mdc" || s.source == "llite";
    double var = 0;
    for (const auto& [node, rate] : s.by_node) {
      fv.reporting.insert(node);
      auto it = tracked_.find("s|" + skey + "|" + node);
      if (it == tracked_.end() || it->second.history.size() < min_history_) {
        ++j.warming;
        // A fresh collector: no baseline yet, only an absolute rate no client node does normally.
        if (client && rate >= params_.cold_min_rate) {
          double base = it == tracked_.end() ? 0 : it->second.history.baseline().median;
          j.excess[node] = rate - base;
          j.E += rate - base;
          j.S += rate;
          j.B += base;
        }
        continue;
      }
      const History& h = it->second.history;
      Baseline b = h.baseline();
      ++j.reporting;
      j.S += rate;
      j.B += b.median;
      var += b.sigma() * b.sigma();
      double e = rate - b.median;
      double noise = std::max(params_.k * b.sigma(), node_floor);
      if (e > noise && e > (ratio - 1) * b.median) {
        j.excess[node] = e;
        j.E += e;
      } else if (slow_mds && e > noise) {
        // Built within the last intervals: above its rate just before, not only above a slow baseline.
        const auto& v = h.values();
        double before = 0;
        for (size_t i = v.size() - std::min<size_t>(v.size(), 3); i < v.size(); ++i) before = std::max(before, v[i]);
        if (rate >= params_.wait_min_ratio * std::max(b.median, before)) {
          j.wait_excess[node] = e;
          j.E_wait += e;
        }
      }
    }
    j.sigma = std::sqrt(var);
    j.threshold = std::max((active ? 0.5 : 1.0) * params_.min_excess, params_.k * j.sigma);
    if (j.E + j.E_wait > j.threshold && (j.E > j.threshold || slow_mds)) {
      j.anomalous = true;
      j.E += j.E_wait;
      j.excess.insert(j.wait_excess.begin(), j.wait_excess.end());
    }
    fv.anomalous = fv.anomalous || j.anomalous;
    fv.judged.push_back(std::move(j));
  }

  for (auto& [fs, fv] : view) {
    std::string key = finding_key("metadata_storm", fs);
    bool judged_any = false;
    for (const auto& j : fv.judged) judged_any = judged_any || j.reporting > 0;
    if (fv.anomalous) storming_.insert(fs);
    else storming_.erase(fs);

    // Learn only from normal buckets, so a storm never becomes its own baseline.
    if (!fv.anomalous) {
      for (const auto& j : fv.judged) {
        std::string skey = j.signal->source + "|" + j.signal->fs + "|" + j.signal->target;
        for (const auto& [node, rate] : j.signal->by_node) history("s|" + skey + "|" + node, bucket).add(rate);
      }
      for (const auto& [source, parties] : p.parties[fs])
        for (const auto& [pkey, party] : parties) history("p|" + fs + "|" + source + "|" + pkey, bucket).add(party.rate);
    }
    if (!judged_any && !fv.anomalous) continue;  // still warming up: no verdict

    Finding f;
    f.kind = "metadata_storm";
    f.key = key;
    f.fs = fs;
    if (!fv.anomalous) {
      // A storm's nodes that stopped reporting leave the storm undecided, not over.
      auto sn = storm_nodes_.find(fs);
      bool missing = false;
      if (sn != storm_nodes_.end())
        for (const auto& node : sn->second) missing = missing || !fv.reporting.count(node);
      f.state = missing ? State::Unknown : State::Quiet;
      if (!missing && sn != storm_nodes_.end()) storm_nodes_.erase(sn);
      out.push_back(std::move(f));
      continue;
    }

    f.state = State::Anomalous;
    const Judged* top = nullptr;
    nlohmann::json signals = nlohmann::json::array();
    std::set<std::string> nodes, storm_nodes;
    for (const auto& j : fv.judged) {
      if (j.reporting == 0 && !j.anomalous) continue;
      if (!top || j.E - j.threshold > top->E - top->threshold) top = &j;
      nlohmann::json top_ops = nlohmann::json::object();
      std::vector<std::pair<double, std::string>> ops;
      for (const auto& [op, r] : j.signal->by_op) ops.push_back({r, op});
      std::sort(ops.rbegin(), ops.rend());
      for (size_t i = 0; i < ops.size() && i < 4; ++i) top_ops[ops[i].second] = ops[i].first;
      signals.push_back({{"source", j.signal->source},
                         {"series", j.signal->series},
                         {"target", j.signal->target},
                         {"ops_per_second", j.S},
                         {"baseline", j.B},
                         {"sigma", j.sigma},
                         {"threshold_excess", j.threshold},
                         {"excess", j.E},
                         {"anomalous", j.anomalous},
                         {"nodes_reporting", j.reporting},
                         {"nodes_warming", j.warming},
                         {"top_ops", top_ops}});
      if (!j.anomalous) continue;
      for (const auto& [node, e] : j.excess)
        if (e > 0 && e >= 0.1 * j.E) {
          nodes.insert(node);
          storm_nodes.insert(node);
        }
    }
    nlohmann::json wait_json = nlohmann::json::array();
    double worst_wait = 0;
    std::string wait_target;
    for (const auto& wv : waits[fs]) {
      wait_json.push_back({{"target", wv.target}, {"mean_wait_ms", wv.mean_ms}, {"rpcs", wv.rpcs},
                           {"threshold_ms", params_.mdc_wait_ms}, {"nodes", wv.nodes}});
      nodes.insert(wv.nodes.begin(), wv.nodes.end());
      if (wv.mean_ms > worst_wait) {
        worst_wait = wv.mean_ms;
        wait_target = wv.target;
      }
    }
    if (!storm_nodes.empty()) storm_nodes_[fs] = storm_nodes;
    f.nodes.assign(nodes.begin(), nodes.end());
    f.target = top && !top->signal->target.empty() ? top->signal->target : wait_target;
    f.score = top ? top->S : 0;
    double ratio = top && top->B > 0 ? top->S / top->B : 0;
    f.severity = (top && (top->E >= 5 * params_.min_excess || ratio >= 10)) || worst_wait >= 2.5 * params_.mdc_wait_ms
                     ? "critical"
                     : "warning";

    // Summary: "stat/open storm on ai0-MDT0000 (vfs): 48.2k ops/s (baseline 2.1k), MDC req_waittime 310 ms".
    std::string what = "metadata";
    if (top) {
      std::vector<std::pair<double, std::string>> ops;
      for (const auto& [op, r] : top->signal->by_op) ops.push_back({r, op});
      std::sort(ops.rbegin(), ops.rend());
      if (!ops.empty()) what = ops[0].second;
      if (ops.size() > 1 && ops[1].first >= 0.3 * ops[0].first) what += "/" + ops[1].second;
    }
    f.summary = fmt::format("{} storm on {}", what, f.target.empty() ? fs : f.target);
    if (top)
      f.summary += fmt::format(" ({}): {} ops/s (baseline {})", top->signal->source, format_rate(top->S),
                               format_rate(top->B));
    if (worst_wait > 0) f.summary += fmt::format(", MDC req_waittime {:.0f} ms", worst_wait);
    // BeeGFS: the meta server's queue beside its requests.
    if (top && top->signal->source == "beegfs")
      if (auto q = p.queues[fs].find(top->signal->target); q != p.queues[fs].end()) {
        f.summary += fmt::format(", queue {:.0f}", q->second);
        f.evidence["queue_length"] = q->second;
      }

    // Culprits: the parties of the most specific source, by excess over their own baseline.
    for (const char* source : kPartySources) {
      auto& parties = p.parties[fs][source];
      std::vector<Culprit> found;
      double total = 0;
      for (auto& [pkey, party] : parties) {
        auto it = tracked_.find("p|" + fs + "|" + source + "|" + pkey);
        double base = it == tracked_.end() ? 0 : it->second.history.baseline().median;
        double excess = party.rate - base;
        if (excess <= 0) continue;
        Culprit c = party.who;
        c.weight = excess * interval_s;
        total += c.weight;
        found.push_back(std::move(c));
      }
      if (found.empty()) continue;
      std::sort(found.begin(), found.end(), [](const Culprit& a, const Culprit& b) { return a.weight > b.weight; });
      for (auto& c : found) {
        if (f.culprits.size() >= params_.max_culprits || c.weight < 0.01 * total) break;
        f.culprits.push_back(std::move(c));
      }
      f.evidence["culprit_source"] = source;
      break;
    }
    f.evidence["bucket"] = bucket;
    f.evidence["signals"] = std::move(signals);
    f.evidence["mdc_wait"] = std::move(wait_json);
    f.evidence["params"] = {{"k", params_.k},
                            {"min_ratio", params_.min_ratio},
                            {"min_excess", params_.min_excess},
                            {"mdc_wait_ms", params_.mdc_wait_ms}};
    out.push_back(std::move(f));
  }

  // A file system with a storm whose nodes all went silent: undecided.
  for (const auto& [fs, nodes] : storm_nodes_) {
    if (view.count(fs)) continue;
    Finding f;
    f.kind = "metadata_storm";
    f.key = finding_key("metadata_storm", fs);
    f.fs = fs;
    f.state = State::Unknown;
    out.push_back(std::move(f));
  }
}

}  // namespace ss::collector::detect
