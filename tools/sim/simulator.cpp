#include "tools/sim/simulator.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <unordered_map>

namespace ss::collector::sim {

namespace {

constexpr int64_t kDayMs = 86'400'000;
const char* const kComms[] = {"python", "find", "du", "rsync", "ls", "tar"};

struct FsModel {
  std::string name, mdt;
  std::vector<std::string> osts;
  std::map<std::string, double> fill;  // target → base fill fraction
  std::map<std::string, double> base_wait_s;
  double capacity_ost = 100e12, capacity_mdt = 4e12;
};

struct Job {
  std::string id, fs, dataset, ckpt_dir;
  std::vector<int> nodes;
  double util = 0.9;
  double stat = 300, open = 150, readdir = 5;  // ops/s per node
  double read_bps = 400e6, write_bps = 2e6;    // bytes/s per node
  int64_t end_ms = INT64_MAX;                  // the job ends (GPUs idle, its series stop)
  int64_t begin_ms = INT64_MIN;
};

// One series of a node: cumulative value for counters, last value for gauges.
struct Slot {
  Series series;
  double value = 0;
  bool touched = false;
};

struct NodeState {
  std::string name;
  std::unordered_map<std::string, size_t> index;
  std::vector<Slot> slots;
  std::vector<Event> events;
  uint64_t seq = 0;
  std::string stream;
};

// What the injections do to the cluster at one instant.
struct Effects {
  std::map<std::string, double> fs_gpu_factor;        // fs → GPU utilization factor for its jobs
  std::map<std::string, double> job_gpu_override;     // job → utilization (stall, eval, restart)
  std::map<std::string, double> target_extra_wait_s;  // target → added mean wait
  std::map<std::string, double> fs_ost_extra_wait_s;  // fs → added wait on every OST
  std::map<std::string, double> job_md_factor, job_read_factor;
  double cluster_md_factor = 1;  // every node's metadata and read load (a cluster-wide ramp)
  std::map<std::string, double> job_write_bps;        // job → extra bytes/s per node
  struct Storm {
    std::string fs, job, comm, path;
    std::set<int> nodes;
    double ops = 0;  // extra ops/s per node
  };
  std::vector<Storm> storms;
  std::map<int, double> node_extra_read_bps;  // node → bytes/s (sequential read on ai0 style fs)
  std::map<int, std::string> node_read_fs;
  std::set<int> silent;                        // not reporting
  std::map<int, double> node_gpu_override;     // node → utilization (after a reboot)
};

}  // namespace

namespace {
nlohmann::json victims_json(const std::vector<TruthVictim>& victims) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& v : victims)
    out.push_back({{"job", v.job}, {"nodes", v.nodes}, {"gpu_idle_seconds", v.gpu_idle_seconds}, {"cost_usd", v.cost_usd}});
  return out;
}
}  // namespace

nlohmann::json to_json(const GroundTruth& t) {
  nlohmann::json entries = nlohmann::json::array();
  for (const auto& e : t.entries)
    entries.push_back({{"kind", e.kind},
                       {"confounder", e.confounder},
                       {"start", e.start_ms},
                       {"end", e.end_ms},
                       {"fs", e.fs},
                       {"target", e.target},
                       {"job", e.job},
                       {"node", e.node},
                       {"comm", e.comm},
                       {"path", e.path},
                       {"nodes", e.nodes},
                       {"also", e.also},
                       {"note", e.note},
                       {"gpu_idle_seconds", e.gpu_idle_seconds},
                       {"cost_usd", e.cost_usd},
                       {"victims", victims_json(e.victims)}});
  const auto& o = t.options;
  return {{"options",
           {{"seed", o.seed},
            {"start", o.start_ms},
            {"duration_ms", o.duration_ms},
            {"interval_ms", o.interval_ms},
            {"nodes", o.nodes},
            {"gpus_per_node", o.gpus_per_node},
            {"scenario", o.scenario},
            {"delivery", o.delivery}}},
          {"entries", entries}};
}

Result<GroundTruth> ground_truth_from_json(const nlohmann::json& j) {
  try {
    GroundTruth t;
    const auto& o = j.at("options");
    t.options.seed = o.at("seed").get<uint64_t>();
    t.options.start_ms = o.at("start").get<int64_t>();
    t.options.duration_ms = o.at("duration_ms").get<int64_t>();
    t.options.interval_ms = o.at("interval_ms").get<int64_t>();
    t.options.nodes = o.at("nodes").get<int>();
    t.options.gpus_per_node = o.at("gpus_per_node").get<int>();
    t.options.scenario = o.at("scenario").get<std::string>();
    t.options.delivery = o.value("delivery", "interval");
    for (const auto& e : j.at("entries")) {
      TruthEntry x;
      x.kind = e.at("kind").get<std::string>();
      x.confounder = e.at("confounder").get<bool>();
      x.start_ms = e.at("start").get<int64_t>();
      x.end_ms = e.at("end").get<int64_t>();
      x.fs = e.value("fs", "");
      x.target = e.value("target", "");
      x.job = e.value("job", "");
      x.node = e.value("node", "");
      x.comm = e.value("comm", "");
      x.path = e.value("path", "");
      x.nodes = e.value("nodes", std::vector<std::string>{});
      x.also = e.value("also", std::vector<std::string>{});
      x.note = e.value("note", "");
      x.gpu_idle_seconds = e.value("gpu_idle_seconds", 0.0);
      x.cost_usd = e.value("cost_usd", 0.0);
      for (const auto& v : e.value("victims", nlohmann::json::array()))
        x.victims.push_back({v.at("job").get<std::string>(), v.at("nodes").get<std::vector<std::string>>(),
                             v.at("gpu_idle_seconds").get<double>(), v.at("cost_usd").get<double>()});
      t.entries.push_back(std::move(x));
    }
    return t;
  } catch (const nlohmann::json::exception& e) {
    return errorf("ground truth: {}", e.what());
  }
}

