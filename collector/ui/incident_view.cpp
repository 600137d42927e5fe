#include "collector/ui/incident_view.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "collector/query/range.h"
#include "report/html.h"

namespace ss::collector::ui {

using json = nlohmann::json;
using incidents::Incident;

namespace {

constexpr int64_t kMinStep = 10'000;  // the agents' usual interval: a finer grid only repeats points

std::string label_of(const SeriesInfo& s, const std::string& name) { return std::string(label_value(s.labels, name)); }

std::string last_component(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  return slash == std::string::npos ? p : p.substr(slash + 1);
}

// "a|b|c" for a matcher on a set of label values (names of ops: letters, digits and '_').
std::string alternatives(const json& keys_of) {
  std::string re;
  for (const auto& [k, v] : keys_of.items()) {
    std::string safe;
    for (char c : k)
      if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') safe += c;
    if (!safe.empty()) re += (re.empty() ? "" : "|") + safe;
  }
  return re;
}

enum class Agg { Sum, Mean };

// Per group (the key `group` gives a series; "" leaves it out), the series' values on the window's grid,
// summed or averaged across the group's series. `one_per_group` reads only the first series of a group
// (gauges every node reports alike, as an OST's capacity seen by each client).
using Grid = std::map<int64_t, double>;
std::map<std::string, Grid> grid(Store& store, const std::string& name, const std::vector<Matcher>& matchers,
                                 const ChartWindow& w, bool rate, Agg agg,
                                 const std::function<std::string(const SeriesInfo&)>& group, bool one_per_group = false) {
  std::map<std::string, Grid> out;
  auto selected = store.select(name, matchers);
  if (!selected) return out;
  RangeSpec spec;
  spec.from_ms = w.from_ms;
  spec.to_ms = w.to_ms;
  spec.step_ms = w.step_ms;
  spec.rate = rate;
  spec.lookback_ms = std::max<int64_t>(spec.lookback_ms, w.step_ms);
  std::map<std::string, std::map<int64_t, int>> counts;
  std::set<std::string> seen;
  for (const auto& s : *selected) {
    std::string g = group(s);
    if (g.empty()) continue;
    if (one_per_group && !seen.insert(g).second) continue;
    auto pts = store.read(s.id, range_read_start(spec), spec.to_ms);
    if (!pts) continue;
    auto& dst = out[g];
    auto& cnt = counts[g];
    for (const auto& p : evaluate_range(*pts, spec)) {
      if (!std::isfinite(p.value)) continue;
      dst[p.t_ms] += p.value;
      cnt[p.t_ms]++;
    }
  }
  if (agg == Agg::Mean)
    for (auto& [g, values] : out)
      for (auto& [t, v] : values) v /= counts[g][t];
  return out;
}

std::vector<std::pair<int64_t, double>> points_of(const Grid& g, double scale = 1) {
  std::vector<std::pair<int64_t, double>> out;
  out.reserve(g.size());
  for (const auto& [t, v] : g) out.push_back({t, v * scale});
  return out;
}

// Wait per RPC in ms from the grids of wait seconds and RPC rates.
Grid ratio_ms(const Grid& wait, const Grid& rpcs) {
  Grid out;
  for (const auto& [t, r] : rpcs) {
    auto it = wait.find(t);
    if (it != wait.end() && r > 0) out[t] = 1000 * it->second / r;
  }
  return out;
}

report::Chart base_chart(const Incident& inc, const ChartWindow& w, std::string title, std::string unit) {
  report::Chart c;
  c.title = std::move(title);
  c.unit = std::move(unit);
  c.from_ms = w.from_ms;
  c.to_ms = w.to_ms;
  c.mark_from_ms = inc.start_ms;
  c.mark_to_ms = inc.end_ms.value_or(std::max(inc.last_seen_ms, inc.start_ms));
  return c;
}

const json& peak_evidence(const Incident& inc) {
  static const json empty = json::object();
  if (inc.evidence.contains("peak") && inc.evidence["peak"].is_object()) return inc.evidence["peak"];
  return inc.evidence.is_object() ? inc.evidence : empty;
}

double num(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0.0; }
std::string str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

void storm_charts(Store& store, const Incident& inc, const ChartWindow& w, std::vector<report::Chart>& out) {
  const json& ev = peak_evidence(inc);
  auto by_op = [](const SeriesInfo& s) { return label_of(s, "op"); };
  int shown = 0;
  for (const auto& sig : ev.value("signals", json::array())) {
    if (!sig.is_object() || shown >= 3) continue;
    std::string source = str(sig, "source"), target = str(sig, "target");
    std::string ops = alternatives(sig.value("top_ops", json::object()));
    std::map<std::string, Grid> g;
    if (source == "vfs" && !ops.empty()) {
      g = grid(store, "vfs_ops_total", {{"op", Matcher::Op::Re, ops}}, w, true, Agg::Sum, [&](const SeriesInfo& s) {
        return last_component(label_of(s, "mount")) == inc.fs ? label_of(s, "op") : std::string();
      });
    } else if (source == "mdc" && !target.empty()) {
      std::vector<Matcher> m{{"fs", Matcher::Op::Eq, inc.fs}, {"target", Matcher::Op::Eq, target}};
      if (!ops.empty()) m.push_back({"op", Matcher::Op::Re, ops});  // the ops that made the storm, not every op
      g = grid(store, "lustre_client_ops_total", m, w, true, Agg::Sum, by_op);
    } else if (source == "llite" && !ops.empty()) {
      g = grid(store, "lustre_client_llite_ops_total", {{"fs", Matcher::Op::Eq, inc.fs}, {"op", Matcher::Op::Re, ops}}, w,
               true, Agg::Sum, by_op);
    } else if (source == "mdt") {
      std::vector<Matcher> m{{"fs", Matcher::Op::Eq, inc.fs}};
      if (!target.empty()) m.push_back({"target", Matcher::Op::Eq, target});
      g = grid(store, "lustre_mdt_ops_total", m, w, true, Agg::Sum, by_op);
    } else if (source == "beegfs") {
      g = grid(store, "beegfs_server_requests_total", {{"nodetype", Matcher::Op::Eq, "meta"}}, w, true, Agg::Sum,
               [](const SeriesInfo&) { return std::string("requests"); });
    } else if (source == "weka" && !ops.empty()) {
      g = grid(store, "weka_op_rate", {{"op", Matcher::Op::Re, ops}}, w, false, Agg::Sum, by_op);
    } else {
      continue;
    }
    report::Chart c = base_chart(inc, w, fmt::format("Metadata ops/s ({}{})", source, target.empty() ? "" : " " + target), "ops/s");
    c.note = "Summed over every node; the signal the detector judged, against its robust baseline and threshold.";
    Grid total;
    std::vector<std::pair<double, std::string>> order;
    for (const auto& [op, values] : g) {
      double sum = 0;
      for (const auto& [t, v] : values) total[t] += v, sum += v;
      order.push_back({sum, op});
    }
    std::sort(order.rbegin(), order.rend());
    c.series.push_back({g.size() == 1 ? "total" : fmt::format("sum of these {} ops", g.size()), points_of(total)});
    for (size_t k = 0; k < order.size() && k < 5 && g.size() > 1; ++k) c.series.push_back({order[k].second, points_of(g[order[k].second])});
    double b = num(sig, "baseline"), sigma = num(sig, "sigma");
    c.band = std::pair{std::max(0.0, b - sigma), b + sigma};
    c.band_label = "baseline ± σ";
    c.lines.push_back({"threshold", b + num(sig, "threshold_excess"), true});
    out.push_back(std::move(c));
    ++shown;
  }
  // Waits of the clients on the MDTs.
  const json waits = ev.value("mdc_wait", json::array());
  if (!waits.empty()) {
    report::Chart c = base_chart(inc, w, "MDC wait per RPC", "ms");
    c.note = "req_waittime of the metadata RPCs the clients sent, per MDT.";
    double threshold = 0;
    for (const auto& wv : waits) {
      std::string target = str(wv, "target");
      threshold = std::max(threshold, num(wv, "threshold_ms"));
      std::vector<Matcher> m{{"fs", Matcher::Op::Eq, inc.fs}, {"target", Matcher::Op::Eq, target}};
      auto all = [](const SeriesInfo&) { return std::string("all"); };
      auto wait = grid(store, "lustre_client_rpc_wait_seconds_total", m, w, true, Agg::Sum, all);
      auto rpcs = grid(store, "lustre_client_rpcs_total", m, w, true, Agg::Sum, all);
      c.series.push_back({target, points_of(ratio_ms(wait["all"], rpcs["all"]))});
      if (c.series.size() >= 4) break;
    }
    if (threshold > 0) c.lines.push_back({"threshold", threshold, true});
    out.push_back(std::move(c));
  }
  // The hottest directories the agents sampled, over time.
  auto events = store.read_events("vfs_hot_dirs", w.from_ms, w.to_ms);
  if (events && !events->empty()) {
    std::map<std::string, Grid> dirs;
    std::map<std::string, double> in_window;
    int64_t mark_to = inc.end_ms.value_or(inc.last_seen_ms);
    double step_s = w.step_ms / 1000.0;
    for (const auto& e : *events) {
      auto fields = json::parse(e.event.fields_json, nullptr, false);
      if (!fields.is_object() || !fields.contains("dirs") || !fields["dirs"].is_array()) continue;
      int64_t t = e.event.t_ms / w.step_ms * w.step_ms;
      for (const auto& d : fields["dirs"]) {
        std::string path = str(d, "path");
        if (path.empty() || (path.find("/" + inc.fs + "/") == std::string::npos && !path.ends_with("/" + inc.fs))) continue;
        double ops = num(d, "ops");
        dirs[path][t] += ops / step_s;
        if (e.event.t_ms >= inc.start_ms && e.event.t_ms <= mark_to) in_window[path] += ops;
      }
    }
    std::vector<std::pair<double, std::string>> top;
    for (const auto& [p, ops] : in_window) top.push_back({ops, p});
    std::sort(top.rbegin(), top.rend());
    if (!top.empty()) {
      report::Chart c = base_chart(inc, w, "Top directories", "ops/s");
      c.note = "Metadata ops per directory from the agents' hot-directory samples (the busiest during the incident).";
      for (size_t k = 0; k < top.size() && k < 5; ++k) c.series.push_back({top[k].second, points_of(dirs[top[k].second])});
      out.push_back(std::move(c));
    }
  }
}

void spike_charts(Store& store, const Incident& inc, const ChartWindow& w, std::vector<report::Chart>& out) {
  const json& ev = peak_evidence(inc);
  std::vector<Matcher> m{{"target", Matcher::Op::Eq, inc.target}};
  if (!inc.fs.empty()) m.push_back({"fs", Matcher::Op::Eq, inc.fs});
  // Which nodes to draw: the worst ones of the peak bucket.
  std::vector<std::pair<double, std::string>> worst;
  const json nodes = ev.value("nodes", json::object());
  for (const auto& [node, v] : nodes.items()) worst.push_back({num(v, "mean_wait_ms"), node});
  std::sort(worst.rbegin(), worst.rend());
  std::set<std::string> drawn;
  for (size_t k = 0; k < worst.size() && k < 5; ++k) drawn.insert(worst[k].second);
  auto group = [&](const SeriesInfo& s) {
    std::string node = label_of(s, "node");
    return drawn.count(node) ? node : std::string("~other");
  };
  auto wait = grid(store, "lustre_client_rpc_wait_seconds_total", m, w, true, Agg::Sum, group);
  auto rpcs = grid(store, "lustre_client_rpcs_total", m, w, true, Agg::Sum, group);
  Grid all_wait, all_rpcs;
  for (const auto& [g, values] : wait)
    for (const auto& [t, v] : values) all_wait[t] += v;
  for (const auto& [g, values] : rpcs)
    for (const auto& [t, v] : values) all_rpcs[t] += v;
  report::Chart c = base_chart(inc, w, "Wait per RPC on " + inc.target, "ms");
  c.note = "Δ req_waittime / Δ RPCs of every client of the target, and of the nodes that waited most.";
  c.series.push_back({"all nodes", points_of(ratio_ms(all_wait, all_rpcs))});
  for (const auto& node : drawn) c.series.push_back({node, points_of(ratio_ms(wait[node], rpcs[node]))});
  c.lines.push_back({"baseline", num(ev, "baseline_ms"), false});
  c.lines.push_back({"threshold", num(ev, "threshold_ms"), true});
  out.push_back(std::move(c));
  report::Chart r = base_chart(inc, w, "RPCs/s to " + inc.target, "ops/s");
  r.series.push_back({"all nodes", points_of(all_rpcs)});
  out.push_back(std::move(r));
}

void imbalance_charts(Store& store, const Incident& inc, const ChartWindow& w, std::vector<report::Chart>& out) {
  const json& ev = peak_evidence(inc);
  auto ost = [](const SeriesInfo& s) {
    std::string t = label_of(s, "target");
    return t.find("OST") != std::string::npos ? t : std::string();
  };
  std::vector<Matcher> m{{"fs", Matcher::Op::Eq, inc.fs}};
  auto cap = grid(store, "lustre_target_capacity_bytes", m, w, false, Agg::Mean, ost, true);
  auto avail = grid(store, "lustre_target_available_bytes", m, w, false, Agg::Mean, ost, true);
  std::map<std::string, Grid> fill;
  for (const auto& [target, c] : cap)
    for (const auto& [t, bytes] : c)
      if (bytes > 0 && avail[target].count(t)) fill[target][t] = 100 * (1 - avail[target][t] / bytes);
  // The fullest and emptiest first, then the others (at most 12 lines).
  std::string full = str(ev, "fullest"), empty = str(ev, "emptiest");
  report::Chart c = base_chart(inc, w, "Fill of every OST of " + inc.fs, "%");
  c.note = fmt::format("1 − available / capacity per OST; {} to move off the fullest.", report::bytes_text(num(ev, "bytes_to_move")));
  if (fill.count(full)) c.series.push_back({full + " (fullest)", points_of(fill[full])});
  if (fill.count(empty) && empty != full) c.series.push_back({empty + " (emptiest)", points_of(fill[empty])});
  for (const auto& [target, g] : fill)
    if (target != full && target != empty && c.series.size() < 12) c.series.push_back({target, points_of(g)});
  if (fill.size() > c.series.size()) c.note += fmt::format(" {} of {} OSTs drawn.", c.series.size(), fill.size());
  const json params = ev.value("params", json::object());
  if (params.contains("full")) c.lines.push_back({"full", 100 * num(params, "full"), true});
  if (ev.contains("median_fill")) c.lines.push_back({"median at peak", 100 * num(ev, "median_fill"), false});
  out.push_back(std::move(c));
  if (ev.value("write_skew", false)) {
    auto writes = grid(store, "lustre_ost_bytes_total", {{"fs", Matcher::Op::Eq, inc.fs}, {"op", Matcher::Op::Eq, "write"}}, w,
                       true, Agg::Sum, ost);
    report::Chart wc = base_chart(inc, w, "Write rate per OST", "B/s");
    for (const auto& [target, g] : writes)
      if (wc.series.size() < 12) wc.series.push_back({target, points_of(g)});
    out.push_back(std::move(wc));
  }
}

void stall_charts(Store& store, const Incident& inc, const ChartWindow& w, std::vector<report::Chart>& out) {
  const json& ev = peak_evidence(inc);
  std::string job = str(ev, "job");
  if (job.empty() && !inc.culprits.empty()) job = inc.culprits.front().job;
  if (job.empty()) return;
  auto util = grid(store, "gpu_utilization_ratio", {{"job", Matcher::Op::Eq, job}}, w, false, Agg::Mean,
                   [](const SeriesInfo&) { return std::string("mean"); });
  report::Chart u = base_chart(inc, w, "GPU utilization of job " + job, "%");
  u.note = "Mean over the job's GPUs.";
  u.series.push_back({"mean of the job's GPUs", points_of(util["mean"], 100)});
  u.lines.push_back({"baseline", 100 * num(ev, "baseline_util"), false});
  out.push_back(std::move(u));
  auto writes = grid(store, "vfs_bytes_total", {{"job", Matcher::Op::Eq, job}, {"op", Matcher::Op::Eq, "write"}}, w, true,
                     Agg::Sum, [](const SeriesInfo&) { return std::string("all"); });
  if (writes["all"].empty() && !inc.nodes.empty()) {
    // Without the eBPF probes: the Lustre clients' OST writes of the job's nodes.
    std::string nodes;
    for (const auto& n : inc.nodes) {
      std::string safe;
      for (char ch : n) safe += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ? std::string(1, ch) : "\\" + std::string(1, ch);
      nodes += (nodes.empty() ? "" : "|") + safe;
    }
    writes = grid(store, "lustre_client_bytes_total", {{"op", Matcher::Op::Eq, "write"}, {"node", Matcher::Op::Re, nodes}}, w,
                  true, Agg::Sum, [](const SeriesInfo&) { return std::string("all"); });
  }
  report::Chart b = base_chart(inc, w, "Write bandwidth of job " + job, "B/s");
  b.series.push_back({"written", points_of(writes["all"])});
  if (ev.contains("bandwidth_for_target"))
    b.lines.push_back({fmt::format("needed for a {:.0f} s stall", num(ev, "target_stall_seconds")), num(ev, "bandwidth_for_target"), true});
  if (ev.contains("effective_bandwidth")) b.lines.push_back({"effective", num(ev, "effective_bandwidth"), false});
  out.push_back(std::move(b));
}

int rank(const std::string& kind) {
  if (kind == "metadata_storm" || kind == "ost_imbalance") return 0;
  if (kind == "waittime_spike") return 1;
  return 2;  // checkpoint_stall
}

// Whether `cause` can lead to `effect`: a storm loads the MDTs, an imbalance the full OST; both, and any
// spike, slow the writes of checkpoints.
bool can_cause(const Incident& cause, const Incident& effect) {
  if (rank(cause.kind) >= rank(effect.kind)) return false;
  if (effect.kind == "waittime_spike") {
    bool mdt = effect.target.find("MDT") != std::string::npos;
    return cause.kind == "metadata_storm" ? mdt : !mdt;
  }
  return true;
}

}  // namespace

ChartWindow chart_window(const Incident& inc) {
  int64_t end = inc.end_ms.value_or(std::max(inc.last_seen_ms, inc.start_ms));
  int64_t dur = std::max<int64_t>(end - inc.start_ms, 60'000);
  int64_t pad = std::clamp<int64_t>(dur / 2, 10 * 60'000, 6 * 3'600'000);
  ChartWindow w;
  w.step_ms = std::max<int64_t>(kMinStep, (dur + 2 * pad) / 240 / kMinStep * kMinStep);
  w.from_ms = (inc.start_ms - pad) / w.step_ms * w.step_ms;
  w.to_ms = (end + pad) / w.step_ms * w.step_ms + w.step_ms;
  return w;
}

std::vector<report::Chart> incident_charts(Store& store, const Incident& inc) {
  std::vector<report::Chart> out;
  ChartWindow w = chart_window(inc);
  if (inc.kind == "metadata_storm") storm_charts(store, inc, w, out);
  else if (inc.kind == "waittime_spike") spike_charts(store, inc, w, out);
  else if (inc.kind == "ost_imbalance") imbalance_charts(store, inc, w, out);
  else if (inc.kind == "checkpoint_stall") stall_charts(store, inc, w, out);
  return out;
}

void relate(const Incident& inc, const std::vector<Incident>& overlapping, report::IncidentView& view) {
  std::vector<const Incident*> causes, effects;
  for (const auto& o : overlapping) {
    if (o.id == inc.id) continue;
    std::string relation = "overlaps";
    // A cause starts before its effect ends, an effect after its cause started.
    if (can_cause(o, inc) && o.start_ms <= inc.end_ms.value_or(inc.last_seen_ms)) {
      relation = "likely cause";
      causes.push_back(&o);
    } else if (can_cause(inc, o) && o.start_ms >= inc.start_ms) {
      relation = "likely effect";
      effects.push_back(&o);
    }
    view.related.push_back({incidents::to_json(o), relation});
  }
  if (causes.empty() && effects.empty()) return;
  auto order = [](const Incident* a, const Incident* b) {
    return std::tuple(rank(a->kind), a->start_ms, a->id) < std::tuple(rank(b->kind), b->start_ms, b->id);
  };
  std::sort(causes.begin(), causes.end(), order);
  std::sort(effects.begin(), effects.end(), order);
  for (const auto* c : causes) view.chain.push_back(c->id);
  view.chain.push_back(inc.id);
  for (const auto* e : effects)
    if (view.chain.size() < 8) view.chain.push_back(e->id);
}

Result<report::IncidentView> build_view(Store& store, incidents::IncidentStore& incidents, const Incident& inc) {
  report::IncidentView v;
  v.incident = incidents::to_json(inc);
  v.charts = incident_charts(store, inc);
  if (!inc.fs.empty()) {
    incidents::IncidentQuery q;
    int64_t end = inc.end_ms.value_or(inc.last_seen_ms);
    q.from_ms = inc.start_ms - 10 * 60'000;
    q.to_ms = end + 10 * 60'000;
    q.fs = inc.fs;
    q.limit = 200;
    auto overlapping = incidents.query(q);
    if (!overlapping) return overlapping.error();
    relate(inc, *overlapping, v);
  }
  return v;
}

}  // namespace ss::collector::ui
