#include "agent/sources/lustre/lustre_source.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "agent/sources/lustre/import_format.h"
#include "agent/sources/lustre/job_stats_format.h"
#include "agent/sources/lustre/names.h"
#include "agent/sources/lustre/rpc_stats_format.h"
#include "agent/sources/lustre/scalar_format.h"
#include "agent/sources/lustre/stats_format.h"
#include "common/log.h"

namespace ss::agent {

using namespace std::string_view_literals;  // name == "x"sv compares sizes first: no strlen, rarely a memcmp
using lustre::ParamRequest;
using lustre::ParamValue;
using lustre::Stats;
using lustre::StatsCounter;

namespace {

Switch parse_switch(const config::Section& s, std::string_view key, Switch def) {
  if (!s.has(key)) return def;
  std::string v = s.string(key, "");
  if (v == "auto") return Switch::Auto;
  if (v == "true" || v == "yes" || v == "on") return Switch::On;
  if (v == "false" || v == "no" || v == "off") return Switch::Off;
  s.fail(key, fmt::format("expected auto, true or false, got \"{}\"", v));
}

constexpr double kUsec = 1e-6;

// Counters of one target, with repeated lines and several devices of one target (two mounts of the same
// file system) summed by name.
struct TargetStats {
  std::string fs, target;
  Stats stats;
  const StatsCounter* find(std::string_view name) const { return stats.find(name); }
};

void merge_into(Stats& into, const Stats& from) {
  for (const auto& c : from.counters) {
    auto it = std::find_if(into.counters.begin(), into.counters.end(), [&](const StatsCounter& m) { return m.name == c.name; });
    if (it == into.counters.end()) {
      into.counters.push_back(c);
      continue;
    }
    it->count += c.count;
    it->sum += c.sum;
    it->max = std::max(it->max, c.max);
    it->has_sum = it->has_sum || c.has_sum;
  }
}

bool has_repeats(const Stats& s) {
  for (size_t i = 1; i < s.counters.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (s.counters[i].name == s.counters[j].name) return true;
  return false;
}

// Appends samples without a family lookup per sample: the Lustre source knows each family's type from its
// name (counters end in _total), passes names as string literals and shares one label set between the
// samples of a target, or of a target and op.
class Emitter {
 public:
  explicit Emitter(Collection& out) : out_(out) {}
  void add(std::string_view name, const LabelSet& labels, double value) {
    SeriesType type = name.ends_with("_total") ? SeriesType::Counter : SeriesType::Gauge;
    out_.add_sample(Sample{name, labels, value, out_.t_ms(), type});
  }

 private:
  Collection& out_;
};

LabelSet set(Labels labels) { return make_label_set(std::move(labels)); }

bool is_latency(const StatsCounter& c) { return c.has_sum && c.unit == "usecs"; }

}  // namespace

Result<LustreConfig> parse_lustre_config(const config::Section& s) {
  return config::read([&] {
    s.allow_only({"enabled", "root", "lctl", "lctl_timeout", "client", "server", "capacity_interval", "state_interval",
                  "job_stats", "keep_open", "discovery_interval", "exports"});
    LustreConfig c;
    c.enabled = parse_switch(s, "enabled", Switch::Auto);
    c.reader.root = s.string("root", "/");
    if (c.reader.root.empty() || c.reader.root.front() != '/') s.fail("root", "must be an absolute path");
    c.reader.lctl = s.string("lctl", "lctl");
    c.reader.lctl_timeout_ms = s.duration_ms("lctl_timeout", 5'000);
    if (c.reader.lctl_timeout_ms == 0) s.fail("lctl_timeout", "must be positive");
    switch (parse_switch(s, "keep_open", Switch::Auto)) {
      case Switch::Auto: c.reader.keep_open = lustre::KeepOpen::Auto; break;
      case Switch::On: c.reader.keep_open = lustre::KeepOpen::On; break;
      case Switch::Off: c.reader.keep_open = lustre::KeepOpen::Off; break;
    }
    c.client = s.boolean("client", true);
    c.server = parse_switch(s, "server", Switch::Auto);
    c.capacity_interval_ms = s.duration_ms("capacity_interval", 60'000);
    c.state_interval_ms = s.duration_ms("state_interval", 60'000);
    c.discovery_interval_ms = s.duration_ms("discovery_interval", 60'000);
    auto e = s.child("exports");
    e.allow_only({"mdt", "obdfilter", "top_k", "interval"});
    c.exports.mdt = e.boolean("mdt", false);
    c.exports.obdfilter = e.boolean("obdfilter", false);
    int64_t export_k = e.integer("top_k", 20);
    if (export_k < 0 || export_k > 10'000) e.fail("top_k", "must be between 0 and 10000");
    c.exports.top_k = static_cast<size_t>(export_k);
    c.exports.interval_ms = e.duration_ms("interval", 60'000);
    auto j = s.child("job_stats");
    j.allow_only({"enabled", "top_k", "max_jobs", "interval"});
    c.job_stats.enabled = j.boolean("enabled", false);
    int64_t top_k = j.integer("top_k", 20);
    if (top_k < 0 || top_k > 10'000) j.fail("top_k", "must be between 0 and 10000");
    c.job_stats.top_k = static_cast<size_t>(top_k);
    int64_t max_jobs = j.integer("max_jobs", 20'000);
    if (max_jobs < 1) j.fail("max_jobs", "must be at least 1");
    c.job_stats.max_jobs = static_cast<size_t>(max_jobs);
    c.job_stats.interval_ms = j.duration_ms("interval", 0);
    return c;
  });
}

namespace {

// discovery_interval in the reader's terms: reads between two listings of a directory.
lustre::ReaderOptions reader_options(const LustreConfig& c) {
  lustre::ReaderOptions o = c.reader;
  o.relist_reads = std::max<int64_t>(1, c.discovery_interval_ms / std::max<int64_t>(1, c.agent_interval_ms));
  return o;
}

}  // namespace

LustreSource::LustreSource(LustreConfig config) : config_(std::move(config)), reader_(reader_options(config_)) {
  capacity_.interval_ms = config_.capacity_interval_ms;
  state_.interval_ms = config_.state_interval_ms;
  exports_.interval_ms = config_.exports.interval_ms;
}

size_t LustreSource::Slice::slot(std::string_view device) const { return lustre::target_hash(device) % count; }

// Spreading a slow group over the cycles of its interval keeps every cycle equally cheap: with a 60 s
// capacity_interval on a 10 s agent, each cycle reads a sixth of the targets' kbytes*/files* and each target
// is read once a minute. The first cycle reads everything so that every series is there from the start.
LustreSource::Slice LustreSource::slice_of(const SlowGroup& group, int64_t now) const {
  int64_t cycle = std::max<int64_t>(1, config_.agent_interval_ms);
  Slice s;
  s.count = group.interval_ms <= cycle ? 1 : static_cast<size_t>(group.interval_ms / cycle);
  s.index = static_cast<size_t>((now / cycle) % static_cast<int64_t>(s.count));
  s.all = !group.read_once || s.count == 1;
  return s;
}

// Replaces what the slice read (a target that is gone loses its series) and keeps the rest.
void LustreSource::refresh(SlowGroup& group, const Slice& slice, std::vector<CachedGauge>&& fresh) {
  if (slice.all) group.cache.clear();
  else std::erase_if(group.cache, [&](const CachedGauge& g) { return g.slot == slice.index; });
  group.cache.insert(group.cache.end(), std::make_move_iterator(fresh.begin()), std::make_move_iterator(fresh.end()));
  group.read_once = true;
}

void LustreSource::describe(Collection& out) const {
  using K = MetricKind;
  struct D {
    const char* name;
    K kind;
    const char* help;
  };
  static const D kFamilies[] = {
      {"lustre_client_rpc_wait_seconds_total", K::Counter, "Time client RPCs waited for their reply (osc/mdc stats req_waittime sum)"},
      {"lustre_client_rpcs_total", K::Counter, "Client RPCs sent (osc/mdc stats req_waittime count)"},
      {"lustre_client_ops_total", K::Counter, "Client RPCs per opcode (osc/mdc stats)"},
      {"lustre_client_op_wait_seconds_total", K::Counter, "Round-trip time of client RPCs per opcode (osc/mdc stats)"},
      {"lustre_client_bytes_total", K::Counter, "Bytes moved by client bulk RPCs (osc stats read_bytes/write_bytes)"},
      {"lustre_client_md_ops_total", K::Counter, "Client metadata operations per target (mdc md_stats)"},
      {"lustre_client_llite_ops_total", K::Counter, "File-system operations on the client mount (llite stats)"},
      {"lustre_client_llite_op_seconds_total", K::Counter, "Time spent in file-system operations on the client mount (llite stats, 2.14+)"},
      {"lustre_client_llite_bytes_total", K::Counter, "Bytes read and written through the client mount (llite stats)"},
      {"lustre_client_import_state", K::Gauge, "Connection state to the target in Lustre's numbering: 1 CLOSED, 2 NEW, 3 DISCONN, 4 CONNECTING, 5 REPLAY, 6 REPLAY_LOCKS, 7 REPLAY_WAIT, 8 RECOVER, 9 FULL, 10 EVICTED, 11 IDLE, 0 unknown"},
      {"lustre_client_import_healthy", K::Gauge, "1 when the connection to the target is FULL or IDLE"},
      {"lustre_client_rpcs_in_flight", K::Gauge, "RPCs in flight to the target now (import rpcs.inflight)"},
      {"lustre_client_rpc_timeouts_total", K::Counter, "RPC timeouts to the target (import rpcs.timeouts)"},
      {"lustre_client_io_rpcs_in_flight", K::Gauge, "Read, write and modify RPCs in flight now (rpc_stats)"},
      {"lustre_client_pending_pages", K::Gauge, "Dirty or read pages waiting for an RPC (rpc_stats)"},
      {"lustre_target_capacity_bytes", K::Gauge, "Size of the target (kbytestotal)"},
      {"lustre_target_available_bytes", K::Gauge, "Space available to users on the target (kbytesavail)"},
      {"lustre_target_free_bytes", K::Gauge, "Free space on the target including reserved blocks (kbytesfree)"},
      {"lustre_target_inodes", K::Gauge, "Inodes or objects of the target (filestotal)"},
      {"lustre_target_inodes_free", K::Gauge, "Free inodes or objects of the target (filesfree)"},
      {"lustre_mdt_ops_total", K::Counter, "Metadata operations served by the MDT (mdt md_stats)"},
      {"lustre_mdt_op_seconds_total", K::Counter, "Service time of metadata operations on the MDT (mdt md_stats, 2.14+)"},
      {"lustre_mdt_bytes_total", K::Counter, "Bytes read and written on the MDT (Data-on-MDT, mdt md_stats)"},
      {"lustre_ost_bytes_total", K::Counter, "Bytes read and written on the OST (obdfilter stats)"},
      {"lustre_ost_ops_total", K::Counter, "Operations served by the OST (obdfilter stats)"},
      {"lustre_ost_op_seconds_total", K::Counter, "Service time of operations on the OST (obdfilter stats, 2.14+)"},
      {"lustre_service_requests_total", K::Counter, "Requests handled by the server service (ost.OSS.*, mds.MDS.*, ldlm.services.* req_waittime count)"},
      {"lustre_service_request_wait_seconds_total", K::Counter, "Time requests waited in the service's queue before handling (req_waittime sum)"},
      {"lustre_service_queue_depth", K::Gauge, "Mean incoming queue depth seen by requests in the last interval (req_qdepth)"},
      {"lustre_service_active_requests", K::Gauge, "Mean requests being handled, seen by requests in the last interval (req_active)"},
      {"lustre_service_ops_total", K::Counter, "Requests per opcode handled by the service"},
      {"lustre_service_op_seconds_total", K::Counter, "Handling time per opcode in the service"},
      {"lustre_ldlm_locks", K::Gauge, "Locks held in the lock namespace (ldlm.namespaces.*.lock_count)"},
      {"lustre_export_ops_total", K::Counter, "Operations per client node on the target (exports stats; top-K clients by recent ops, the rest as client=\"other\")"},
      {"lustre_job_ops_total", K::Counter, "Operations per job on the target (job_stats; top-K jobs by recent ops, the rest as job=\"other\")"},
      {"stormscope_lustre_skipped_lines_total", K::Counter, "Lines of Lustre statistics the parsers did not understand (skipped, not fatal)"},
      {"stormscope_lustre_job_stats_truncated_total", K::Counter, "job_stats reads cut short by the per-cycle work cap (max_jobs)"},
      {"stormscope_lustre_lctl_runs_total", K::Counter, "lctl get_param runs for parameters whose files were not readable (the cycle's one run and each job_stats directory's)"},
      {"stormscope_lustre_open_files", K::Gauge, "Lustre parameter files kept open between cycles (keep_open)"},
  };
  for (const auto& d : kFamilies) out.describe(d.name, d.kind, d.help);
}

Result<void> LustreSource::collect(Collection& out) {
  describe(out);
  Emitter emit(out);
  out.samples().reserve(out.samples().size() + last_sample_count_ + 64);
  const int64_t now = out.t_ms();
  auto dir_present = [&](std::string_view d) { return reader_.has_dir(d); };
  bool client = config_.client && (dir_present("osc") || dir_present("mdc") || dir_present("llite"));
  bool server = config_.server == Switch::On ||
                (config_.server == Switch::Auto && (dir_present("mdt") || dir_present("obdfilter") ||
                                                    dir_present("ost") || dir_present("mds")));
  const Slice capacity_slice = slice_of(capacity_, now), state_slice = slice_of(state_, now),
              exports_slice = slice_of(exports_, now);

  enum class What { OscStats, MdcStats, MdcMdStats, Llite, Import, Rpc, Capacity, Locks, Service, MdtMd, Obdfilter, Exports };
  std::vector<ParamRequest> reqs;
  std::vector<What> what;
  auto want = [&](std::string dir, std::string param, What w, const Slice* slice = nullptr) {
    // What is read every cycle keeps its files open; slow groups would hold thousands of files for one read
    // a minute.
    reqs.push_back(ParamRequest{std::move(dir), std::move(param), {}, slice == nullptr});
    if (slice && !slice->all) reqs.back().slice = {slice->count, slice->index};
    what.push_back(w);
  };
  static const char* kCapacity[] = {"kbytestotal", "kbytesavail", "kbytesfree", "filestotal", "filesfree"};
  if (server) {
    for (const char* svc : {"ost/OSS", "mds/MDS", "ldlm/services"}) want(svc, "stats", What::Service);
    want("mdt", "md_stats", What::MdtMd);
    want("obdfilter", "stats", What::Obdfilter);
    for (const char* osd : {"osd-ldiskfs", "osd-zfs"})
      for (const char* p : kCapacity) want(osd, p, What::Capacity, &capacity_slice);
    // Exports of the targets read last cycle, this cycle's slice of them: "mdt/ai0-MDT0000/exports".
    for (const auto& [dir, device] : server_targets_) {
      if (!(dir == "mdt" ? config_.exports.mdt : config_.exports.obdfilter)) continue;
      if (!exports_slice.all && exports_slice.slot(device) != exports_slice.index) continue;
      want(dir + "/" + device + "/exports", "stats", What::Exports);
      reqs.back().keep_open = false;  // one read per interval
    }
  }
  if (client) {
    want("osc", "stats", What::OscStats);
    want("mdc", "stats", What::MdcStats);
    want("mdc", "md_stats", What::MdcMdStats);
    want("llite", "stats", What::Llite);
    want("osc", "import", What::Import, &state_slice);
    want("mdc", "import", What::Import, &state_slice);
    want("osc", "rpc_stats", What::Rpc, &state_slice);
    want("mdc", "rpc_stats", What::Rpc, &state_slice);
    for (const char* dev : {"osc", "mdc"})
      for (const char* p : kCapacity) want(dev, p, What::Capacity, &capacity_slice);
  }
  if (client || server) want("ldlm/namespaces", "lock_count", What::Locks, &state_slice);

  const auto& batch = reader_.read(reqs);
  // Capacity, import, rpc_stats and lock counts go through caches re-exported between reads.
  std::vector<CachedGauge> capacity_fresh, state_fresh, exports_fresh;
  std::vector<std::pair<std::string, std::string>> server_targets;
  auto keep = [&](std::string_view name, LabelSet labels, double v, std::string_view device) {
    state_fresh.push_back(CachedGauge{name, std::move(labels), v, state_slice.slot(device)});
  };

  auto parse = [&](const std::string& text) {
    // Samples carry the agent's clock: Lustre's snapshot_time is not trusted (since boot in 2.15.0/2.15.1).
    Stats s = lustre::parse_stats(text, lustre::HeaderTimes::Skip);
    skipped_lines_ += s.skipped_lines;
    return s;
  };
  // Devices grouped by target, so that two mounts of one file system give one series per target. Each
  // target is parsed and handed to `fn` at once, so one target's counters are in memory at a time.
  auto for_each_target = [&](const std::vector<ParamValue>& values, const auto& fn) {
    std::vector<std::pair<std::string_view, const ParamValue*>> order;  // target → value
    order.reserve(values.size());
    for (const auto& v : values)
      if (auto t = lustre::target_in(v.device); !t.empty()) order.emplace_back(t, &v);
    std::sort(order.begin(), order.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 0; i < order.size();) {
      auto name = lustre::target_of(order[i].second->device);
      TargetStats ts{std::move(name->fs), std::move(name->target), parse(order[i].second->text)};
      size_t j = i + 1;
      for (; j < order.size() && order[j].first == order[i].first; ++j) merge_into(ts.stats, parse(order[j].second->text));
      if (j > i + 1 || has_repeats(ts.stats)) {
        Stats folded;
        merge_into(folded, ts.stats);
        ts.stats.counters = std::move(folded.counters);
      }
      fn(ts);
      i = j;
    }
  };
  // One value per target: server osd values (read first) win over the client's view of a target, and a
  // second mount of a file system repeats the first. Target names are views into `batch`.
  std::map<std::string_view, std::unordered_set<std::string_view>> capacity_seen;

  for (size_t r = 0; r < reqs.size(); ++r) {
    const auto& values = batch.values[r];
    switch (what[r]) {
      case What::OscStats:
      case What::MdcStats:
        for_each_target(values, [&](const TargetStats& ts) {
          auto& tl = targets_.get(ts.fs, ts.target);
          const LabelSet& base = tl.base;
          for (const auto& c : ts.stats.counters) {
            if (c.name == "req_waittime"sv) {
              emit.add("lustre_client_rpcs_total", base, static_cast<double>(c.count));
              if (c.has_sum) emit.add("lustre_client_rpc_wait_seconds_total", base, static_cast<double>(c.sum) * kUsec);
            } else if (c.name == "req_active"sv) {
              continue;
            } else if (c.name == "read_bytes"sv || c.name == "write_bytes"sv) {
              emit.add("lustre_client_bytes_total", tl.op(c.name == "read_bytes"sv ? "read" : "write"), static_cast<double>(c.sum));
            } else {
              const LabelSet& l = tl.op(c.name);
              if (is_latency(c)) emit.add("lustre_client_op_wait_seconds_total", l, static_cast<double>(c.sum) * kUsec);
              emit.add("lustre_client_ops_total", l, static_cast<double>(c.count));
            }
          }
        });
        break;
      case What::MdcMdStats:
        for_each_target(values, [&](const TargetStats& ts) {
          auto& tl = targets_.get(ts.fs, ts.target);
          for (const auto& c : ts.stats.counters) emit.add("lustre_client_md_ops_total", tl.op(c.name), static_cast<double>(c.count));
        });
        break;
      case What::Llite: {
        std::map<std::string, Stats> mounts;
        for (const auto& v : values) merge_into(mounts[lustre::llite_fsname(v.device)], parse(v.text));
        for (const auto& [fs, m] : mounts) {
          for (const auto& c : m.counters) {
            if (c.name == "read_bytes"sv || c.name == "write_bytes"sv) {
              const char* op = c.name == "read_bytes"sv ? "read" : "write";
              LabelSet l = set({{"fs", fs}, {"op", op}});
              if (c.has_sum) emit.add("lustre_client_llite_bytes_total", l, static_cast<double>(c.sum));
              // Before 2.14 there is no read/write line: the bytes line counts the calls.
              if (!m.find(op)) emit.add("lustre_client_llite_ops_total", l, static_cast<double>(c.count));
              continue;
            }
            LabelSet l = set({{"fs", fs}, {"op", c.name}});
            if (is_latency(c)) emit.add("lustre_client_llite_op_seconds_total", l, static_cast<double>(c.sum) * kUsec);
            emit.add("lustre_client_llite_ops_total", l, static_cast<double>(c.count));
          }
        }
        break;
      }
      case What::Import: {
        struct Agg {
          std::string fs;
          std::string_view device;  // one of the target's devices, for its slot
          int state = 0;
          bool healthy = true;
          uint64_t inflight = 0, timeouts = 0;
          bool have_inflight = false, have_timeouts = false;
        };
        std::map<std::string, Agg> targets;
        for (const auto& v : values) {
          auto t = lustre::target_of(v.device);
          if (!t) continue;
          auto imp = lustre::parse_import(v.text);
          skipped_lines_ += imp.skipped_lines;
          int code = lustre::import_state_code(imp.state);
          bool healthy = imp.state == "FULL" || imp.state == "IDLE";
          auto [it, fresh] = targets.try_emplace(t->target);
          Agg& a = it->second;
          a.fs = t->fs;
          a.device = v.device;
          if (fresh || (a.healthy && !healthy)) a.state = code;  // the worst connection shows
          a.healthy = a.healthy && healthy;
          if (imp.inflight) a.inflight += *imp.inflight, a.have_inflight = true;
          if (imp.timeouts) a.timeouts += *imp.timeouts, a.have_timeouts = true;
        }
        for (const auto& [target, a] : targets) {
          const LabelSet& l = targets_.get(a.fs, target).base;
          keep("lustre_client_import_state", l, a.state, a.device);
          keep("lustre_client_import_healthy", l, a.healthy ? 1 : 0, a.device);
          if (a.have_inflight) keep("lustre_client_rpcs_in_flight", l, static_cast<double>(a.inflight), a.device);
          if (a.have_timeouts) keep("lustre_client_rpc_timeouts_total", l, static_cast<double>(a.timeouts), a.device);
        }
        break;
      }
      case What::Rpc: {
        struct Agg {
          std::string fs;
          std::string_view device;
          std::map<std::string_view, std::pair<uint64_t, uint64_t>> by_op;  // op → in flight, pending pages
        };
        std::map<std::string, Agg> targets;
        for (const auto& v : values) {
          auto t = lustre::target_of(v.device);
          if (!t) continue;
          auto rs = lustre::parse_rpc_stats(v.text);
          skipped_lines_ += rs.skipped_lines;
          Agg& a = targets[t->target];
          a.fs = t->fs;
          a.device = v.device;
          auto put = [&](std::string_view op, const std::optional<uint64_t>& in_flight, const std::optional<uint64_t>& pages) {
            if (!in_flight && !pages) return;
            auto& [f, p] = a.by_op[op];
            f += in_flight.value_or(0);
            p += pages.value_or(0);
          };
          put("read", rs.read_in_flight, rs.pending_read_pages);
          put("write", rs.write_in_flight, rs.pending_write_pages);
          put("modify", rs.modify_in_flight, std::nullopt);
        }
        for (const auto& [target, a] : targets) {
          for (const auto& [op, fp] : a.by_op) {
            const LabelSet& l = targets_.get(a.fs, target).op(op);
            keep("lustre_client_io_rpcs_in_flight", l, static_cast<double>(fp.first), a.device);
            if (op != "modify") keep("lustre_client_pending_pages", l, static_cast<double>(fp.second), a.device);
          }
        }
        break;
      }
      case What::Capacity: {
        const std::string& p = reqs[r].param;
        const char* name = p == "kbytestotal"   ? "lustre_target_capacity_bytes"
                           : p == "kbytesavail" ? "lustre_target_available_bytes"
                           : p == "kbytesfree"  ? "lustre_target_free_bytes"
                           : p == "filestotal"  ? "lustre_target_inodes"
                                                : "lustre_target_inodes_free";
        double scale = p.starts_with("kbytes") ? 1024.0 : 1.0;
        for (const auto& v : values) {
          auto t = lustre::target_of(v.device);
          auto n = lustre::parse_scalar(v.text);
          if (!n) ++skipped_lines_;
          if (!t || !n) continue;
          if (!capacity_seen[name].insert(lustre::target_in(v.device)).second) continue;
          capacity_fresh.push_back(CachedGauge{name, targets_.get(t->fs, t->target).base,
                                               static_cast<double>(*n) * scale, capacity_slice.slot(v.device)});
        }
        break;
      }
      case What::Locks:
        for (const auto& v : values) {
          auto n = lustre::parse_scalar(v.text);
          if (!n) {
            ++skipped_lines_;
            continue;
          }
          auto t = lustre::target_of(v.device);
          keep("lustre_ldlm_locks",
               t ? set({{"fs", t->fs}, {"namespace", v.device}, {"target", t->target}}) : set({{"namespace", v.device}}),
               static_cast<double>(*n), v.device);
        }
        break;
      case What::Service:
        for (const auto& v : values) {
          Stats s = parse(v.text);
          const std::string& svc = v.device;
          LabelSet l = set({{"service", svc}});
          for (const auto& c : s.counters) {
            if (c.name == "req_waittime"sv) {
              emit.add("lustre_service_requests_total", l, static_cast<double>(c.count));
              if (c.has_sum) emit.add("lustre_service_request_wait_seconds_total", l, static_cast<double>(c.sum) * kUsec);
            } else if (c.name == "req_qdepth"sv || c.name == "req_active"sv) {
              // Each request samples the depth when it arrives: Δsum/Δcount is the mean over the interval.
              Mean& prev = previous_means_[svc + "\n" + c.name];
              double dc = static_cast<double>(c.count) - prev.count, ds = static_cast<double>(c.sum) - prev.sum;
              bool have_prev = prev.count > 0;
              prev = Mean{static_cast<double>(c.count), static_cast<double>(c.sum)};
              if (!have_prev || dc < 0 || ds < 0) continue;  // first read or a reset: no interval to average
              emit.add(c.name == "req_qdepth"sv ? "lustre_service_queue_depth" : "lustre_service_active_requests", l,
                       dc > 0 ? ds / dc : 0.0);
            } else if (c.name == "req_timeout"sv || c.name == "reqbuf_avail"sv) {
              continue;
            } else {
              LabelSet lo = set({{"op", c.name}, {"service", svc}});
              if (is_latency(c)) emit.add("lustre_service_op_seconds_total", lo, static_cast<double>(c.sum) * kUsec);
              emit.add("lustre_service_ops_total", lo, static_cast<double>(c.count));
            }
          }
        }
        break;
      case What::MdtMd:
        for (const auto& v : values) server_targets.emplace_back("mdt", v.device);
        for_each_target(values, [&](const TargetStats& ts) {
          auto& tl = targets_.get(ts.fs, ts.target);
          for (const auto& c : ts.stats.counters) {
            if ((c.name == "read_bytes"sv || c.name == "write_bytes"sv) && c.has_sum) {
              emit.add("lustre_mdt_bytes_total", tl.op(c.name == "read_bytes"sv ? "read" : "write"), static_cast<double>(c.sum));
              continue;
            }
            const LabelSet& l = tl.op(c.name);
            if (is_latency(c)) emit.add("lustre_mdt_op_seconds_total", l, static_cast<double>(c.sum) * kUsec);
            emit.add("lustre_mdt_ops_total", l, static_cast<double>(c.count));
          }
        });
        break;
      case What::Obdfilter:
        for (const auto& v : values) server_targets.emplace_back("obdfilter", v.device);
        for_each_target(values, [&](const TargetStats& ts) {
          auto& tl = targets_.get(ts.fs, ts.target);
          for (const auto& c : ts.stats.counters) {
            if (c.name == "read_bytes"sv || c.name == "write_bytes"sv) {
              if (c.has_sum)
                emit.add("lustre_ost_bytes_total", tl.op(c.name == "read_bytes"sv ? "read" : "write"), static_cast<double>(c.sum));
              continue;
            }
            const LabelSet& l = tl.op(c.name);
            if (is_latency(c)) emit.add("lustre_ost_op_seconds_total", l, static_cast<double>(c.sum) * kUsec);
            emit.add("lustre_ost_ops_total", l, static_cast<double>(c.count));
          }
        });
        break;
      case What::Exports: {
        // reqs[r].dir is "<dir>/<device>/exports"; each value is one client's (NID's) stats.
        std::string key = reqs[r].dir.substr(0, reqs[r].dir.size() - std::string_view("/exports").size());
        std::string_view device = std::string_view(key).substr(key.find('/') + 1);
        auto t = lustre::target_of(device);
        if (!t) break;
        auto& top = export_tops_[key];
        if (!top) top = std::make_unique<lustre::JobTopK>(config_.exports.top_k);
        for (const auto& v : values) {
          Stats st = parse(v.text);
          lustre::Job client;
          client.id = v.device;
          for (const auto& c : st.counters) {  // read_bytes/write_bytes: JobTopK::add's rule
            lustre::JobCounter op;
            op.op = c.name;
            op.samples = static_cast<uint64_t>(c.count);
            client.counters.push_back(std::move(op));
          }
          top->add(client, now);
        }
        for (auto& row : top->finish(now))
          exports_fresh.push_back(CachedGauge{"lustre_export_ops_total",
                                              set({{"client", std::move(row.job)}, {"fs", t->fs}, {"op", std::move(row.op)}, {"target", t->target}}),
                                              row.value, exports_slice.slot(device)});
        break;
      }
    }
  }
  refresh(capacity_, capacity_slice, std::move(capacity_fresh));
  refresh(state_, state_slice, std::move(state_fresh));
  if (!server_targets_.empty() || exports_.read_once) {
    // A target that is gone (failed over to the partner server) takes its client series with it.
    std::erase_if(export_tops_, [&](const auto& kv) {
      return std::none_of(server_targets.begin(), server_targets.end(),
                          [&](const auto& t) { return kv.first == t.first + "/" + t.second; });
    });
    refresh(exports_, exports_slice, std::move(exports_fresh));
  }
  server_targets_ = std::move(server_targets);
  for (const SlowGroup* group : {&capacity_, &state_, &exports_})
    for (const auto& g : group->cache) emit.add(g.name, g.labels, g.value);

  std::vector<std::string> errors = batch.errors;
  if (server && config_.job_stats.enabled) collect_job_stats(out, errors);

  const LabelSet none = set({});
  emit.add("stormscope_lustre_skipped_lines_total", none, static_cast<double>(skipped_lines_));
  emit.add("stormscope_lustre_lctl_runs_total", none, static_cast<double>(reader_.lctl_runs()));
  emit.add("stormscope_lustre_open_files", none, static_cast<double>(reader_.open_files()));
  if (config_.job_stats.enabled)
    emit.add("stormscope_lustre_job_stats_truncated_total", none, static_cast<double>(jobs_truncated_));
  last_sample_count_ = out.samples().size();
  targets_.end_cycle();
  if (!errors.empty()) {
    for (const auto& e : errors) log::debug("lustre: {}", e);
    if (errors.size() == 1) return Error{errors.front()};
    return errorf("{} (and {} more problems)", errors.front(), errors.size() - 1);
  }
  return ok();
}

void LustreSource::collect_job_stats(Collection& out, std::vector<std::string>& errors) {
  const int64_t now = out.t_ms();
  Emitter emit(out);
  bool due = last_job_read_ms_ == 0 || config_.job_stats.interval_ms == 0 ||
             now - last_job_read_ms_ >= config_.job_stats.interval_ms;
  if (due) {
    last_job_read_ms_ = now;
    job_rows_.clear();
    std::set<std::string> seen_targets;
    for (const char* dir : {"mdt", "obdfilter"}) {
      std::string current;  // the device being parsed
      std::unique_ptr<lustre::JobStatsParser> parser;
      lustre::JobTopK* top = nullptr;
      size_t taken = 0;
      auto finish_device = [&] {
        if (!parser) return;
        parser->finish();
        skipped_lines_ += parser->skipped_lines();
        if (parser->stopped()) ++jobs_truncated_;
        parser.reset();
      };
      auto r = reader_.stream(ParamRequest{dir, "job_stats", {}}, [&](std::string_view device, std::string_view chunk) {
        if (chunk.empty()) {
          finish_device();
          return;
        }
        if (!parser || device != current) {
          finish_device();
          current = std::string(device);
          auto t = lustre::target_of(current);
          if (!t) return;
          seen_targets.insert(t->target);
          auto& slot = jobs_[t->target];
          if (!slot) slot = std::make_unique<lustre::JobTopK>(config_.job_stats.top_k);
          top = slot.get();
          taken = 0;
          parser = std::make_unique<lustre::JobStatsParser>([&, top](lustre::Job&& job) {
            top->add(job, now);
            return ++taken < config_.job_stats.max_jobs;
          });
        }
        parser->feed(chunk);
      });
      finish_device();
      if (!r) errors.push_back(r.error().message);
    }
    // A target that is gone (failed over to the partner server) takes its job series with it.
    std::erase_if(jobs_, [&](const auto& kv) { return !seen_targets.count(kv.first); });
    for (auto& [target, top] : jobs_) {
      auto t = lustre::target_of(target);
      for (auto& row : top->finish(now))
        job_rows_.push_back(CachedGauge{"lustre_job_ops_total",
                                        set({{"fs", t ? t->fs : ""}, {"job", std::move(row.job)}, {"op", std::move(row.op)}, {"target", target}}),
                                        row.value});
    }
  }
  for (const auto& g : job_rows_) emit.add(g.name, g.labels, g.value);
}

Result<std::unique_ptr<Source>> make_lustre_source(const config::Section& section, const AgentContext& ctx) {
  auto cfg = parse_lustre_config(section);
  if (!cfg) return cfg.error();
  cfg->agent_interval_ms = ctx.interval_ms;
  if (cfg->enabled == Switch::Off) return std::unique_ptr<Source>();
  auto source = std::make_unique<LustreSource>(std::move(*cfg));
  if (source->config().enabled == Switch::Auto && !source->lustre_present()) {
    log::info("lustre: no Lustre tree under {}; source off (set sources.lustre.enabled: true to force)",
              source->config().reader.root);
    return std::unique_ptr<Source>();
  }
  return std::unique_ptr<Source>(std::move(source));
}

}  // namespace ss::agent
