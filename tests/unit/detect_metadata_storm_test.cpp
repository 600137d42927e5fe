#include <gtest/gtest.h>

#include "collector/detect/metadata_storm.h"
#include "collector/detect/finding_key.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

// Four nodes of one job on ai0 doing a flat 200 stat/s each (flat on purpose: MAD = 0). A node given
// up on (silent) is judged without after two intervals.
struct Cluster {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  std::map<std::string, double> cum;
  std::vector<std::string> nodes = {"n1", "n2", "n3", "n4"};
  int64_t t = kT0;
  double base = 200;

  explicit Cluster(double base_rate = 200) : base(base_rate) {
    MetadataStormParams p;
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<MetadataStorm>(p, kI));
    EngineOptions o;
    o.lateness_ms = 2 * kI;
    engine = std::make_unique<Engine>(o, std::move(d), rec.sink());
  }
  // One interval: every node in `present` reports its counter after adding rate*10 s (extra for some).
  void step(std::map<std::string, double> extra = {}, std::set<std::string> absent = {},
            std::string hot_node = "", std::string hot_path = "") {
    t += kI;
    for (const auto& n : nodes) {
      double add = (base + (extra.count(n) ? extra[n] : 0)) * 10;
      cum[n] += add;
      if (absent.count(n)) continue;
      std::vector<Event> events;
      Event e;
      e.kind = "vfs_hot_dirs";
      e.t_ms = t;
      nlohmann::json dirs = nlohmann::json::array();
      dirs.push_back({{"path", "/lustre/ai0/data"}, {"ops", 2000}, {"job", "7"}, {"comm", "python"}});
      if (n == hot_node) dirs.push_back({{"path", hot_path}, {"ops", extra[n] * 10}, {"job", "7"}, {"comm", "find"}});
      e.fields_json = nlohmann::json{{"dirs", dirs}}.dump();
      events.push_back(e);
      engine->ingest(batch(n,
                           {counter("vfs_ops_total", {{"fstype", "lustre"}, {"mount", "/lustre/ai0"}, {"op", "stat"}, {"job", "7"}}, t, cum[n])},
                           events));
    }
  }
  void warm() {
    for (int i = 0; i < 40; ++i) step();
  }
};

}  // namespace

TEST(MetadataStorm, FiresOnAStormWithCulpritDirectory) {
  Cluster c;
  c.warm();
  ASSERT_EQ(c.rec.count(State::Anomalous), 0u);
  for (int i = 0; i < 3; ++i) c.step({{"n2", 20000}}, {}, "n2", "/lustre/ai0/home/u/tiny");
  auto hits = c.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  const auto& f = hits.back();
  EXPECT_EQ(f.key, "metadata_storm/ai0");
  EXPECT_EQ(f.fs, "ai0");
  ASSERT_FALSE(f.culprits.empty());
  EXPECT_EQ(f.culprits[0].node, "n2");
  EXPECT_EQ(f.culprits[0].path, "/lustre/ai0/home/u/tiny");
  EXPECT_EQ(f.culprits[0].comm, "find");
  EXPECT_EQ(f.culprits[0].job, "7");
  EXPECT_NE(f.summary.find("stat storm on ai0"), std::string::npos) << f.summary;
  EXPECT_EQ(f.nodes, std::vector<std::string>{"n2"});
  EXPECT_TRUE(f.evidence.contains("signals"));
  EXPECT_GT(f.evidence["signals"][0]["ops_per_second"].get<double>(), 20000);
  EXPECT_NEAR(f.evidence["signals"][0]["baseline"].get<double>(), 800, 1);
}

TEST(MetadataStorm, FlatBaselineNeedsTheAbsoluteFloor) {
  // MAD is 0 here: without the floor and the ratio any wiggle would fire.
  Cluster c;
  c.warm();
  for (int i = 0; i < 10; ++i) c.step({{"n1", 50 + i}, {"n3", 300}});
  EXPECT_EQ(c.rec.count(State::Anomalous), 0u);
}

TEST(MetadataStorm, CounterResetIsNotAStorm) {
  Cluster c;
  c.warm();
  c.cum["n3"] = 0;  // remount: n3's counter restarts
  for (int i = 0; i < 5; ++i) c.step();
  EXPECT_EQ(c.rec.count(State::Anomalous), 0u);
  EXPECT_EQ(c.engine->stats().counter_resets, 1u);
}

TEST(MetadataStorm, ANodeReturningAfterSilenceIsNotAStorm) {
  Cluster c;
  c.warm();
  // n4 stops reporting for 5 minutes (its counter keeps counting), then returns.
  for (int i = 0; i < 30; ++i) c.step({}, {"n4"});
  for (int i = 0; i < 10; ++i) c.step();
  EXPECT_EQ(c.rec.count(State::Anomalous), 0u);
}

