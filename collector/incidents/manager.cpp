#include "collector/incidents/manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/log.h"

namespace ss::collector::incidents {

namespace {

std::string culprit_key(const detect::Culprit& c) {
  return c.job + '\x1f' + c.node + '\x1f' + c.comm + '\x1f' + c.path + '\x1f' + c.user;
}

int severity_rank(const std::string& s) { return s == "critical" ? 2 : s == "warning" ? 1 : 0; }

}  // namespace

std::string make_incident_id(const std::string& kind, int64_t start_ms, const std::string& key) {
  uint32_t h = 2166136261u;
  for (unsigned char c : key) h = (h ^ c) * 16777619u;
  return fmt::format("{}-{:x}-{:08x}", kind, start_ms, h);
}

IncidentManager::IncidentManager(ManagerOptions options, IncidentStore* store, Store* series)
    : options_(std::move(options)), store_(store), series_(series) {}

void IncidentManager::add_listener(Listener l) {
  std::lock_guard lock(mu_);
  listeners_.push_back(std::move(l));
}

Result<void> IncidentManager::load() {
  if (!store_) return ok();
  auto r = store_->open_incidents();
  if (!r) return r.error();
  std::lock_guard lock(mu_);
  for (auto& inc : *r) {
    Open o;
    for (const auto& c : inc.culprits) o.culprits[culprit_key(c)] = c;
    o.inc = std::move(inc);
    std::string key = o.inc.key;
    open_[key] = std::move(o);
  }
  if (!r->empty()) log::info("incidents: resumed {} open incident(s)", r->size());
  return ok();
}

int64_t IncidentManager::quiet_for(const std::string& kind) const {
  auto it = options_.quiet_by_kind.find(kind);
  return it == options_.quiet_by_kind.end() ? options_.quiet_ms : it->second;
}

void IncidentManager::price(Open& o) {
  o.priced_at = o.inc.last_seen_ms;
  if (!series_) return;
  Incident& inc = o.inc;
  Result<cost::IncidentCost> c = cost::IncidentCost{};
  if (inc.kind == "checkpoint_stall") {
    std::string job = inc.key.substr(inc.key.find('/') + 1);
    c = cost::job_idle_cost(*series_, job, inc.start_ms, inc.last_seen_ms, options_.cost);
  } else if (inc.kind == "metadata_storm" || inc.kind == "waittime_spike") {
    // A storm slows every client of the file system's metadata; a spike, those of its target.
    std::string target = inc.kind == "waittime_spike" ? inc.target : "";
    c = cost::victims_idle_cost(*series_, inc.fs, target, inc.start_ms, inc.last_seen_ms, options_.cost,
                                options_.victim_min_idle);
  }
  if (!c) {
    log::warn("incidents: cannot price {}: {}", inc.id, c.error().message);
    return;
  }
  double before = inc.cost_usd;
  inc.gpu_idle_seconds = c->gpu_idle_seconds;
  inc.cost_usd = c->cost_usd;
  inc.victims = std::move(c->victims);
  if (inc.cost_usd > before) cost_totals_[{inc.kind, inc.fs}] += inc.cost_usd - before;
  o.changed = true;
}

void IncidentManager::apply(Open& o, detect::Finding& f, int64_t bucket, int64_t end) {
  Incident& inc = o.inc;
  o.quiet_ms = 0;
  o.unknown_ms = 0;
  inc.last_seen_ms = end;
  if (inc.fs.empty()) inc.fs = f.fs;
  if (severity_rank(f.severity) > severity_rank(inc.severity)) inc.severity = f.severity;
  std::set<std::string> nodes(inc.nodes.begin(), inc.nodes.end());
  nodes.insert(f.nodes.begin(), f.nodes.end());
  inc.nodes.assign(nodes.begin(), nodes.end());
  for (auto& c : f.culprits) {
    auto [it, fresh] = o.culprits.try_emplace(culprit_key(c), c);
    if (!fresh) it->second.weight += c.weight;
  }
  double total = 0;
  std::vector<detect::Culprit> all;
  for (const auto& [k, c] : o.culprits) {
    total += c.weight;
    all.push_back(c);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.weight > b.weight; });
  if (all.size() > 1000) {  // keep the map bounded on a long storm with many parties
    o.culprits.clear();
    all.resize(1000);
    for (const auto& c : all) o.culprits[culprit_key(c)] = c;
  }
  if (all.size() > options_.max_culprits) all.resize(options_.max_culprits);
  for (auto& c : all) c.share = total > 0 ? c.weight / total : 0;
  inc.culprits = std::move(all);
  if (f.score >= inc.peak || inc.summary.empty()) {
    inc.peak = f.score;
    inc.summary = f.summary;
    if (!f.target.empty()) inc.target = f.target;
    inc.evidence["peak"] = f.evidence;
  }
  if (!inc.evidence.contains("first")) inc.evidence["first"] = f.evidence;
  (void)bucket;
  o.changed = true;
}

