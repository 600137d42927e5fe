// Detection on a cluster built by hand, in shapes the simulator does not make: other node, file-system and
// target names, a job whose nodes have different GPU counts, a stall off the interval grid, a cluster-wide
// load ramp. Replayed through POST /api/v1/ingest into collectors with default detection settings, once
// with every node sending each sample, once with nodes sending 1-12 samples at a time out of phase and a
// 10-minute outage drained node after node: the incidents must be the same, and their cost the DESIGN §7
// sum computed here, independently, from the stored points.
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <thread>

#include "collector/collector.h"
#include "common/codec.h"

using namespace ss;
using namespace ss::collector;

namespace {

constexpr int64_t kT0 = 1772409600000;  // 2026-03-02T00:00:00Z
constexpr int64_t kI = 10'000;
constexpr int64_t kMin = 60'000;
const std::string kFs = "proj", kMount = "/mnt/proj", kMdt = "proj-MDT0001";
const std::vector<std::string> kOsts = {"proj-OST0000", "proj-OST0001", "proj-OST0002"};

struct NodeSpec {
  std::string name, job;
  int gpus;
};
// j77 spans a 4-GPU and an 8-GPU node; j88 two 2-GPU nodes; two idle nodes.
const std::vector<NodeSpec> kNodes = {{"cn-01", "j77", 4}, {"cn-02", "j77", 8}, {"cn-03", "j88", 2},
                                      {"cn-04", "j88", 2}, {"cn-05", "", 1},    {"cn-06", "", 1}};

// What happens, as functions of time (ms).
struct Story {
  int64_t ramp = kT0 + 10 * kMin;              // every node's metadata load ramps to 2.5x over 6 minutes
  int64_t stall = kT0 + 33 * kMin + 3'000;     // j77 checkpoints for 95 s, GPUs near idle
  int64_t stall_end = stall + 95'000;
  int64_t storm = kT0 + 46 * kMin + 4'000;     // j88's find on cn-03: 30k stat/s for 4 minutes
  int64_t storm_end = storm + 240'000;
  int64_t end = kT0 + 56 * kMin;

  double load(int64_t t) const {
    double x = t < ramp ? 0 : t < ramp + 6 * kMin ? double(t - ramp) / (6 * kMin) : t < ramp + 16 * kMin ? 1 : 0;
    if (t >= ramp + 16 * kMin && t < ramp + 22 * kMin) x = 1 - double(t - ramp - 16 * kMin) / (6 * kMin);
    return (1 + 1.5 * x) * (1 + 0.2 * std::sin(2 * std::numbers::pi * double(t - kT0) / (90 * kMin)));
  }
  bool stalled(int64_t t) const { return t >= stall && t < stall_end; }
  bool storming(int64_t t) const { return t >= storm && t < storm_end; }
  double util(const NodeSpec& n, int64_t t) const {
    if (n.job.empty()) return 0;
    double u = n.job == "j77" ? 0.85 : 0.9;
    if (n.job == "j77" && stalled(t)) return 0.04;
    if (storming(t)) u *= 0.6;  // every job on the file system waits on its MDT
    return u;
  }
};

// Cumulative counters and one point per series per node and interval, with the interval's time-weighted
// value (sampled each second), as an agent would report it.
class HandCluster {
 public:
  explicit HandCluster(Story s) : s_(s), rng_(77) {}