TEST(MetadataStorm, ARebootedNodeIsNotAStorm) {
  Cluster c;
  c.warm();
  for (int i = 0; i < 12; ++i) c.step({}, {"n1"});
  c.cum["n1"] = 0;  // back with fresh counters
  for (int i = 0; i < 10; ++i) c.step();
  EXPECT_EQ(c.rec.count(State::Anomalous), 0u);
}

TEST(MetadataStorm, AStormNodeThatStopsReportingLeavesTheStormUndecided) {
  // The silent n2 is awaited for two intervals (the lateness here), so states are read then.
  Cluster c;
  c.warm();
  for (int i = 0; i < 3; ++i) c.step({{"n2", 20000}}, {}, "n2", "/x");
  c.step({{"n2", 20000}}, {"n2"});  // n2 silent: the others look normal
  c.step({{"n2", 20000}}, {"n2"});
  c.step({{"n2", 20000}}, {"n2"});
  EXPECT_EQ(c.rec.all.back().second.state, State::Unknown);  // the bucket of the second silent step
  // n2 back and normal: its first increase spans the gap (not judged), then it reports normally.
  c.step();
  c.step();
  c.step();
  c.step();
  EXPECT_EQ(c.rec.all.back().second.state, State::Quiet);
}

TEST(MetadataStorm, OtherNodesStoppingDuringAStormDoNotEndIt) {
  Cluster c;
  c.warm();
  for (int i = 0; i < 3; ++i) c.step({{"n2", 20000}}, {}, "n2", "/x");
  for (int i = 0; i < 3; ++i) c.step({{"n2", 20000}}, {"n1", "n3"}, "n2", "/x");
  EXPECT_EQ(c.rec.all.back().second.state, State::Anomalous);
}

TEST(MetadataStorm, StormBecomesNoBaseline) {
  // A long storm does not teach the baseline: it stays anomalous.
  Cluster c;
  c.warm();
  for (int i = 0; i < 60; ++i) c.step({{"n2", 20000}});
  EXPECT_EQ(c.rec.all.back().second.state, State::Anomalous);
}

TEST(MetadataStorm, MdcWaitAloneIsNotAStorm) {
  Recorder rec;
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(std::make_unique<MetadataStorm>(MetadataStormParams{}, kI));
  Engine e(EngineOptions{}, std::move(d), rec.sink());
  double ops = 0, wait = 0;
  for (int i = 1; i <= 60; ++i) {
    int64_t t = kT0 + i * kI;
    ops += 1000;
    wait += (i > 40 ? 0.3 : 0.001) * 1000;  // a slow MDS from i = 41, same op rate
    e.ingest(batch("n1", {counter("lustre_client_ops_total", {{"fs", "ai0"}, {"target", "ai0-MDT0000"}, {"op", "getattr"}}, t, ops),
                          counter("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-MDT0000"}}, t, ops),
                          counter("lustre_client_rpc_wait_seconds_total", {{"fs", "ai0"}, {"target", "ai0-MDT0000"}}, t, wait)}));
  }
  EXPECT_EQ(rec.count(State::Anomalous), 0u);
}

TEST(MetadataStorm, WantsOnlyTheSeriesItJudges) {
  MetadataStorm m(MetadataStormParams{}, kI);
  EXPECT_TRUE(m.wants_series("lustre_client_ops_total", {{"fs", "ai0"}, {"op", "getattr"}, {"target", "ai0-MDT0000"}}));
  EXPECT_FALSE(m.wants_series("lustre_client_ops_total", {{"fs", "ai0"}, {"op", "ost_read"}, {"target", "ai0-OST0003"}}));
  EXPECT_FALSE(m.wants_series("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0003"}}));
  EXPECT_TRUE(m.wants_series("vfs_ops_total", {{"op", "stat"}}));
  EXPECT_FALSE(m.wants_series("vfs_ops_total", {{"op", "read"}}));
  EXPECT_FALSE(m.wants_series("beegfs_server_requests_total", {{"nodetype", "storage"}}));
  EXPECT_TRUE(m.wants_series("lustre_mdt_ops_total", {{"target", "ai0-MDT0000"}}));
}