Result<void> validate(const SimOptions& o) {
  if (o.interval_ms < 1000) return Error{"interval must be at least 1s"};
  if (o.duration_ms < o.interval_ms) return Error{"duration must be at least one interval"};
  if (o.nodes < 4 || o.nodes > 10000) return Error{"nodes must be between 4 and 10000"};
  if (o.gpus_per_node < 1 || o.gpus_per_node > 16) return Error{"gpus per node must be between 1 and 16"};
  if (o.start_ms < kMinTimestampMs || o.start_ms > kMaxTimestampMs) return Error{"start time out of range"};
  if (o.slot_ms < 10 * o.interval_ms) return Error{"slot must be at least 10 intervals"};
  static const std::set<std::string> scenarios = {"mixed", "incidents", "confounders", "quiet"};
  if (!scenarios.count(o.scenario)) return errorf("unknown scenario {:?} (mixed, incidents, confounders, quiet)", o.scenario);
  if (o.delivery != "interval" && o.delivery != "batched")
    return errorf("unknown delivery {:?} (interval, batched)", o.delivery);
  if (o.max_batch < 1 || o.max_batch > 1000) return Error{"max batch must be between 1 and 1000 samples"};
  return ok();
}

struct Simulator::Impl {
  SimOptions o;
  std::mt19937_64 rng;
  std::vector<FsModel> fs;
  std::vector<Job> jobs;
  std::vector<NodeState> nodes;
  std::vector<NodeState> servers;  // one per fs: MDS-side stats and target fill
  std::vector<std::vector<std::string>> node_jobs_unused;
  GroundTruth truth;
  struct Imbalance {
    std::string fs, ost;
    int64_t ramp_start = 0, ramp_end = 0, release = 0;
    double from = 0, to = 0;
    size_t truth_index = 0;
    bool onset_seen = false, ended = false;
  };
  std::vector<Imbalance> imbalances;
  std::vector<std::pair<int64_t, std::function<void(int64_t)>>> instant_actions;  // resets at a time
  std::set<std::pair<int64_t, size_t>> done_actions;
  double daily_phase = 0;
  std::map<std::string, std::vector<Point>> gpu_points;  // node/gpu → every emitted point

  // Batched delivery: each agent's samples wait in its outbox until it holds `size` of them (the first
  // time `phase`), or until the outage ends, and go out merged into one batch of many points a series.
  struct Outbox {
    std::vector<Batch> queue;
    size_t size = 1, due = 1;
  };
  std::map<std::string, Outbox> outboxes;
  std::mt19937_64 delivery_rng;  // its own, so that both deliveries carry the same samples
  int64_t outage_start = INT64_MAX, outage_end = INT64_MAX;

  explicit Impl(SimOptions options) : o(std::move(options)), rng(o.seed), delivery_rng(o.seed ^ 0x5eed0fba7c4ULL) {
    build();
    if (o.delivery == "batched" && o.duration_ms > o.warmup_ms + o.outage_ms) {
      std::uniform_int_distribution<int64_t> when(o.start_ms + o.warmup_ms, o.start_ms + o.duration_ms - o.outage_ms);
      outage_start = when(delivery_rng);
      outage_end = outage_start + o.outage_ms;
    }
  }