  std::vector<Batch> step(int64_t t) {
    std::vector<Batch> out;
    for (const auto& n : kNodes) {
      double stat = 0, open = 0, write = 0, util = 0, storm = 0, wait_s = 0;
      for (int64_t u = t - kI + 500; u < t; u += 1000) {
        double base = n.job.empty() ? 5 : 1500;
        stat += base * s_.load(u);
        open += 0.4 * base * s_.load(u);
        bool ck = n.job == "j77" && s_.stalled(u);
        write += ck ? 2.5e9 / 2 : 2e6;
        util += s_.util(n, u) / 10;
        if (n.name == "cn-03" && s_.storming(u)) storm += 30000;
        wait_s += s_.storming(u) ? 0.25 / 10 : 0.001 / 10;
      }
      std::normal_distribution<double> noise(1, 0.05);
      stat *= noise(rng_);
      Batch b;
      b.node = n.name;
      b.stream = "hand";
      b.seq = ++seq_[n.name];
      Labels base = {{"fstype", "lustre"}, {"mount", kMount}};
      if (!n.job.empty()) base.push_back({"job", n.job});
      auto add = [&](const std::string& name, Labels l, double inc, SeriesType type = SeriesType::Counter) {
        normalize_labels(l).ok();
        std::string key = n.name + series_key(name, l);
        double v = type == SeriesType::Counter ? (cum_[key] += inc) : inc;
        Series s;
        s.name = name;
        s.type = type;
        s.labels = std::move(l);
        s.points.push_back({t, std::round(v * 1000) / 1000});
        b.series.push_back(std::move(s));
      };
      auto with = [&](Labels l, std::initializer_list<Label> more) {
        for (const auto& x : more) l.push_back(x);
        return l;
      };
      add("vfs_ops_total", with(base, {{"op", "stat"}}), stat + storm);
      add("vfs_ops_total", with(base, {{"op", "open"}}), open);
      add("vfs_bytes_total", with(base, {{"op", "write"}}), write);
      double rpcs = std::round(stat + open + storm);
      add("lustre_client_ops_total", {{"fs", kFs}, {"target", kMdt}, {"op", "getattr"}}, stat + storm);
      add("lustre_client_rpcs_total", {{"fs", kFs}, {"target", kMdt}}, rpcs);
      add("lustre_client_rpc_wait_seconds_total", {{"fs", kFs}, {"target", kMdt}}, rpcs * wait_s);
      for (const auto& ost : kOsts) {
        double r = std::round(write / 3 / 1048576) + 5;
        add("lustre_client_rpcs_total", {{"fs", kFs}, {"target", ost}}, r);
        add("lustre_client_rpc_wait_seconds_total", {{"fs", kFs}, {"target", ost}}, r * 0.004);
      }
      for (int g = 0; g < n.gpus; ++g) {
        Labels l = {{"gpu", std::to_string(g)}, {"uuid", fmt::format("GPU-{}-{}", n.name, g)}, {"model", "NVIDIA A100-SXM4-80GB"}};
        if (!n.job.empty()) l.push_back({"job", n.job});
        add("gpu_utilization_ratio", l, std::round(util * 1000) / 1000, SeriesType::Gauge);
      }
      nlohmann::json dirs = nlohmann::json::array();
      if (!n.job.empty())
        dirs.push_back({{"path", kMount + "/data/" + n.job}, {"ops", std::round(stat + open)}, {"job", n.job}, {"comm", "python3"}});
      if (storm > 0) dirs.push_back({{"path", kMount + "/scratch/j88/tiny"}, {"ops", std::round(storm)}, {"job", "j88"}, {"comm", "find"}});
      if (!dirs.empty()) {
        Event e;
        e.kind = "vfs_hot_dirs";
        e.t_ms = t;
        e.labels = {{"fstype", "lustre"}};
        e.fields_json = nlohmann::json{{"dirs", dirs}}.dump();
        b.events.push_back(std::move(e));
      }
      out.push_back(std::move(b));
    }
    return out;
  }

 private:
  Story s_;
  std::mt19937_64 rng_;
  std::map<std::string, double> cum_;
  std::map<std::string, uint64_t> seq_;
};

Batch merge(std::vector<Batch>& part) {
  Batch out = std::move(part.front());
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < out.series.size(); ++i) index[series_key(out.series[i].name, out.series[i].labels)] = i;
  for (size_t k = 1; k < part.size(); ++k) {
    for (auto& s : part[k].series) out.series[index.at(series_key(s.name, s.labels))].points.push_back(s.points[0]);
    for (auto& e : part[k].events) out.events.push_back(std::move(e));
    out.seq = part[k].seq;
  }
  part.clear();
  return out;
}

struct Replay {
  std::string dir;
  std::unique_ptr<Collector> collector;
  nlohmann::json incidents;
};