TEST(MetadataStorm, LoadGrowingThreefoldOverMinutesIsNoStorm) {
  // 2,000 stat/s a node; the whole cluster (then two nodes of it) ramps to 3x over 5 minutes and stays.
  for (bool whole : {true, false}) {
    Cluster c(2000);
    c.warm();
    for (int i = 1; i <= 150; ++i) {
      double x = std::min(1.0, i / 30.0);
      std::map<std::string, double> extra;
      for (const auto& n : c.nodes)
        if (whole || n == "n1" || n == "n2") extra[n] = 2 * 2000 * x;
      c.step(extra);
    }
    EXPECT_EQ(c.rec.count(State::Anomalous), 0u) << (whole ? "whole cluster" : "two nodes");
  }
}

TEST(MetadataStorm, ATenfoldStormOpensInItsFirstInterval) {
  Cluster c(2000);
  c.warm();
  int64_t first = c.t;  // the storm's first interval is the bucket that starts here
  for (int i = 0; i < 5; ++i) c.step({{"n3", 18000}}, {}, "n3", "/lustre/ai0/scratch/x");
  EXPECT_EQ(c.rec.first(State::Anomalous), first);
}

TEST(MetadataStorm, AStormHoveringAtTheThresholdStaysOneStorm) {
  // n2 alternates between 5.5x and 3.5x its baseline: above the threshold that starts a storm, then
  // below it but above the one that ends it.
  Cluster c(2000);
  c.warm();
  for (int i = 0; i < 30; ++i) c.step({{"n2", i % 2 ? 5000 : 9000}}, {}, "n2", "/x");
  size_t anomalous = 0, quiet_after = 0;
  for (const auto& [b, f] : c.rec.all) {
    anomalous += f.state == State::Anomalous;
    quiet_after += anomalous > 0 && f.state == State::Quiet;
  }
  EXPECT_EQ(anomalous, 30u);
  EXPECT_EQ(quiet_after, 0u);
}

TEST(MetadataStorm, AFreshDetectorJudgesAStormAgainstTheColdFloor) {
  Cluster c(50);
  c.step();
  c.step();
  for (int i = 0; i < 3; ++i) c.step({{"n1", 60000}}, {}, "n1", "/lustre/ai0/me/storm");
  ASSERT_GT(c.rec.count(State::Anomalous), 0u);
  const auto f = c.rec.of(State::Anomalous).front();
  ASSERT_FALSE(f.culprits.empty());
  EXPECT_EQ(f.culprits[0].path, "/lustre/ai0/me/storm");
  // Normal load on a fresh detector is not.
  Cluster d(5000);
  for (int i = 0; i < 10; ++i) d.step();
  EXPECT_EQ(d.rec.count(State::Anomalous), 0u);
}

TEST(FindingKey, NamesAFileSystemAfterASlashAndAMountPointAfterAColon) {
  EXPECT_EQ(finding_key("metadata_storm", "ai0"), "metadata_storm/ai0");
  EXPECT_EQ(finding_key("metadata_storm", "/"), "metadata_storm:/");
  EXPECT_EQ(finding_key("metadata_storm", "/scratch"), "metadata_storm:/scratch");
}

namespace {

// A BeeGFS site: three clients mount instance "scratch" (eBPF on), the query node mgmt01 reports the meta
// servers and clients of "scratch" and of another instance, "projects", whose ids are the same.
struct BeegfsSite {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  int64_t t = kT0;
  std::map<std::string, double> cum;
  bool ebpf;
  explicit BeegfsSite(bool with_ebpf) : ebpf(with_ebpf) {
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<MetadataStorm>(MetadataStormParams{}, kI));
    engine = std::make_unique<Engine>(EngineOptions{}, std::move(d), rec.sink());
  }
  double& add(const std::string& key, double per_s) { return cum[key] += per_s * kI / 1000; }
  void step(double storm = 0) {
    t += kI;
    for (std::string n : {"n1", "n2", "n3"}) {
      double rate = 300 + (n == "n2" ? storm : 0);
      std::vector<Series> s;
      if (ebpf)
        s.push_back(counter("vfs_ops_total", {{"fstype", "beegfs"}, {"fs", "scratch"}, {"mount", "/mnt/beegfs"}, {"op", "stat"}, {"job", "j-" + n}},
                            t, add("vfs" + n, rate)));
      else
        s.push_back(gauge("gpu_utilization_ratio", {{"gpu", "0"}}, t, 0.9));  // the node is alive, without eBPF
      engine->ingest(batch(n, s));
    }
    std::vector<Series> s;
    for (std::string fs : {"scratch", "projects"}) {
      double total = fs == "scratch" ? 900 + storm : 700;
      Labels srv{{"fs", fs}, {"nodetype", "meta"}, {"server", "meta01"}};
      s.push_back(counter("beegfs_server_requests_total", srv, t, add("req" + fs, total)));
      s.push_back(gauge("beegfs_server_queue_length", srv, t, fs == "scratch" && storm > 0 ? 350 : 1));
      for (std::string ip : {"10.0.0.11", "10.0.0.12", "10.0.0.13"}) {
        double rate = 300 + (fs == "scratch" && ip == "10.0.0.12" ? storm : 0);
        s.push_back(counter("beegfs_client_ops_total", {{"fs", fs}, {"nodetype", "meta"}, {"client", ip}, {"op", "stat"}}, t,
                            add(fs + ip, rate)));
      }
    }
    engine->ingest(batch("mgmt01", s));
  }
};

}  // namespace

