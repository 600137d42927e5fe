#include "collector/detect/config.h"

namespace ss::collector::detect {

namespace {

void positive(const config::Section& s, std::string_view key, double v) {
  if (!(v > 0)) s.fail(key, "must be above 0");
}
void fraction(const config::Section& s, std::string_view key, double v) {
  if (!(v >= 0 && v <= 1)) s.fail(key, "must be between 0 and 1");
}

}  // namespace

Result<DetectConfig> read_detect_config(const config::Section& d) {
  return config::read([&] {
    DetectConfig c;
    d.allow_only({"enabled", "incidents_db", "queue", "interval", "lateness", "silent_after", "max_gap", "mounts", "metadata_storm", "waittime_spike",
                  "ost_imbalance", "checkpoint_stall", "incidents", "alertmanager"});
    c.enabled = d.boolean("enabled", true);
    c.incidents_db = d.string("incidents_db", "");
    int64_t queue = d.integer("queue", static_cast<int64_t>(c.queue));
    if (queue < 1) d.fail("queue", "must be at least 1");
    c.queue = static_cast<size_t>(queue);
    c.engine.interval_ms = d.duration_ms("interval", c.engine.interval_ms);
    c.engine.lateness_ms = d.duration_ms("lateness", c.engine.lateness_ms);
    c.engine.silent_after_ms = d.duration_ms("silent_after", c.engine.silent_after_ms);
    positive(d, "lateness", c.engine.lateness_ms);
    positive(d, "silent_after", c.engine.silent_after_ms);
    c.engine.max_gap_ms = d.duration_ms("max_gap", 3 * c.engine.interval_ms + c.engine.interval_ms / 2);
    positive(d, "interval", c.engine.interval_ms);
    if (c.engine.max_gap_ms < c.engine.interval_ms) d.fail("max_gap", "must be at least one interval");
    std::map<std::string, std::string> mounts;
    if (d.has("mounts")) {
      const auto& m = d.node()["mounts"];
      if (!m.IsMap()) d.fail("mounts", "expected a mapping of mount point to file system name");
      for (const auto& kv : m) mounts[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }

    auto ms = d.child("metadata_storm");
    ms.allow_only({"window", "min_history", "k", "min_ratio", "min_excess", "mdc_wait", "wait_min_ratio",
                   "min_wait_rpcs", "ops", "max_culprits"});
    auto& m = c.metadata_storm;
    m.window_ms = ms.duration_ms("window", m.window_ms);
    m.min_history_ms = ms.duration_ms("min_history", m.min_history_ms);
    m.k = ms.number("k", m.k);
    m.min_ratio = ms.number("min_ratio", m.min_ratio);
    m.min_excess = ms.number("min_excess", m.min_excess);
    m.mdc_wait_ms = ms.duration_ms("mdc_wait", static_cast<int64_t>(m.mdc_wait_ms));
    m.wait_min_ratio = ms.number("wait_min_ratio", m.wait_min_ratio);
    m.min_wait_rpcs = ms.number("min_wait_rpcs", m.min_wait_rpcs);
    m.max_culprits = ms.integer("max_culprits", static_cast<int64_t>(m.max_culprits));
    if (ms.has("ops")) {
      auto ops = ms.strings("ops", {});
      m.vfs_ops = std::set<std::string>(ops.begin(), ops.end());
    }
    m.mounts = mounts;
    positive(ms, "window", m.window_ms);
    positive(ms, "min_excess", m.min_excess);
    if (m.min_ratio < 1) ms.fail("min_ratio", "must be at least 1");
    if (m.min_history_ms > m.window_ms) ms.fail("min_history", "must not exceed window");

    auto ws = d.child("waittime_spike");
    ws.allow_only({"window", "min_history", "floor", "k", "min_ratio", "min_rpcs", "weka_floor", "beegfs_floor",
                   "beegfs_min_queue"});
    auto& w = c.waittime_spike;
    w.window_ms = ws.duration_ms("window", w.window_ms);
    w.min_history_ms = ws.duration_ms("min_history", w.min_history_ms);
    w.floor_ms = ws.duration_ms("floor", static_cast<int64_t>(w.floor_ms));
    w.k = ws.number("k", w.k);
    w.min_ratio = ws.number("min_ratio", w.min_ratio);
    w.min_rpcs = ws.number("min_rpcs", w.min_rpcs);
    w.weka_floor_ms = ws.duration_ms("weka_floor", static_cast<int64_t>(w.weka_floor_ms));
    w.beegfs_floor_ms = ws.duration_ms("beegfs_floor", static_cast<int64_t>(w.beegfs_floor_ms));
    w.beegfs_min_queue = ws.number("beegfs_min_queue", w.beegfs_min_queue);
    positive(ws, "floor", w.floor_ms);
    positive(ws, "weka_floor", w.weka_floor_ms);
    positive(ws, "beegfs_floor", w.beegfs_floor_ms);
    if (w.min_history_ms > w.window_ms) ws.fail("min_history", "must not exceed window");

    auto os = d.child("ost_imbalance");
    os.allow_only({"full", "median_below", "spread", "for", "stale", "min_targets", "skew_ratio", "min_write_rate",
                   "skew_for"});
    auto& o = c.ost_imbalance;
    o.full = os.number("full", o.full);
    o.median_below = os.number("median_below", o.median_below);
    o.spread = os.number("spread", o.spread);
    o.for_ms = os.duration_ms("for", o.for_ms);
    o.stale_ms = os.duration_ms("stale", o.stale_ms);
    o.min_targets = os.integer("min_targets", static_cast<int64_t>(o.min_targets));
    o.skew_ratio = os.number("skew_ratio", o.skew_ratio);
    o.min_write_rate = static_cast<double>(os.bytes("min_write_rate", static_cast<int64_t>(o.min_write_rate)));
    o.skew_for_ms = os.duration_ms("skew_for", o.skew_for_ms);
    fraction(os, "full", o.full);
    fraction(os, "median_below", o.median_below);
    fraction(os, "spread", o.spread);
    if (o.min_targets < 2) os.fail("min_targets", "must be at least 2");

    auto cs = d.child("checkpoint_stall");
    cs.allow_only({"window", "min_history", "drop", "min_baseline_util", "min_gpu_fraction", "min_reporting",
                   "burst_ratio", "burst_floor", "target_stall", "quiet"});
    auto& k = c.checkpoint_stall;
    k.window_ms = cs.duration_ms("window", k.window_ms);
    k.min_history_ms = cs.duration_ms("min_history", k.min_history_ms);
    k.drop = cs.number("drop", k.drop);
    k.min_baseline_util = cs.number("min_baseline_util", k.min_baseline_util);
    k.min_gpu_fraction = cs.number("min_gpu_fraction", k.min_gpu_fraction);
    k.min_reporting = cs.number("min_reporting", k.min_reporting);
    k.burst_ratio = cs.number("burst_ratio", k.burst_ratio);
    k.burst_floor = static_cast<double>(cs.bytes("burst_floor", static_cast<int64_t>(k.burst_floor)));
    k.target_stall_ms = cs.duration_ms("target_stall", k.target_stall_ms);
    k.quiet_ms = cs.duration_ms("quiet", k.quiet_ms);
    k.mounts = mounts;
    fraction(cs, "drop", k.drop);
    fraction(cs, "min_baseline_util", k.min_baseline_util);
    fraction(cs, "min_gpu_fraction", k.min_gpu_fraction);
    fraction(cs, "min_reporting", k.min_reporting);
    if (k.min_history_ms > k.window_ms) cs.fail("min_history", "must not exceed window");

    auto is = d.child("incidents");
    is.allow_only({"quiet", "quiet_ost_imbalance", "max_unknown", "max_culprits"});
    auto& i = c.incidents;
    i.quiet_ms = is.duration_ms("quiet", i.quiet_ms);
    i.quiet_ost_imbalance_ms = is.duration_ms("quiet_ost_imbalance", i.quiet_ost_imbalance_ms);
    i.max_unknown_ms = is.duration_ms("max_unknown", i.max_unknown_ms);
    i.max_culprits = is.integer("max_culprits", static_cast<int64_t>(i.max_culprits));
    positive(is, "quiet", i.quiet_ms);
    if (i.max_unknown_ms < i.quiet_ms) is.fail("max_unknown", "must be at least quiet");

    auto as = d.child("alertmanager");
    as.allow_only({"urls", "resend", "max_age", "timeout", "external_url"});
    auto& a = c.alerts;
    a.urls = as.strings("urls", {});
    for (const auto& u : a.urls)
      if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
        as.fail("urls", "each URL must start with http:// or https://: " + u);
    a.resend_ms = as.duration_ms("resend", a.resend_ms);
    a.max_age_ms = as.duration_ms("max_age", a.max_age_ms);
    a.timeout_ms = as.duration_ms("timeout", a.timeout_ms);
    a.external_url = as.string("external_url", "");
    positive(as, "resend", a.resend_ms);
    return c;
  });
}

DetectorSet make_detectors(const DetectConfig& c) {
  DetectorSet set;
  int64_t interval = c.engine.interval_ms;
  size_t history = std::max<int64_t>(c.checkpoint_stall.window_ms / interval, 3);
  auto gpus = std::make_unique<GpuTracker>(history);
  set.gpus = gpus.get();
  set.detectors.push_back(std::move(gpus));
  set.detectors.push_back(std::make_unique<MetadataStorm>(c.metadata_storm, interval));
  set.detectors.push_back(std::make_unique<WaittimeSpike>(c.waittime_spike, interval));
  set.detectors.push_back(std::make_unique<OstImbalance>(c.ost_imbalance, interval));
  set.detectors.push_back(std::make_unique<CheckpointStall>(c.checkpoint_stall, interval, set.gpus));
  return set;
}

}  // namespace ss::collector::detect