  double uniform(double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); }
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  double noise(double sd) { return std::max(0.0, 1.0 + std::normal_distribution<double>(0, sd)(rng)); }

  std::string node_name(int i) const { return fmt::format("gpu{:03d}", i + 1); }

  void build() {
    daily_phase = uniform(0, 2 * std::numbers::pi);
    for (int f = 0; f < 2; ++f) {
      FsModel m;
      m.name = fmt::format("ai{}", f);
      m.mdt = m.name + "-MDT0000";
      int osts = f == 0 ? 8 : 4;
      for (int i = 0; i < osts; ++i) m.osts.push_back(fmt::format("{}-OST{:04X}", m.name, i));
      m.base_wait_s[m.mdt] = uniform(0.0005, 0.0015);
      m.fill[m.mdt] = uniform(0.2, 0.4);
      for (const auto& t : m.osts) {
        m.base_wait_s[t] = uniform(0.002, 0.006);
        m.fill[t] = uniform(0.55, 0.65);
      }
      fs.push_back(std::move(m));
    }
    for (int i = 0; i < o.nodes; ++i) {
      NodeState n;
      n.name = node_name(i);
      n.stream = fmt::format("sim{:x}", o.seed);
      nodes.push_back(std::move(n));
    }
    for (const auto& m : fs) {
      NodeState n;
      n.name = m.name + "-mds";
      n.stream = fmt::format("sim{:x}", o.seed);
      servers.push_back(std::move(n));
    }
    // Jobs of 2-16 nodes over about 80 % of the nodes; the rest idle.
    std::vector<int> order(o.nodes);
    for (int i = 0; i < o.nodes; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), rng);
    size_t next = 0, busy = static_cast<size_t>(o.nodes * 0.8);
    std::set<std::string> ids;
    while (next < busy) {
      Job j;
      do j.id = std::to_string(100000 + pick(900000));
      while (!ids.insert(j.id).second);
      static const int sizes[] = {2, 2, 3, 4, 4, 6, 8, 16};
      int size = std::min<int>(sizes[pick(8)], std::max(2, o.nodes / 3));
      for (int k = 0; k < size && next < busy; ++k) j.nodes.push_back(order[next++]);
      j.fs = fs[uniform(0, 1) < 0.65 ? 0 : 1].name;
      static const char* const sets[] = {"imagenet", "laion", "c4", "redpajama", "audioset", "kinetics", "coco"};
      j.dataset = fmt::format("/lustre/{}/datasets/{}-{}", j.fs, sets[pick(7)], j.id);
      j.ckpt_dir = fmt::format("/lustre/{}/ckpt/{}", j.fs, j.id);
      j.util = uniform(0.82, 0.96);
      j.stat = uniform(150, 400);
      j.open = uniform(80, 200);
      j.readdir = uniform(1, 8);
      j.read_bps = uniform(200e6, 800e6);
      j.write_bps = uniform(1e6, 5e6);
      jobs.push_back(std::move(j));
    }
    schedule();
  }

  Job* job_by_id(const std::string& id) {
    for (auto& j : jobs)
      if (j.id == id) return &j;
    return nullptr;
  }
  std::vector<std::string> names_of(const std::vector<int>& idx) {
    std::vector<std::string> out;
    for (int i : idx) out.push_back(node_name(i));
    return out;
  }
  std::vector<Job*> live_jobs(int64_t t) {
    std::vector<Job*> out;
    for (auto& j : jobs)
      if (j.end_ms > t + o.slot_ms && j.begin_ms <= t) out.push_back(&j);
    return out;
  }
  std::vector<int> idle_nodes(int64_t t) {
    std::set<int> busy;
    for (auto& j : jobs)
      if (j.begin_ms <= t + o.slot_ms && j.end_ms > t)
        for (int n : j.nodes) busy.insert(n);
    std::vector<int> out;
    for (int i = 0; i < o.nodes; ++i)
      if (!busy.count(i)) out.push_back(i);
    return out;
  }

  // Injections placed one per slot after the warm-up; the effects are looked up by time in effects().
  struct Injection {
    size_t truth_index;
    std::function<void(int64_t, Effects&)> apply;  // while start <= t < end
    int64_t start, end;
  };
  std::vector<Injection> injections;

  void schedule() {
    std::vector<std::string> plan;
    const std::vector<std::string> incident_kinds = {"metadata_storm", "waittime_spike", "checkpoint_stall"};
    const std::vector<std::string> confounders = {"load_ramp", "heavy_load",  "sequential_read", "job_start",
                                                  "counter_reset", "load_ramp", "node_reboot", "node_silent",
                                                  "job_end",   "eval_phase", "write_burst"};
    int64_t first = o.start_ms + o.warmup_ms, last = o.start_ms + o.duration_ms - o.slot_ms;
    size_t ci = pick(static_cast<int>(confounders.size())), ii = pick(static_cast<int>(incident_kinds.size()));
    int slot = 0;
    for (int64_t t = first; t <= last; t += o.slot_ms, ++slot) {
      if (o.scenario == "quiet") break;
      bool incident = o.scenario == "incidents" || (o.scenario == "mixed" && slot % 2 == 0);
      std::string kind = incident ? incident_kinds[ii++ % incident_kinds.size()] : confounders[ci++ % confounders.size()];
      // Start somewhere in the first third of the slot, off the interval grid.
      int64_t start = t + static_cast<int64_t>(uniform(0, o.slot_ms / 3.0));
      inject(kind, start);
    }
    // One OST fill imbalance per scenario with incidents: a slow ramp on the second file system.
    if (o.scenario == "mixed" || o.scenario == "incidents") {
      if (o.duration_ms >= o.warmup_ms + 60 * 60'000) {
        Imbalance im;
        im.fs = fs[1].name;
        im.ost = fs[1].osts[pick(static_cast<int>(fs[1].osts.size()))];
        im.ramp_start = o.start_ms + o.warmup_ms + static_cast<int64_t>(uniform(0, o.duration_ms / 4.0));
        im.ramp_end = im.ramp_start + static_cast<int64_t>(uniform(15, 30) * 60'000);
        im.release = std::min(im.ramp_end + static_cast<int64_t>(uniform(15, 30) * 60'000),
                              o.start_ms + o.duration_ms - 10 * 60'000);
        im.from = fs[1].fill[im.ost];
        im.to = uniform(0.92, 0.97);
        TruthEntry e;
        e.kind = "ost_imbalance";
        e.fs = im.fs;
        e.target = im.ost;
        e.start_ms = im.release;  // set to the real onset while running
        e.end_ms = im.release;
        e.note = fmt::format("{} fills from {:.0f}% to {:.0f}%", im.ost, 100 * im.from, 100 * im.to);
        im.truth_index = truth.entries.size();
        truth.entries.push_back(std::move(e));
        imbalances.push_back(im);
      }
    }
    truth.options = o;
  }

  void inject(const std::string& kind, int64_t start) {
    TruthEntry e;
    e.kind = kind;
    e.start_ms = start;
    auto jobs_now = live_jobs(start);
    if (jobs_now.empty()) return;
    Job* job = jobs_now[pick(static_cast<int>(jobs_now.size()))];
    if (kind == "metadata_storm") {
      int64_t dur = static_cast<int64_t>(uniform(3, 10) * 60'000);
      Effects::Storm s;
      s.fs = job->fs;
      s.job = job->id;
      s.comm = kComms[pick(6)];
      s.path = uniform(0, 1) < 0.5 ? fmt::format("{}/shard{}", job->dataset, pick(64))
                                   : fmt::format("/lustre/{}/home/u{}/small_files", job->fs, job->id);
      int count = std::min<int>(static_cast<int>(job->nodes.size()), 1 + pick(2));
      for (int k = 0; k < count; ++k) s.nodes.insert(job->nodes[k]);
      s.ops = uniform(8000, 40000) / count;
      double wait = uniform(0.12, 0.30);
      e.end_ms = start + dur;
      e.fs = s.fs;
      e.target = fs_model(s.fs).mdt;
      e.job = s.job;
      e.comm = s.comm;
      e.path = s.path;
      e.node = node_name(*s.nodes.begin());
      for (int n : s.nodes) e.nodes.push_back(node_name(n));
      e.also = {"waittime_spike"};
      e.note = fmt::format("{:.0f} extra ops/s on each of {} node(s)", s.ops, s.nodes.size());
      std::string mdt = e.target, fsname = s.fs;
      add(e, start, e.end_ms, [s, wait, mdt, fsname](int64_t, Effects& fx) {
        fx.storms.push_back(s);
        fx.target_extra_wait_s[mdt] += wait;
        fx.fs_gpu_factor[fsname] = std::min(fx.fs_gpu_factor.count(fsname) ? fx.fs_gpu_factor[fsname] : 1.0, 0.6);
      });
    } else if (kind == "waittime_spike") {
      const FsModel& m = fs_model(job->fs);
      bool mdt = uniform(0, 1) < 0.25;
      std::string target = mdt ? m.mdt : m.osts[pick(static_cast<int>(m.osts.size()))];
      double wait = uniform(0.15, 0.6);
      int64_t dur = static_cast<int64_t>(uniform(3, 8) * 60'000);
      e.end_ms = start + dur;
      e.fs = m.name;
      e.target = target;
      e.note = fmt::format("{:.0f} ms per RPC", 1000 * wait);
      for (int i = 0; i < o.nodes; ++i) e.nodes.push_back(node_name(i));
      std::string fsname = m.name;
      add(e, start, e.end_ms, [target, wait, fsname](int64_t, Effects& fx) {
        fx.target_extra_wait_s[target] += wait;
        fx.fs_gpu_factor[fsname] = std::min(fx.fs_gpu_factor.count(fsname) ? fx.fs_gpu_factor[fsname] : 1.0, 0.75);
      });
    } else if (kind == "checkpoint_stall") {
      int64_t dur = static_cast<int64_t>(uniform(60, 240) * 1000);
      double bw = uniform(0.5e9, 3e9);  // bytes/s for the whole job
      double per_node = bw / job->nodes.size();
      double util = uniform(0.02, 0.08);
      e.end_ms = start + dur;
      e.fs = job->fs;
      e.job = job->id;
      e.path = job->ckpt_dir;
      e.nodes = names_of(job->nodes);
      e.node = e.nodes.front();
      e.note = fmt::format("{:.1f} GB at {:.2f} GB/s", bw * dur / 1000 / 1e9, bw / 1e9);
      std::string id = job->id, fsname = job->fs;
      add(e, start, e.end_ms, [id, per_node, util, fsname](int64_t, Effects& fx) {
        fx.job_gpu_override[id] = util;
        fx.job_write_bps[id] += per_node;
        fx.fs_ost_extra_wait_s[fsname] += 0.02;
      });
    } else if (kind == "heavy_load") {
      int64_t dur = 15 * 60'000;
      e.confounder = true;
      e.end_ms = start + dur;
      e.job = job->id;
      e.fs = job->fs;
      e.nodes = names_of(job->nodes);
      std::string id = job->id;
      double md = uniform(1.2, 1.5), rd = uniform(2, 3);
      e.note = fmt::format("{:.1f}x metadata, {:.1f}x reads", md, rd);
      add(e, start, e.end_ms, [id, md, rd](int64_t, Effects& fx) {
        fx.job_md_factor[id] = md;
        fx.job_read_factor[id] = rd;
      });
    } else if (kind == "load_ramp") {
      // Normal growth: 1.5-3x the metadata and read load over 3-10 minutes, held, then back down.
      bool cluster = uniform(0, 1) < 0.5;
      double to = uniform(1.5, 3.0);
      int64_t ramp = static_cast<int64_t>(uniform(3, 10) * 60'000), hold = 15 * 60'000;
      e.confounder = true;
      e.end_ms = start + 2 * ramp + hold;
      e.fs = cluster ? "" : job->fs;
      e.job = cluster ? "" : job->id;
      e.nodes = cluster ? std::vector<std::string>{} : names_of(job->nodes);
      e.note = fmt::format("{} load ramps to {:.1f}x over {} s, held {} s", cluster ? "cluster" : "job's", to,
                           ramp / 1000, hold / 1000);
      std::string id = cluster ? "" : job->id;
      add(e, start, e.end_ms, [id, to, start, ramp, hold](int64_t t, Effects& fx) {
        double x = t - start < ramp + hold ? std::min(1.0, double(t - start) / ramp)
                                           : std::max(0.0, 1.0 - double(t - start - ramp - hold) / ramp);
        double f = 1 + (to - 1) * x;
        if (id.empty()) {
          fx.cluster_md_factor *= f;
        } else {
          fx.job_md_factor[id] = (fx.job_md_factor.count(id) ? fx.job_md_factor[id] : 1.0) * f;
          fx.job_read_factor[id] = (fx.job_read_factor.count(id) ? fx.job_read_factor[id] : 1.0) * f;
        }
      });
    } else if (kind == "job_start") {
      // A new job on idle nodes: its load appears at once, from nothing.
      auto idle = idle_nodes(start);
      if (idle.size() < 1) return;
      Job j = *job;
      j.id = std::to_string(std::stoll(job->id) + 7);
      if (job_by_id(j.id)) return;
      j.nodes.assign(idle.begin(), idle.begin() + std::min<size_t>(idle.size(), 1 + pick(4)));
      j.begin_ms = start;
      j.end_ms = INT64_MAX;
      j.dataset = fmt::format("/lustre/{}/datasets/new-{}", j.fs, j.id);
      j.ckpt_dir = fmt::format("/lustre/{}/ckpt/{}", j.fs, j.id);
      e.confounder = true;
      e.end_ms = start + 5 * 60'000;
      e.job = j.id;
      e.fs = j.fs;
      e.nodes = names_of(j.nodes);
      e.note = fmt::format("job {} starts on {} idle node(s)", j.id, j.nodes.size());
      truth.entries.push_back(e);
      jobs.push_back(std::move(j));
    } else if (kind == "sequential_read") {
      auto idle = idle_nodes(start);
      int node = idle.empty() ? job->nodes.front() : idle[pick(static_cast<int>(idle.size()))];
      e.confounder = true;
      e.end_ms = start + 10 * 60'000;
      e.node = node_name(node);
      e.fs = fs[0].name;
      double bps = uniform(3e9, 6e9);
      e.note = fmt::format("{:.1f} GB/s sequential read", bps / 1e9);
      std::string fsname = e.fs;
      add(e, start, e.end_ms, [node, bps, fsname](int64_t, Effects& fx) {
        fx.node_extra_read_bps[node] += bps;
        fx.node_read_fs[node] = fsname;
        fx.fs_ost_extra_wait_s[fsname] += 0.025;
      });
    } else if (kind == "counter_reset") {
      int node = pick(o.nodes);
      e.confounder = true;
      e.end_ms = start;
      e.node = node_name(node);
      e.note = "Lustre client counters restart from zero (remount)";
      truth.entries.push_back(e);
      instant_actions.push_back({start, [this, node](int64_t) { reset(nodes[node], "lustre_client_"); }});
    } else if (kind == "node_reboot") {
      int node = job->nodes.front();
      int64_t down = static_cast<int64_t>(uniform(2, 5) * 60'000);
      e.confounder = true;
      e.end_ms = start + down + 60'000;
      e.node = node_name(node);
      e.job = job->id;
      e.note = fmt::format("down {} s, counters reset, GPUs idle for 60 s after", down / 1000);
      int64_t back = start + down;
      truth.entries.push_back(e);
      injections.push_back({truth.entries.size() - 1, [node, back](int64_t t, Effects& fx) {
                              if (t < back) fx.silent.insert(node);
                              else fx.node_gpu_override[node] = 0.0;
                            },
                            start, e.end_ms});
      instant_actions.push_back({back, [this, node](int64_t) { reset(nodes[node], ""); }});
    } else if (kind == "node_silent") {
      int node = pick(o.nodes);
      e.confounder = true;
      e.end_ms = start + static_cast<int64_t>(uniform(10, 30) * 60'000);
      e.node = node_name(node);
      e.note = "agent stops reporting, then returns with its counters intact";
      add(e, start, e.end_ms, [node](int64_t, Effects& fx) { fx.silent.insert(node); });
    } else if (kind == "job_end") {
      e.confounder = true;
      e.end_ms = start;
      e.job = job->id;
      e.nodes = names_of(job->nodes);
      e.note = "the job ends: GPUs idle, its series stop; a new job starts on its nodes 10 minutes later";
      job->end_ms = start;
      Job next = *job;
      next.id = std::to_string(std::stoll(job->id) + 1);
      next.begin_ms = start + 10 * 60'000;
      next.end_ms = INT64_MAX;
      next.dataset = fmt::format("/lustre/{}/datasets/next-{}", next.fs, next.id);
      next.ckpt_dir = fmt::format("/lustre/{}/ckpt/{}", next.fs, next.id);
      truth.entries.push_back(e);
      jobs.push_back(std::move(next));
    } else if (kind == "eval_phase") {
      e.confounder = true;
      e.end_ms = start + 5 * 60'000;
      e.job = job->id;
      e.nodes = names_of(job->nodes);
      double util = uniform(0.25, 0.4);
      e.note = fmt::format("GPUs at {:.0f}% while reading the evaluation set", 100 * util);
      std::string id = job->id;
      add(e, start, e.end_ms, [id, util](int64_t, Effects& fx) {
        fx.job_gpu_override[id] = util;
        fx.job_read_factor[id] = 1.5;
      });
    } else if (kind == "write_burst") {
      e.confounder = true;
      e.end_ms = start + 2 * 60'000;
      e.job = job->id;
      e.nodes = names_of(job->nodes);
      double per_node = uniform(0.5e9, 1.5e9);
      e.note = fmt::format("{:.1f} GB/s per node written while the GPUs stay busy", per_node / 1e9);
      std::string id = job->id;
      add(e, start, e.end_ms, [id, per_node](int64_t, Effects& fx) { fx.job_write_bps[id] += per_node; });
    }
  }

  void add(TruthEntry e, int64_t start, int64_t end, std::function<void(int64_t, Effects&)> apply) {
    truth.entries.push_back(std::move(e));
    injections.push_back({truth.entries.size() - 1, std::move(apply), start, end});
  }

  const FsModel& fs_model(const std::string& name) const {
    for (const auto& m : fs)
      if (m.name == name) return m;
    return fs.front();
  }

  Effects effects(int64_t t) {
    Effects fx;
    for (auto& in : injections)
      if (in.start <= t && t < in.end) in.apply(t, fx);
    return fx;
  }

  void reset(NodeState& n, const std::string& prefix) {
    for (auto& s : n.slots)
      if (s.series.type == SeriesType::Counter && s.series.name.compare(0, prefix.size(), prefix) == 0) s.value = 0;
  }

  Slot& slot(NodeState& n, const std::string& name, SeriesType type, Labels labels) {
    std::string key = series_key(name, labels);
    auto it = n.index.find(key);
    if (it != n.index.end()) return n.slots[it->second];
    Slot s;
    s.series.name = name;
    s.series.type = type;
    s.series.labels = std::move(labels);
    n.index.emplace(std::move(key), n.slots.size());
    n.slots.push_back(std::move(s));
    return n.slots.back();
  }
  void count(NodeState& n, const std::string& name, Labels labels, double inc) {
    Slot& s = slot(n, name, SeriesType::Counter, std::move(labels));
    s.value += std::max(0.0, inc);
    s.touched = true;
  }
  void gauge(NodeState& n, const std::string& name, Labels labels, double v) {
    Slot& s = slot(n, name, SeriesType::Gauge, std::move(labels));
    s.value = v;
    s.touched = true;
  }

  Batch take(NodeState& n, int64_t t) {
    Batch b;
    b.node = n.name;
    b.stream = n.stream;
    b.seq = ++n.seq;
    for (auto& s : n.slots) {
      if (!s.touched) continue;
      Series out;
      out.name = s.series.name;
      out.type = s.series.type;
      out.labels = s.series.labels;
      out.points.push_back({t, std::round(s.value * 1000) / 1000});
      b.series.push_back(std::move(out));
      s.touched = false;
    }
    b.events = std::move(n.events);
    n.events.clear();
    return b;
  }

  double daily(int64_t t) const {
    return 1.0 + 0.5 * std::sin(2 * std::numbers::pi * static_cast<double>(t % kDayMs) / kDayMs + daily_phase);
  }

  static Batch merge(std::vector<Batch>& samples) {
    Batch out;
    out.node = samples.front().node;
    out.stream = samples.front().stream;
    out.seq = samples.back().seq;
    std::unordered_map<std::string, size_t> index;
    for (auto& b : samples) {
      for (auto& series : b.series) {
        auto [it, fresh] = index.try_emplace(series_key(series.name, series.labels), out.series.size());
        if (fresh) out.series.push_back(std::move(series));
        else for (const auto& p : series.points) out.series[it->second].points.push_back(p);
      }
      for (auto& e : b.events) out.events.push_back(std::move(e));
    }
    samples.clear();
    return out;
  }

  void send(Outbox& box, size_t n, const std::function<void(const Batch&)>& sink) {
    std::vector<Batch> part(std::make_move_iterator(box.queue.begin()), std::make_move_iterator(box.queue.begin() + n));
    box.queue.erase(box.queue.begin(), box.queue.begin() + n);
    sink(merge(part));
  }

  void deliver(Batch b, int64_t t, const std::function<void(const Batch&)>& sink) {
    if (o.delivery != "batched") {
      sink(b);
      return;
    }
    auto [it, fresh] = outboxes.try_emplace(b.node);
    Outbox& box = it->second;
    if (fresh) {
      box.size = std::uniform_int_distribution<size_t>(1, o.max_batch)(delivery_rng);
      box.due = std::uniform_int_distribution<size_t>(1, box.size)(delivery_rng);
    }
    box.queue.push_back(std::move(b));
    if (t >= outage_start && t < outage_end) return;  // the collector is unreachable: the spool grows
    if (box.queue.size() >= box.due) {
      send(box, box.queue.size(), sink);
      box.due = box.size;
    }
  }

  // Every spool drains, node after node, max_batch samples a batch.
  void drain(const std::function<void(const Batch&)>& sink) {
    std::vector<std::string> order;
    for (auto& [name, box] : outboxes) order.push_back(name);
    std::shuffle(order.begin(), order.end(), delivery_rng);
    for (const auto& name : order) {
      Outbox& box = outboxes[name];
      while (!box.queue.empty()) send(box, std::min<size_t>(box.queue.size(), o.max_batch), sink);
    }
  }

  void run(const std::function<void(const Batch&)>& sink) {
    const double dt = o.interval_ms / 1000.0;
    const int64_t end = o.start_ms + o.duration_ms;
    bool drained = false;
    for (int64_t t = o.start_ms; t <= end; t += o.interval_ms) {
      for (size_t i = 0; i < instant_actions.size(); ++i)
        if (instant_actions[i].first <= t && done_actions.insert({0, i}).second) instant_actions[i].second(t);
      Effects fx = effects(t - o.interval_ms / 2);  // what happened during the interval ending at t
      double load = daily(t);
      // Per fs aggregates for the MDS.
      std::map<std::string, std::map<std::string, double>> mdt_ops;          // fs → op → ops
      std::map<std::string, std::map<std::string, double>> job_ops;          // fs → job → ops
      for (int ni = 0; ni < o.nodes; ++ni) step_node(ni, t, dt, load, fx, mdt_ops, job_ops);
      for (size_t f = 0; f < fs.size(); ++f) step_server(f, t, fx, mdt_ops[fs[f].name], job_ops[fs[f].name]);
      if (!drained && t >= outage_end) {
        drain(sink);
        drained = true;
      }
      for (int ni = 0; ni < o.nodes; ++ni) {
        if (fx.silent.count(ni)) {
          // A silent node emits nothing; its counters keep counting underneath.
          for (auto& s : nodes[ni].slots) s.touched = false;
          nodes[ni].events.clear();
          continue;
        }
        deliver(take(nodes[ni], t), t, sink);
      }
      for (auto& s : servers) deliver(take(s, t), t, sink);
    }
    drain(sink);
    price_truth();
  }

  // The true §7 cost of every injection that idles GPUs, over the points it changed: each GPU against its
  // time-weighted mean over the 10 minutes before, a point covering the interval since the previous one
  // (none across a gap of more than 30 s), at the H200 spot price.
  void price_truth() {
    const int64_t I = o.interval_ms, baseline_ms = 10 * 60'000, max_gap = 30'000;
    const double per_second = 1.924 / 3600;
    auto gpus_of = [&](const Job& j, int64_t from, int64_t to, double& idle, double& usd) {
      for (int ni : j.nodes)
        for (int g = 0; g < o.gpus_per_node; ++g) {
          auto it = gpu_points.find(fmt::format("{}/{}", node_name(ni), g));
          if (it == gpu_points.end()) continue;
          const auto& p = it->second;
          double weighted = 0, seconds = 0;
          auto each = [&](int64_t a, int64_t b, auto&& f) {
            for (size_t k = 1; k < p.size(); ++k) {
              if (p[k].t_ms - p[k - 1].t_ms > max_gap) continue;
              int64_t x = std::max(p[k - 1].t_ms, a), y = std::min(p[k].t_ms, b);
              if (y > x) f(p[k].value, (y - x) / 1000.0);
            }
          };
          each(from - baseline_ms, from, [&](double u, double sec) { weighted += u * sec, seconds += sec; });
          if (seconds <= 0) continue;
          double base = weighted / seconds, gpu_idle = 0;
          each(from, to, [&](double u, double sec) { gpu_idle += std::max(0.0, base - u) * sec; });
          idle += gpu_idle;
          usd += gpu_idle * per_second;
        }
    };
    for (auto& e : truth.entries) {
      if (e.confounder || (e.kind != "checkpoint_stall" && e.kind != "metadata_storm" && e.kind != "waittime_spike"))
        continue;
      // The points whose interval's middle falls in [start, end): the ones the injection changed.
      int64_t k = (e.start_ms + I / 2 - o.start_ms + I - 1) / I;
      int64_t first = o.start_ms + k * I;
      int64_t last = first;
      while (last + I - I / 2 < e.end_ms) last += I;
      int64_t from = first - I, to = last;
      e.gpu_idle_seconds = e.cost_usd = 0;
      e.victims.clear();
      for (const auto& j : jobs) {
        bool hit = e.kind == "checkpoint_stall" ? j.id == e.job : j.fs == e.fs && j.begin_ms < from && j.end_ms > to;
        if (!hit) continue;
        TruthVictim v;
        v.job = j.id;
        v.nodes = names_of(j.nodes);
        std::sort(v.nodes.begin(), v.nodes.end());
        gpus_of(j, from, to, v.gpu_idle_seconds, v.cost_usd);
        e.gpu_idle_seconds += v.gpu_idle_seconds;
        e.cost_usd += v.cost_usd;
        if (e.kind != "checkpoint_stall") e.victims.push_back(std::move(v));
      }
    }
  }

  void step_node(int ni, int64_t t, double dt, double load, const Effects& fx,
                 std::map<std::string, std::map<std::string, double>>& mdt_ops,
                 std::map<std::string, std::map<std::string, double>>& job_ops) {
    NodeState& n = nodes[ni];
    // A rare one-interval burst of a node's metadata ops (a user's ls -lR): noise, not a storm.
    double burst = uniform(0, 1) < 0.01 ? uniform(2, 3) : 1.0;
    std::map<std::string, std::map<std::string, double>> md;  // fs → op → ops in the interval
    std::map<std::string, double> read_b, write_b;             // fs → bytes
    nlohmann::json dirs = nlohmann::json::array();
    std::vector<const Job*> mine;
    for (const auto& j : jobs)
      if (t > j.begin_ms && t <= j.end_ms && std::count(j.nodes.begin(), j.nodes.end(), ni)) mine.push_back(&j);

    for (const Job* j : mine) {
      std::string mount = "/lustre/" + j->fs;
      auto f = [&](const char* k, const std::map<std::string, double>& m) {
        auto it = m.find(k);
        return it == m.end() ? 1.0 : it->second;
      };
      (void)f;
      double mdf = (fx.job_md_factor.count(j->id) ? fx.job_md_factor.at(j->id) : 1.0) * fx.cluster_md_factor;
      double rdf = (fx.job_read_factor.count(j->id) ? fx.job_read_factor.at(j->id) : 1.0) * fx.cluster_md_factor;
      double stat = j->stat * load * mdf * burst * noise(0.08) * dt;
      double open = j->open * load * mdf * noise(0.08) * dt;
      double readdir = j->readdir * load * noise(0.2) * dt;
      double create = 0.2 * noise(0.5) * dt;
      double read = j->read_bps * load * rdf * noise(0.1) * dt;
      double write = j->write_bps * noise(0.3) * dt;
      double fsync = 0.1 * dt;
      if (fx.job_write_bps.count(j->id)) {
        write += fx.job_write_bps.at(j->id) * noise(0.1) * dt;
        create += 2 * dt;
        fsync += 5 * dt;
      }
      // A storm by this job from this node.
      double storm_ops = 0;
      const Effects::Storm* storm = nullptr;
      for (const auto& s : fx.storms)
        if (s.job == j->id && s.nodes.count(ni)) storm = &s;
      if (storm) storm_ops = storm->ops * noise(0.1) * dt;
      Labels base = {{"fstype", "lustre"}, {"job", j->id}, {"mount", mount}};
      auto vfs = [&](const char* op, double v) {
        Labels l = base;
        l.push_back({"op", op});
        normalize_labels(l).ok();
        count(n, "vfs_ops_total", std::move(l), v);
      };
      vfs("stat", stat + 0.6 * storm_ops);
      vfs("open", open + 0.2 * storm_ops);
      vfs("close", open + 0.2 * storm_ops);
      vfs("readdir", readdir);
      vfs("create", create);
      vfs("read", read / 1e6);
      vfs("write", write / 1e6 + 1);
      vfs("fsync", fsync);
      for (auto [op, v] : {std::pair{"read", read}, std::pair{"write", write}}) {
        Labels l = base;
        l.push_back({"op", op});
        normalize_labels(l).ok();
        count(n, "vfs_bytes_total", std::move(l), v);
      }
      auto& m = md[j->fs];
      m["getattr"] += stat + 0.6 * storm_ops;
      m["open"] += open + 0.2 * storm_ops;
      m["close"] += open + 0.2 * storm_ops;
      m["readdir"] += readdir;
      m["create"] += create;
      read_b[j->fs] += read;
      write_b[j->fs] += write;
      auto& jo = job_ops[j->fs][j->id];
      jo += stat + 2 * open + readdir + create + storm_ops;
      dirs.push_back({{"path", j->dataset}, {"ops", std::round(stat + 2 * open + readdir)}, {"job", j->id}, {"comm", "python"}});
      if (create > 1) dirs.push_back({{"path", j->ckpt_dir}, {"ops", std::round(create + fsync)}, {"job", j->id}, {"comm", "python"}});
      if (storm) dirs.push_back({{"path", storm->path}, {"ops", std::round(storm_ops)}, {"job", j->id}, {"comm", storm->comm}});
    }
    // Background: system daemons and users on every node, no job.
    for (const auto& m : fs) {
      std::string mount = "/lustre/" + m.name;
      double bg = 3 * load * fx.cluster_md_factor * noise(0.3) * dt;
      Labels l = {{"fstype", "lustre"}, {"mount", mount}, {"op", "stat"}};
      count(n, "vfs_ops_total", l, bg);
      md[m.name]["getattr"] += bg;
      md[m.name]["statfs"] += 0.1 * dt;
    }
    if (fx.node_extra_read_bps.count(ni)) {
      const std::string& f = fx.node_read_fs.at(ni);
      double b = fx.node_extra_read_bps.at(ni) * noise(0.05) * dt;
      read_b[f] += b;
      md[f]["open"] += 0.5 * dt;
      Labels l = {{"fstype", "lustre"}, {"mount", "/lustre/" + f}, {"op", "read"}};
      count(n, "vfs_bytes_total", std::move(l), b);
    }
    // Lustre client stats: mdc ops and waits, osc bytes and waits.
    for (const auto& m : fs) {
      double ops_total = 0;
      for (auto& [op, v] : md[m.name]) {
        count(n, "lustre_client_ops_total", {{"fs", m.name}, {"op", op}, {"target", m.mdt}}, v);
        mdt_ops[m.name][op] += v;
        ops_total += v;
      }
      double extra = fx.target_extra_wait_s.count(m.mdt) ? fx.target_extra_wait_s.at(m.mdt) : 0;
      double wait = (m.base_wait_s.at(m.mdt) * (0.8 + 0.2 * load) + extra) * noise(0.1);
      count(n, "lustre_client_rpcs_total", {{"fs", m.name}, {"target", m.mdt}}, std::round(ops_total));
      count(n, "lustre_client_rpc_wait_seconds_total", {{"fs", m.name}, {"target", m.mdt}}, std::round(ops_total) * wait);
      double per_ost_r = read_b[m.name] / m.osts.size(), per_ost_w = write_b[m.name] / m.osts.size();
      for (const auto& ost : m.osts) {
        double r = per_ost_r * noise(0.05), w = per_ost_w * noise(0.05);
        count(n, "lustre_client_bytes_total", {{"fs", m.name}, {"op", "read"}, {"target", ost}}, r);
        count(n, "lustre_client_bytes_total", {{"fs", m.name}, {"op", "write"}, {"target", ost}}, w);
        double rpcs = std::round((r + w) / 1048576.0) + 1;
        double ex = (fx.target_extra_wait_s.count(ost) ? fx.target_extra_wait_s.at(ost) : 0) +
                    (fx.fs_ost_extra_wait_s.count(m.name) ? fx.fs_ost_extra_wait_s.at(m.name) : 0);
        double ow = (m.base_wait_s.at(ost) * (0.8 + 0.2 * load) + ex) * noise(0.1);
        count(n, "lustre_client_rpcs_total", {{"fs", m.name}, {"target", ost}}, rpcs);
        count(n, "lustre_client_rpc_wait_seconds_total", {{"fs", m.name}, {"target", ost}}, rpcs * ow);
      }
    }
    // GPUs.
    const Job* job = mine.empty() ? nullptr : mine.front();
    for (int g = 0; g < o.gpus_per_node; ++g) {
      double util = 0.0;
      if (job) {
        util = job->util * noise(0.03);
        if (fx.fs_gpu_factor.count(job->fs)) util *= fx.fs_gpu_factor.at(job->fs);
        if (fx.job_gpu_override.count(job->id)) util = fx.job_gpu_override.at(job->id) * noise(0.2);
      }
      if (fx.node_gpu_override.count(ni)) util = fx.node_gpu_override.at(ni);
      util = std::clamp(util, 0.0, 1.0);
      Labels l = {{"gpu", std::to_string(g)}, {"model", "NVIDIA H200"}, {"uuid", fmt::format("GPU-{}-{}", n.name, g)}};
      if (job) l.push_back({"job", job->id});
      normalize_labels(l).ok();
      util = std::round(util * 1000) / 1000;
      if (!fx.silent.count(ni)) {
        gpu_points[fmt::format("{}/{}", n.name, g)].push_back({t, util});
      }
      gauge(n, "gpu_utilization_ratio", std::move(l), util);
    }
    if (!dirs.empty()) {
      Event e;
      e.kind = "vfs_hot_dirs";
      e.t_ms = t;
      e.labels = {{"fstype", "lustre"}};
      e.fields_json = nlohmann::json{{"dirs", dirs}}.dump();
      n.events.push_back(std::move(e));
    }
  }

  void step_server(size_t f, int64_t t, const Effects&, const std::map<std::string, double>& ops,
                   const std::map<std::string, double>& job_ops) {
    FsModel& m = fs[f];
    NodeState& s = servers[f];
    for (const auto& [op, v] : ops) count(s, "lustre_mdt_ops_total", {{"fs", m.name}, {"op", op}, {"target", m.mdt}}, v);
    for (const auto& [job, v] : job_ops)
      count(s, "lustre_job_ops_total", {{"fs", m.name}, {"job", job}, {"op", "total"}, {"target", m.mdt}}, v);
    auto fill = [&](const std::string& target, double cap) {
      double fr = m.fill.at(target);
      for (auto& im : imbalances) {
        if (im.fs != m.name || im.ost != target) continue;
        if (t >= im.release) continue;
        if (t >= im.ramp_start) fr = im.from + (im.to - im.from) * std::min(1.0, double(t - im.ramp_start) / (im.ramp_end - im.ramp_start));
      }
      fr += 0.002 * std::sin(static_cast<double>(t) / 3.6e6);
      double avail = cap * (1 - fr);
      gauge(s, "lustre_target_capacity_bytes", {{"fs", m.name}, {"target", target}}, cap);
      gauge(s, "lustre_target_available_bytes", {{"fs", m.name}, {"target", target}}, std::round(avail));
      gauge(s, "lustre_target_free_bytes", {{"fs", m.name}, {"target", target}}, std::round(avail * 1.03));
      return fr;
    };
    fill(m.mdt, m.capacity_mdt);
    std::vector<double> fills;
    for (const auto& ost : m.osts) fills.push_back(fill(ost, m.capacity_ost));
    // The imbalance's true onset and end, by the definition the detector documents.
    for (auto& im : imbalances) {
      if (im.fs != m.name) continue;
      std::vector<double> sorted = fills;
      std::sort(sorted.begin(), sorted.end());
      double med = sorted.size() % 2 ? sorted[sorted.size() / 2]
                                     : (sorted[sorted.size() / 2 - 1] + sorted[sorted.size() / 2]) / 2;
      bool bad = (sorted.back() >= 0.9 && med < 0.7) || sorted.back() - sorted.front() > 0.25;
      TruthEntry& e = truth.entries[im.truth_index];
      if (bad && !im.onset_seen) {
        im.onset_seen = true;
        e.start_ms = t - o.interval_ms;  // became true during the interval ending at t
      }
      if (!bad && im.onset_seen && !im.ended) {
        im.ended = true;
        e.end_ms = t - o.interval_ms;
      }
    }
  }
};

Simulator::Simulator(SimOptions options) : impl_(new Impl(std::move(options))) {}
Simulator::~Simulator() { delete impl_; }
const GroundTruth& Simulator::truth() const { return impl_->truth; }
void Simulator::run(const std::function<void(const Batch&)>& sink) { impl_->run(sink); }

}  // namespace ss::collector::sim