// Each BeeGFS instance is judged on its own: the meta server of the storming one names its requests and
// queue; culprits come from eBPF when it runs (jobs), else from the servers' client statistics (IPs).
TEST(MetadataStorm, BeegfsPerInstanceWithCulprits) {
  for (bool ebpf : {true, false}) {
    BeegfsSite site(ebpf);
    for (int i = 0; i < 40; ++i) site.step();
    ASSERT_EQ(site.rec.count(State::Anomalous), 0u);
    for (int i = 0; i < 3; ++i) site.step(30000);
    auto hits = site.rec.of(State::Anomalous);
    ASSERT_FALSE(hits.empty()) << ebpf;
    for (const auto& h : hits) EXPECT_EQ(h.key, "metadata_storm/scratch") << ebpf;  // never "projects"
    const Finding& f = hits.back();
    ASSERT_FALSE(f.culprits.empty());
    if (ebpf) {
      EXPECT_EQ(f.culprits[0].job, "j-n2");
      EXPECT_EQ(f.culprits[0].node, "n2");
    } else {
      EXPECT_EQ(f.culprits[0].node, "10.0.0.12");
      EXPECT_EQ(f.evidence["culprit_source"], "beegfs_clients");
    }
    bool server_signal = false;
    for (const auto& s : f.evidence["signals"])
      if (s["source"] == "beegfs" && s["target"] == "meta01" && s["anomalous"] == true) server_signal = true;
    EXPECT_TRUE(server_signal) << f.evidence.dump();
    if (!ebpf) {
      EXPECT_NE(f.summary.find("meta requests storm on meta01 (beegfs)"), std::string::npos) << f.summary;
      EXPECT_NE(f.summary.find("queue 350"), std::string::npos) << f.summary;
    }
  }
}

// Weka: the cluster's metadata op rates (once a minute, fs = the cluster) storm; the culprits are the jobs
// whose system calls reached the cluster's file systems (fs = the Weka file system, joined through
// weka_fs_capacity_bytes{fs,cluster}).
TEST(MetadataStorm, WekaClusterWithEbpfCulprits) {
  Recorder rec;
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(std::make_unique<MetadataStorm>(MetadataStormParams{}, kI));
  Engine engine(EngineOptions{}, std::move(d), rec.sink());
  int64_t t = kT0;
  std::map<std::string, double> cum;
  auto step = [&](double storm) {
    t += kI;
    for (std::string n : {"n1", "n2"}) {
      double rate = 200 + (n == "n1" ? storm : 0);
      cum[n] += rate * kI / 1000;
      engine.ingest(batch(n, {counter("vfs_ops_total", {{"fstype", "wekafs"}, {"fs", "default"}, {"mount", "/mnt/weka"}, {"op", "stat"}, {"job", "j-" + n}},
                                      t, cum[n])}));
    }
    std::vector<Series> s{gauge("weka_fs_capacity_bytes", {{"fs", "default"}, {"cluster", "prod"}}, t, 1e15)};
    if (t % 60'000 == 0) s.push_back(gauge("weka_op_rate", {{"fs", "prod"}, {"op", "getattr"}}, t, 600 + storm));
    engine.ingest(batch("weka-mon", s));
  };
  for (int i = 0; i < 240; ++i) step(0);  // 40 minutes: the once-a-minute signal needs its history too
  ASSERT_EQ(rec.count(State::Anomalous), 0u);
  for (int i = 0; i < 12; ++i) step(25000);
  bool cluster = false, fs = false;
  for (const auto& h : rec.of(State::Anomalous)) {
    if (h.key == "metadata_storm/prod") {
      cluster = true;
      ASSERT_FALSE(h.culprits.empty());
      EXPECT_EQ(h.culprits[0].job, "j-n1");
      EXPECT_NE(h.summary.find("getattr storm on prod (weka)"), std::string::npos) << h.summary;
    }
    if (h.key == "metadata_storm/default") fs = true;
  }
  EXPECT_TRUE(cluster);
  EXPECT_TRUE(fs);  // the file system itself, from the clients' system calls
}
