// Incident pages (DESIGN.md §8 via issue 16): an incident page and the incident list, each ≤ 100 ms, on a
// database of 24 h × 200 nodes × 300 series at 10 s (~520 M points) and 10,000 incidents.
//   bench_ui [--scale 1] [--nodes 200] [--series 300] [--hours 24] [--incidents 10000] [--rounds 15]
//            [--dir DIR] [--keep]
// Builds the database through the store itself (timestamps advance faster than the clock: a batch holds
// 10 minutes of a node's series), ending now, so that the list's default range (the last 7 days) covers it;
// then starts the real collector on it and times GET /ui/incidents/<id> over several incidents of every
// kind and GET /ui/ over loopback. --scale multiplies the hours (0.1: 2.4 h, same nodes and series).
#include <CLI/CLI.hpp>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

#include "collector/collector.h"
#include "collector/incidents/incident_store.h"
#include "collector/incidents/manager.h"
#include "collector/store/store.h"
#include "common/config.h"
#include "common/time.h"
#include "bench/process_stats.h"

using namespace ss;
using namespace ss::collector;

namespace {

constexpr int kOsts = 64;
const char* const kMetaOps[] = {"stat", "open", "close", "getattr", "readdir", "create", "unlink", "mkdir", "rename", "setattr"};

std::string ost(int i) { return fmt::format("ai0-OST{:04x}", i); }
std::string job_of(int node) { return std::to_string(4000 + node / 8); }  // 8 nodes a job

// The series of one node: what its agent exports on a Lustre client with 8 GPUs, `n` in all.
std::vector<Series> node_series(int node, int n) {
  std::vector<Series> out;
  auto add = [&](std::string name, SeriesType type, Labels labels) {
    if (static_cast<int>(out.size()) >= n) return;
    Series s;
    s.name = std::move(name);
    s.type = type;
    s.labels = std::move(labels);
    (void)normalize_labels(s.labels);  // sorted, as agents send them
    out.push_back(std::move(s));
  };
  std::string job = job_of(node);
  for (const char* op : kMetaOps)
    add("vfs_ops_total", SeriesType::Counter, {{"fstype", "lustre"}, {"mount", "/lustre/ai0"}, {"op", op}, {"job", job}});
  for (const char* op : {"read", "write"})
    add("vfs_bytes_total", SeriesType::Counter, {{"fstype", "lustre"}, {"mount", "/lustre/ai0"}, {"op", op}, {"job", job}});
  for (int g = 0; g < 8; ++g)
    add("gpu_utilization_ratio", SeriesType::Gauge,
        {{"gpu", std::to_string(g)}, {"uuid", fmt::format("GPU-{}-{}", node, g)}, {"model", "H200"}, {"job", job}});
  for (const char* op : kMetaOps)
    add("lustre_client_ops_total", SeriesType::Counter, {{"fs", "ai0"}, {"target", "ai0-MDT0000"}, {"op", op}});
  for (int t = -1; t < kOsts; ++t) {
    std::string target = t < 0 ? "ai0-MDT0000" : ost(t);
    add("lustre_client_rpcs_total", SeriesType::Counter, {{"fs", "ai0"}, {"target", target}});
    add("lustre_client_rpc_wait_seconds_total", SeriesType::Counter, {{"fs", "ai0"}, {"target", target}});
    add("lustre_target_capacity_bytes", SeriesType::Gauge, {{"fs", "ai0"}, {"target", target}});
    add("lustre_target_available_bytes", SeriesType::Gauge, {{"fs", "ai0"}, {"target", target}});
  }
  for (int k = 0; static_cast<int>(out.size()) < n; ++k)
    add("lustre_client_bytes_total", SeriesType::Counter, {{"fs", "ai0"}, {"target", ost(k % kOsts)}, {"op", k / kOsts % 2 ? "read" : "write"}});
  return out;
}

// A point's value: counters grow, gauges wander; a storm every so often raises metadata ops and waits.
double step_value(const Series& s, int node, int64_t t, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.8, 1.2);
  bool storm = (t / 60'000) % 97 < 6;  // 6 minutes in every 97
  if (s.name == "gpu_utilization_ratio") return std::clamp((storm ? 0.3 : 0.92) * u(rng), 0.0, 1.0);
  if (s.name == "lustre_target_capacity_bytes") return 100e12;
  if (s.name == "lustre_target_available_bytes") {
    std::string target(label_value(s.labels, "target"));
    int idx = target.find("OST") != std::string::npos ? std::stoi(target.substr(7), nullptr, 16) : 0;
    return 100e12 * (idx == 3 ? 0.06 : 0.45 + 0.002 * idx);
  }
  double rate = 100;
  if (s.name == "vfs_ops_total") rate = storm && node % 8 == 0 ? 20'000 : 500;
  if (s.name == "lustre_client_rpc_wait_seconds_total") rate = storm ? 30 : 0.4;
  if (s.name.find("bytes") != std::string::npos) rate = 5e7;
  return rate * 10 * u(rng);  // increase over a 10 s interval
}

nlohmann::json evidence_for(const std::string& kind, int i) {
  using nlohmann::json;
  if (kind == "metadata_storm")
    return {{"signals", json::array({{{"source", "vfs"}, {"series", "vfs_ops_total"}, {"target", ""}, {"ops_per_second", 520000},
                                      {"baseline", 100000}, {"sigma", 5000}, {"threshold_excess", 50000},
                                      {"top_ops", {{"stat", 300000}, {"open", 100000}, {"getattr", 50000}}}},
                                     {{"source", "mdc"}, {"target", "ai0-MDT0000"}, {"ops_per_second", 20000}, {"baseline", 2000},
                                      {"sigma", 200}, {"threshold_excess", 2000}, {"top_ops", {{"stat", 1}}}}})},
            {"mdc_wait", json::array({{{"target", "ai0-MDT0000"}, {"mean_wait_ms", 300}, {"threshold_ms", 100}}})}};
  if (kind == "waittime_spike")
    return {{"target", ost(i % kOsts)}, {"mean_wait_ms", 300}, {"baseline_ms", 4}, {"threshold_ms", 100},
            {"nodes", {{"gpu000", {{"mean_wait_ms", 400}}}, {"gpu001", {{"mean_wait_ms", 350}}}, {"gpu002", {{"mean_wait_ms", 320}}}}}};
  if (kind == "ost_imbalance")
    return {{"fullest", ost(3)}, {"emptiest", ost(63)}, {"median_fill", 0.55}, {"bytes_to_move", 3.9e13},
            {"params", {{"full", 0.9}, {"median_below", 0.7}, {"spread", 0.25}}}, {"write_skew", false}};
  return {{"job", job_of(i % 200)}, {"baseline_util", 0.92}, {"bytes", 1.4e11}, {"stall_seconds", 140},
          {"effective_bandwidth", 1e9}, {"bandwidth_for_target", 2.3e9}, {"target_stall_seconds", 60}, {"gpus_judged", 64}};
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

std::string loadavg() {
  std::ifstream f("/proc/loadavg");
  std::string a, b, c;
  f >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"bench_ui: incident page and list latency on a large database"};
  double scale = 1, hours = 24;
  int nodes = 200, series = 300, incidents = 10000, rounds = 15;
  std::string dir;
  bool keep = false;
  app.add_option("--scale", scale, "multiplies --hours (0.1: a tenth of the points, same series)");
  app.add_option("--nodes", nodes);
  app.add_option("--series", series, "series per node");
  app.add_option("--hours", hours, "hours of data at 10 s");
  app.add_option("--incidents", incidents);
  app.add_option("--rounds", rounds, "requests timed per page kind");
  app.add_option("--dir", dir, "where the database goes (default a new directory under /tmp); reused when it exists");
  app.add_flag("--keep", keep, "keep the database");
  CLI11_PARSE(app, argc, argv);
  if (dir.empty()) dir = fmt::format("/tmp/bench_ui_{}", getpid());
  std::filesystem::create_directories(dir);
  const std::string db = dir + "/db.sqlite", incidents_db = dir + "/incidents.db";
  const int64_t interval = 10'000, per_batch = 60;  // 10 minutes of a node's series per batch
  const int64_t span = static_cast<int64_t>(hours * scale * 3600'000);
  const int64_t end = now_ms() / interval * interval, start = end - span;

  bool built = std::filesystem::exists(dir + "/built");
  int64_t points = 0;
  if (!built) {
    StoreOptions so(db);
    so.sync_full = false;
    auto store = open_store(so);
    if (!store) {
      std::cerr << store.error().message << "\n";
      return 1;
    }
    std::mt19937 rng(7);
    std::vector<std::vector<Series>> templ(nodes);
    for (int n = 0; n < nodes; ++n) templ[n] = node_series(n, series);
    std::vector<std::vector<double>> acc(nodes, std::vector<double>(series, 0));
    auto t0 = std::chrono::steady_clock::now();
    uint64_t seq = 0;
    for (int64_t t = start; t < end; t += per_batch * interval) {
      ++seq;
      for (int n = 0; n < nodes; ++n) {
        Batch b;
        b.node = fmt::format("gpu{:03}", n);
        b.seq = seq;
        b.series = templ[n];
        for (int s = 0; s < series; ++s) {
          Series& ser = b.series[s];
          ser.points.reserve(per_batch);
          for (int64_t k = 0; k < per_batch && t + k * interval < end; ++k) {
            int64_t ts = t + k * interval;
            double v = step_value(ser, n, ts, rng);
            if (ser.type == SeriesType::Counter) v = acc[n][s] += v;
            ser.points.push_back({ts, v});
          }
          points += static_cast<int64_t>(ser.points.size());
        }
        auto r = (*store)->append(b);
        if (!r) {
          std::cerr << r.error().message << "\n";
          return 1;
        }
      }
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::cerr << fmt::format("\rbuilding: {:.0f} % of {:.1f} h, {:.0f} M points, {:.2f} M points/s   ",
                               100.0 * double(t + per_batch * interval - start) / double(span), span / 3.6e6, points / 1e6,
                               points / 1e6 / secs);
    }
    (*store)->close();
    std::cerr << "\n";
    auto inc_store = incidents::IncidentStore::open(incidents_db);
    if (!inc_store) {
      std::cerr << inc_store.error().message << "\n";
      return 1;
    }
    static const char* kinds[] = {"metadata_storm", "waittime_spike", "ost_imbalance", "checkpoint_stall"};
    for (int i = 0; i < incidents; ++i) {
      incidents::Incident inc;
      inc.kind = kinds[i % 4];
      inc.fs = "ai0";
      inc.start_ms = start + span * i / incidents;
      inc.end_ms = inc.start_ms + 120'000 + (i % 7) * 60'000;
      inc.last_seen_ms = *inc.end_ms;
      inc.key = inc.kind + "/" + std::to_string(i);
      inc.id = incidents::make_incident_id(inc.kind, inc.start_ms, inc.key);
      inc.target = inc.kind == "waittime_spike" ? ost(i % kOsts) : inc.kind == "ost_imbalance" ? ost(3) : inc.kind == "metadata_storm" ? "ai0-MDT0000" : "";
      inc.severity = i % 3 ? "warning" : "critical";
      inc.summary = fmt::format("{} #{} (benchmark)", inc.kind, i);
      detect::Culprit c;
      c.job = job_of(i % nodes);
      c.node = fmt::format("gpu{:03}", i % nodes);
      c.comm = "python";
      c.path = "/lustre/ai0/datasets/shard" + std::to_string(i % 50);
      c.share = 0.8;
      inc.culprits.push_back(c);
      for (int k = 0; k < 8; ++k) inc.nodes.push_back(fmt::format("gpu{:03}", (i + k) % nodes));
      inc.cost_usd = 0.5 + (i % 13);
      inc.gpu_idle_seconds = inc.cost_usd * 1871;
      inc.evidence = {{"peak", evidence_for(inc.kind, i)}, {"first", evidence_for(inc.kind, i)}};
      auto r = (*inc_store)->put(inc);
      if (!r) {
        std::cerr << r.error().message << "\n";
        return 1;
      }
    }
    std::ofstream(dir + "/built") << points << "\n";
  } else {
    std::ifstream(dir + "/built") >> points;
  }

  auto root = config::load_string(fmt::format("listen: 127.0.0.1:0\ndb: {}\ndetect:\n  incidents_db: {}\n", db, incidents_db));
  auto cfg = read_collector_config(*root);
  if (!cfg) {
    std::cerr << cfg.error().message << "\n";
    return 1;
  }
  auto t_open = std::chrono::steady_clock::now();
  auto collector = Collector::start(*cfg);
  if (!collector) {
    std::cerr << collector.error().message << "\n";
    return 1;
  }
  double open_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_open).count();
  httplib::Client client("127.0.0.1", (*collector)->port());
  client.set_read_timeout(60, 0);
  auto list = client.Get("/api/v1/incidents?limit=100000&from=" + std::to_string(start - 1) + "&to=" + std::to_string(end));
  auto ids = nlohmann::json::parse(list ? list->body : "{}", nullptr, false);
  if (!ids.is_object() || ids.value("incidents", nlohmann::json::array()).empty()) {
    std::cerr << "no incidents listed\n";
    return 1;
  }
  const auto& all = ids["incidents"];
  // CPU time of the whole process per request (the collector serves in this process; the client's share is
  // small): on a busy machine the wall time mostly measures the wait for a core.
  std::vector<double>* cpu_of = nullptr;
  std::vector<double> page_cpu, list_cpu;
  auto timed = [&](const std::string& path, size_t& bytes) {
    double c0 = bench::cpu_ms();
    auto t0 = std::chrono::steady_clock::now();
    auto r = client.Get(path);
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (cpu_of) cpu_of->push_back(bench::cpu_ms() - c0);
    if (!r || r->status != 200) {
      std::cerr << path << ": " << (r ? std::to_string(r->status) : "no answer") << "\n";
      std::exit(1);
    }
    bytes = r->body.size();
    return ms;
  };
  std::cout << fmt::format("database: {} nodes x {} series, {:.1f} h at 10 s = {:.0f} M points; {} incidents; collector opened in {:.1f} s\n",
                           nodes, series, span / 3.6e6, points / 1e6, all.size(), open_s);
  std::cout << "load average before: " << loadavg() << "\n";
  std::mt19937 pick(11);
  std::vector<double> page_ms, list_ms;
  size_t page_bytes = 0, list_bytes = 0;
  std::map<std::string, std::vector<double>> by_kind;
  for (int r = 0; r < rounds; ++r) {
    for (int k = 0; k < 4; ++k) {
      // An incident of each kind, from anywhere in the day.
      size_t i = (pick() % (all.size() / 4)) * 4 + k;
      if (i >= all.size()) continue;
      std::string id = all[i]["id"];
      cpu_of = &page_cpu;
      double ms = timed("/ui/incidents/" + id, page_bytes);
      page_ms.push_back(ms);
      by_kind[all[i]["kind"]].push_back(ms);
    }
    cpu_of = &list_cpu;
    list_ms.push_back(timed("/ui/", list_bytes));
  }
  auto spread = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return fmt::format("min {:.1f}, p90 {:.1f}, max {:.1f}", v.front(), v[v.size() * 9 / 10], v.back());
  };
  std::cout << fmt::format("incident page: median {:.1f} ms ({}) over {} requests, ~{} kB\n", median(page_ms), spread(page_ms),
                           page_ms.size(), page_bytes / 1024);
  for (const auto& [kind, v] : by_kind) std::cout << fmt::format("  {:<17} median {:.1f} ms ({})\n", kind, median(v), spread(v));
  std::cout << fmt::format("incident list (/ui/, last 7 days, {} incidents): median {:.1f} ms ({}) over {} requests, ~{} kB\n",
                           all.size(), median(list_ms), spread(list_ms), list_ms.size(), list_bytes / 1024);
  std::cout << fmt::format("CPU per request (all threads of the process): page median {:.1f} ms ({}), list median {:.1f} ms ({})\n",
                           median(page_cpu), spread(page_cpu), median(list_cpu), spread(list_cpu));
  std::cout << "load average after: " << loadavg() << "\n";
  (*collector)->stop();
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