// Replays the story into a fresh collector with default detection settings.
void replay(Replay& run, bool batched) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ss-hand-XXXXXX").string();
  run.dir = mkdtemp(tmpl.data());
  auto cfg = read_collector_config(YAML::Load(fmt::format("listen: 127.0.0.1:0\ndb: {}/db.sqlite\nlog_level: warn\n", run.dir)));
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto c = Collector::start(*cfg);
  ASSERT_TRUE(c.ok()) << c.error().message;
  run.collector = std::move(*c);
  httplib::Client cli(run.collector->url());
  cli.set_keep_alive(true);
  // A busy machine (several builds at load 20+) answered some posts after httplib's 5 s default.
  cli.set_read_timeout(60);
  cli.set_write_timeout(60);
  auto post = [&](const Batch& b) {
    auto r = cli.Post("/api/v1/ingest", encode_batch(b), "application/json");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
  };
  Story story;
  HandCluster cluster(story);
  // Batched: each node sends 1-12 samples at a time, out of phase; nothing gets through during the
  // outage, after which the spools drain one node after the other.
  const std::map<std::string, std::pair<size_t, size_t>> sizes = {{"cn-01", {12, 5}}, {"cn-02", {7, 7}},
                                                                   {"cn-03", {1, 1}},  {"cn-04", {12, 11}},
                                                                   {"cn-05", {5, 2}},  {"cn-06", {9, 4}}};
  const int64_t outage = kT0 + 34 * kMin, outage_end = outage + 10 * kMin;
  std::map<std::string, std::vector<Batch>> spool;
  std::map<std::string, size_t> due;
  for (const auto& [n, s] : sizes) due[n] = s.second;
  bool drained = false;
  for (int64_t t = kT0 + kI; t <= story.end; t += kI) {
    if (batched && !drained && t >= outage_end) {
      for (const char* n : {"cn-04", "cn-01", "cn-06", "cn-02", "cn-05", "cn-03"})
        while (!spool[n].empty()) {
          size_t k = std::min<size_t>(12, spool[n].size());
          std::vector<Batch> part(std::make_move_iterator(spool[n].begin()), std::make_move_iterator(spool[n].begin() + k));
          spool[n].erase(spool[n].begin(), spool[n].begin() + k);
          post(merge(part));
        }
      drained = true;
    }
    for (auto& b : cluster.step(t)) {
      if (!batched) {
        post(b);
        continue;
      }
      std::string n = b.node;
      spool[n].push_back(std::move(b));
      if (t >= outage && t < outage_end) continue;
      if (spool[n].size() >= due[n]) {
        post(merge(spool[n]));
        due[n] = sizes.at(n).first;
      }
    }
  }
  for (auto& [n, q] : spool)
    if (!q.empty()) post(merge(q));
  for (int i = 0; i < 600; ++i) {
    auto r = cli.Get("/api/v1/detect/status");
    ASSERT_TRUE(r && r->status == 200);
    if (nlohmann::json::parse(r->body)["queued"] == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto r = cli.Get(fmt::format("/api/v1/incidents?from={}&to={}", kT0, story.end));
  ASSERT_TRUE(r && r->status == 200);
  run.incidents = nlohmann::json::parse(r->body)["incidents"];
}

// DESIGN §7, written out again: each GPU's baseline is its time-weighted mean utilization over the 10
// minutes before `from` (a point covers the interval since the previous point), its cost the sum of
// max(0, baseline − util) over the intervals in [from, to], at the A100 spot price.
double section7(Store& store, const std::string& job, const std::vector<std::string>& nodes, int64_t from, int64_t to) {
  const double price = 1.924 / 3600;  // A100: no built-in price, so the default (H200 spot), $/GPU-second
  auto series = store.select("gpu_utilization_ratio", {});
  EXPECT_TRUE(series.ok());
  double usd = 0;
  for (const auto& s : *series) {
    std::string node(label_value(s.labels, "node"));
    if (!job.empty() && label_value(s.labels, "job") != job) continue;
    if (job.empty() && std::find(nodes.begin(), nodes.end(), node) == nodes.end()) continue;
    auto pts = store.read(s.id, from - 11 * kMin, to);
    EXPECT_TRUE(pts.ok());
    double wsum = 0, secs = 0;
    for (size_t i = 1; i < pts->size(); ++i) {
      int64_t a = std::max((*pts)[i - 1].t_ms, from - 10 * kMin), b = std::min((*pts)[i].t_ms, from);
      if (b > a) wsum += (*pts)[i].value * (b - a) / 1000.0, secs += (b - a) / 1000.0;
    }
    if (secs <= 0) continue;
    double base = wsum / secs;
    for (size_t i = 1; i < pts->size(); ++i) {
      int64_t a = std::max((*pts)[i - 1].t_ms, from), b = std::min((*pts)[i].t_ms, to);
      if (b > a) usd += std::max(0.0, base - (*pts)[i].value) * (b - a) / 1000.0 * price;
    }
  }
  return usd;
}

std::vector<nlohmann::json> of_kind(const nlohmann::json& list, const std::string& kind) {
  std::vector<nlohmann::json> out;
  for (const auto& i : list)
    if (i["kind"] == kind) out.push_back(i);
  return out;
}

}  // namespace