void IncidentManager::close(Open& o, const std::string& reason) {
  o.inc.end_ms = o.inc.last_seen_ms;
  o.inc.close_reason = reason;
}

void IncidentManager::persist(const Incident& i) {
  if (!store_) return;
  auto r = store_->put(i);
  if (!r) {
    ++store_errors_;
    log::warn("incidents: cannot store {}: {}", i.id, r.error().message);
  }
}

void IncidentManager::on_bucket(int64_t bucket, int64_t interval_ms, std::vector<detect::Finding>& findings) {
  const int64_t end = bucket + interval_ms;
  std::vector<std::pair<Incident, Change>> notify;
  std::vector<Listener> listeners;
  {
    std::lock_guard lock(mu_);
    std::set<std::string> judged, opened_now;
    for (auto& f : findings) {
      judged.insert(f.key);
      auto it = open_.find(f.key);
      if (f.state == detect::State::Anomalous) {
        Change change = Change::Updated;
        if (it == open_.end()) {
          Open o;
          o.inc.kind = f.kind;
          o.inc.key = f.key;
          o.inc.fs = f.fs;
          o.inc.target = f.target;
          o.inc.start_ms = bucket;
          o.inc.detected_ms = end;
          o.inc.id = make_incident_id(f.kind, bucket, f.key);
          it = open_.emplace(f.key, std::move(o)).first;
          change = Change::Opened;
        }
        apply(it->second, f, bucket, end);
        if (change == Change::Opened) opened_now.insert(it->second.inc.id);
      } else if (it != open_.end()) {
        (f.state == detect::State::Quiet ? it->second.quiet_ms : it->second.unknown_ms) += interval_ms;
      }
    }
    for (auto it = open_.begin(); it != open_.end();) {
      Open& o = it->second;
      if (!judged.count(it->first)) o.unknown_ms += interval_ms;
      bool quiet = o.quiet_ms >= quiet_for(o.inc.kind);
      bool silent = o.unknown_ms >= options_.max_unknown_ms || o.quiet_ms + o.unknown_ms >= options_.max_unknown_ms;
      // Priced from the store when it opens, as it grows, and one last time when it closes.
      if (opened_now.count(o.inc.id) || quiet || silent ||
          (o.changed && o.inc.last_seen_ms - o.priced_at >= options_.reprice_every_ms))
        price(o);
      if (opened_now.count(o.inc.id)) notify.push_back({o.inc, Change::Opened});
      if (quiet || silent) {
        close(o, quiet ? "quiet" : "no data");
        persist(o.inc);
        notify.push_back({o.inc, Change::Closed});
        if (options_.keep_closed_in_memory) closed_.push_back(o.inc);
        it = open_.erase(it);
        continue;
      }
      if (o.changed) {
        persist(o.inc);
        if (!opened_now.count(o.inc.id)) notify.push_back({o.inc, Change::Updated});
        o.changed = false;
      }
      ++it;
    }
    listeners = listeners_;
  }
  for (const auto& [inc, change] : notify)
    for (const auto& l : listeners) l(inc, change);
}

std::vector<Incident> IncidentManager::open_incidents() const {
  std::lock_guard lock(mu_);
  std::vector<Incident> out;
  for (const auto& [k, o] : open_) out.push_back(o.inc);
  return out;
}

std::vector<Incident> IncidentManager::closed_in_memory() const {
  std::lock_guard lock(mu_);
  return closed_;
}

std::map<std::pair<std::string, std::string>, int> IncidentManager::active() const {
  std::lock_guard lock(mu_);
  std::map<std::pair<std::string, std::string>, int> out;
  for (const auto& [k, o] : open_) ++out[{o.inc.kind, o.inc.fs}];
  return out;
}

std::map<std::pair<std::string, std::string>, double> IncidentManager::cost_totals() const {
  std::lock_guard lock(mu_);
  return cost_totals_;
}

}  // namespace ss::collector::incidents
