#include "collector/detect/ost_imbalance.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "collector/detect/robust.h"

namespace ss::collector::detect {

OstImbalance::OstImbalance(OstImbalanceParams params, int64_t interval_ms)
    : params_(params), interval_ms_(std::max<int64_t>(interval_ms, 1)) {}

bool OstImbalance::wants(std::string_view n) const {
  return n == "lustre_target_capacity_bytes" || n == "lustre_target_available_bytes" ||
         n == "lustre_target_free_bytes" || n == "lustre_ost_bytes_total" || n == "lustre_client_bytes_total" ||
         n == "beegfs_target_capacity_bytes" || n == "beegfs_target_free_bytes" || n == "beegfs_server_bytes_total";
}

void OstImbalance::observe(const Observation& o) {
  const bool beegfs = o.name.starts_with("beegfs_");
  FsKey fs{beegfs, std::string(o.label("fs"))};
  if (beegfs && o.name == "beegfs_server_bytes_total") {
    if (o.label("op") == "write") writes_[o.bucket][fs].server[std::string(o.label("server"))] += o.rate();
    return;
  }
  std::string target(o.label("target"));
  if (beegfs ? o.label("nodetype") != "storage" : !is_ost(target)) return;  // metadata targets hold inodes
  if (o.counter) {
    if (o.label("op") != "write") return;
    Writes& w = writes_[o.bucket][fs];
    (o.name == "lustre_ost_bytes_total" ? w.server : w.client)[target] += o.rate();
    return;
  }
  // Many clients (or query nodes) report the same target: the newest value wins. BeeGFS's free space is
  // what users can still write, as Lustre's available.
  Fill& f = fs_[fs].targets[target];
  if ((o.name == "lustre_target_capacity_bytes" || o.name == "beegfs_target_capacity_bytes") && o.t_ms >= f.t_capacity) {
    f.capacity = o.value;
    f.t_capacity = o.t_ms;
  } else if ((o.name == "lustre_target_available_bytes" || o.name == "beegfs_target_free_bytes") &&
             o.t_ms >= f.t_available) {
    f.available = o.value;
    f.t_available = o.t_ms;
  } else if (o.name == "lustre_target_free_bytes" && o.t_ms >= f.t_free) {
    f.free = o.value;
    f.t_free = o.t_ms;
  }
}

void OstImbalance::evaluate(int64_t bucket, std::vector<Finding>& out) {
  std::map<FsKey, Writes> writes;
  if (auto it = writes_.find(bucket); it != writes_.end()) writes = std::move(it->second);
  writes_.erase(writes_.begin(), writes_.upper_bound(bucket));
  int64_t end = bucket + interval_ms_;

  for (auto& [fs_key, st] : fs_) {
    const auto& [beegfs, fs] = fs_key;
    // What the targets are called in this file system's words.
    const char* what = beegfs ? "BeeGFS storage target" : "OST";
    struct T {
      std::string name;
      double fill, capacity, used;
    };
    std::vector<T> fresh;
    for (const auto& [name, f] : st.targets) {
      bool have_avail = f.available >= 0 && end - f.t_available <= params_.stale_ms;
      bool have_free = f.free >= 0 && end - f.t_free <= params_.stale_ms;
      if (f.capacity <= 0 || end - f.t_capacity > params_.stale_ms || (!have_avail && !have_free)) continue;
      double left = have_avail ? f.available : f.free;
      double fill = std::clamp(1.0 - left / f.capacity, 0.0, 1.0);
      fresh.push_back({name, fill, f.capacity, f.capacity - left});
    }
    Finding finding;
    finding.kind = "ost_imbalance";
    finding.key = beegfs ? "ost_imbalance/beegfs/" + fs : "ost_imbalance/" + fs;
    finding.fs = fs;
    if (fresh.size() < params_.min_targets) {
      if (st.anomalous) {
        finding.state = State::Unknown;
        out.push_back(std::move(finding));
      }
      continue;
    }
    std::sort(fresh.begin(), fresh.end(), [](const T& a, const T& b) { return a.fill > b.fill; });
    std::vector<double> fills;
    for (const auto& t : fresh) fills.push_back(t.fill);
    double med = median(fills);
    const T& fullest = fresh.front();
    const T& emptiest = fresh.back();
    bool by_full = fullest.fill >= params_.full && med < params_.median_below;
    bool by_spread = fullest.fill - emptiest.fill > params_.spread;
    bool fill_bad = by_full || by_spread;
    st.fill_since = fill_bad ? (st.fill_since < 0 ? bucket : st.fill_since) : -1;

    // Write skew, from the servers' own counters when present, else summed over the clients.
    std::map<std::string, double> rates;
    if (auto it = writes.find(fs_key); it != writes.end()) rates = it->second.server.empty() ? it->second.client : it->second.server;
    double total = 0, busiest_rate = 0;
    std::string busiest;
    std::vector<double> per_ost;
    for (const auto& [t, r] : rates) {
      total += r;
      per_ost.push_back(r);
      if (r > busiest_rate) busiest_rate = r, busiest = t;
    }
    double median_rate = median(per_ost);
    bool skew_now = per_ost.size() >= params_.min_targets && total >= params_.min_write_rate &&
                    busiest_rate >= params_.skew_ratio * std::max(median_rate, 1.0);
    st.skew_since = skew_now ? (st.skew_since < 0 ? bucket : st.skew_since) : -1;

    bool fill_fires = st.fill_since >= 0 && end - st.fill_since >= params_.for_ms;
    bool skew_fires = st.skew_since >= 0 && end - st.skew_since >= params_.skew_for_ms;
    st.anomalous = fill_fires || skew_fires;
    if (!st.anomalous) {
      finding.state = State::Quiet;
      out.push_back(std::move(finding));
      continue;
    }
    finding.state = State::Anomalous;
    finding.target = fill_fires ? fullest.name : busiest;
    finding.score = fill_fires ? fullest.fill - emptiest.fill : busiest_rate;
    finding.severity = fullest.fill >= 0.95 ? "critical" : "warning";
    double to_move = std::max(0.0, (fullest.fill - med) * fullest.capacity);
    if (fill_fires) {
      finding.summary = fmt::format(
          "{} fill imbalance on {}: {} {:.0f}% full, median {:.0f}%, {} {:.0f}%; move ~{} from {} to {}", what, fs,
          fullest.name, 100 * fullest.fill, 100 * med, emptiest.name, 100 * emptiest.fill, format_bytes(to_move),
          fullest.name, emptiest.name);
    } else {
      const char* writer = beegfs ? "storage server" : "OST";
      finding.summary = fmt::format("{} write skew on {}: {} takes {}/s, {:.0f}x the median {} ({}/s)",
                                    beegfs ? "BeeGFS" : "OST", fs, busiest, format_bytes(busiest_rate),
                                    busiest_rate / std::max(median_rate, 1.0), writer, format_bytes(median_rate));
    }
    nlohmann::json targets = nlohmann::json::object();
    for (const auto& t : fresh) targets[t.name] = {{"fill", t.fill}, {"capacity_bytes", t.capacity}, {"used_bytes", t.used}};
    finding.evidence = {{"bucket", bucket},
                        {"series", beegfs ? "1 - beegfs_target_free_bytes / beegfs_target_capacity_bytes"
                                          : "1 - lustre_target_available_bytes / lustre_target_capacity_bytes"},
                        {"file_system", beegfs ? "beegfs" : "lustre"},
                        {"fill", targets},
                        {"median_fill", med},
                        {"fullest", fullest.name},
                        {"emptiest", emptiest.name},
                        {"by_full", by_full},
                        {"by_spread", by_spread},
                        {"bytes_to_move", to_move},
                        {"write_skew", skew_fires},
                        {"write_rates", rates},
                        {"params", {{"full", params_.full}, {"median_below", params_.median_below}, {"spread", params_.spread}}}};
    out.push_back(std::move(finding));
  }
}

}  // namespace ss::collector::detect