TEST(DetectHandmade, SameIncidentsAndTrueCostWhateverTheDelivery) {
  Replay each, batched;
  replay(each, false);
  replay(batched, true);
  ASSERT_TRUE(each.collector && batched.collector);
  Story story;
  for (Replay* run : {&each, &batched}) {
    SCOPED_TRACE(run == &each ? "per interval" : "batched");
    for (const auto& i : run->incidents)
      EXPECT_TRUE(i["kind"] == "checkpoint_stall" || i["kind"] == "metadata_storm" ||
                  (i["kind"] == "waittime_spike" && i["target"] == kMdt && i["start"] >= story.storm - 2 * kI))
          << "unexpected: " << i.dump().substr(0, 600);  // the load ramp raises nothing
    auto stalls = of_kind(run->incidents, "checkpoint_stall");
    ASSERT_EQ(stalls.size(), 1u) << run->incidents.dump().substr(0, 3000);
    const auto& st = stalls[0];
    EXPECT_EQ(st["key"], "checkpoint_stall/j77");
    EXPECT_EQ(st["nodes"], (std::vector<std::string>{"cn-01", "cn-02"}));
    EXPECT_LE(std::abs(st["start"].get<int64_t>() - story.stall), kI);
    EXPECT_LE(st["detected"].get<int64_t>() - story.stall, 2 * kI);
    double want = section7(run->collector->store(), "j77", {}, st["start"], st["end"]);
    EXPECT_GT(want, 0);
    EXPECT_NEAR(st["cost_usd"].get<double>(), want, 0.01 * want);

    auto storms = of_kind(run->incidents, "metadata_storm");
    ASSERT_EQ(storms.size(), 1u) << run->incidents.dump().substr(0, 3000);
    const auto& sm = storms[0];
    EXPECT_EQ(sm["fs"], kFs);
    EXPECT_LE(sm["detected"].get<int64_t>() - story.storm, 2 * kI);
    ASSERT_FALSE(sm["culprits"].empty());
    EXPECT_EQ(sm["culprits"][0]["job"], "j88");
    EXPECT_EQ(sm["culprits"][0]["path"], kMount + "/scratch/j88/tiny");
    std::set<std::string> victims;
    double sum = 0;
    for (const auto& v : sm["victims"]) {
      victims.insert(v["job"].get<std::string>());
      sum += v["cost_usd"].get<double>();
    }
    EXPECT_EQ(victims, (std::set<std::string>{"j77", "j88"}));
    EXPECT_NEAR(sm["cost_usd"].get<double>(), sum, 1e-9);
    double want_storm = section7(run->collector->store(), "j77", {}, sm["start"], sm["end"]) +
                        section7(run->collector->store(), "j88", {}, sm["start"], sm["end"]);
    EXPECT_NEAR(sm["cost_usd"].get<double>(), want_storm, 0.01 * want_storm);

    // The incident page shows what detection found: its victims, with their cost, beside the culprit.
    httplib::Client cli(run->collector->url());
    auto page = cli.Get("/ui/incidents/" + sm["id"].get<std::string>());
    ASSERT_TRUE(page && page->status == 200);
    auto victims_at = page->body.find("<h2>Victims</h2>");
    ASSERT_NE(victims_at, std::string::npos);
    std::string victims_html = page->body.substr(victims_at, page->body.find("<h2>", victims_at + 4) - victims_at);
    for (const char* job : {"<td>j77</td>", "<td>j88</td>", "<td>cn-01, cn-02</td>"})
      EXPECT_NE(victims_html.find(job), std::string::npos) << job << " in " << victims_html;
    EXPECT_NE(page->body.find("/scratch/j88/tiny"), std::string::npos);
  }
  // The two deliveries agree.
  for (const char* kind : {"checkpoint_stall", "metadata_storm"}) {
    auto a = of_kind(each.incidents, kind), b = of_kind(batched.incidents, kind);
    if (a.size() != 1 || b.size() != 1) continue;
    EXPECT_LE(std::abs(a[0]["start"].get<int64_t>() - b[0]["start"].get<int64_t>()), kI) << kind;
    EXPECT_EQ(a[0]["nodes"], b[0]["nodes"]) << kind;
    EXPECT_NEAR(a[0]["cost_usd"].get<double>(), b[0]["cost_usd"].get<double>(), 0.05 * a[0]["cost_usd"].get<double>()) << kind;
  }
  for (Replay* run : {&each, &batched}) {
    run->collector->stop();
    std::filesystem::remove_all(run->dir);
  }
}

// A new user's first storm: a fresh collector with no history lists it, naming its directory.
TEST(DetectHandmade, AFreshCollectorListsAStormWithoutHistory) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ss-fresh-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  auto cfg = read_collector_config(YAML::Load(fmt::format("listen: 127.0.0.1:0\ndb: {}/db.sqlite\nlog_level: warn\n", dir)));
  ASSERT_TRUE(cfg.ok());
  auto c = Collector::start(*cfg);
  ASSERT_TRUE(c.ok()) << c.error().message;
  httplib::Client cli((*c)->url());
  double stat = 0;
  uint64_t seq = 0;
  const int64_t start = kT0, storm = kT0 + 20'000, storm_end = storm + 30'000;
  for (int64_t t = start; t <= storm_end + 120'000; t += kI) {
    bool on = t > storm && t <= storm_end;
    double ops = (on ? 60000 : 40) * kI / 1000.0;
    stat += ops;
    Batch b;
    b.node = "laptop";
    b.seq = ++seq;
    Series s;
    s.name = "vfs_ops_total";
    s.type = SeriesType::Counter;
    s.labels = {{"fstype", "ext4"}, {"mount", "/home"}, {"op", "stat"}};
    s.points.push_back({t, stat});
    b.series.push_back(s);
    Event e;
    e.kind = "vfs_hot_dirs";
    e.t_ms = t;
    e.fields_json = nlohmann::json{{"dirs", {{{"path", on ? "/home/me/storm" : "/home/me"}, {"ops", ops}, {"comm", "stormscope"}}}}}.dump();
    b.events.push_back(e);
    auto r = cli.Post("/api/v1/ingest", encode_batch(b), "application/json");
    ASSERT_TRUE(r && r->status == 200);
  }
  nlohmann::json list;
  for (int i = 0; i < 100; ++i) {
    auto r = cli.Get(fmt::format("/api/v1/incidents?from={}&to={}", start, storm_end + 120'000));
    ASSERT_TRUE(r && r->status == 200);
    list = nlohmann::json::parse(r->body)["incidents"];
    if (!list.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto storms = of_kind(list, "metadata_storm");
  ASSERT_EQ(storms.size(), 1u) << list.dump();
  ASSERT_FALSE(storms[0]["culprits"].empty());
  EXPECT_EQ(storms[0]["culprits"][0]["path"], "/home/me/storm");
  (*c)->stop();
  std::filesystem::remove_all(dir);
}
