// The BeeGFS and Weka sources run end to end through the Source interface against the fake `beegfs-ctl`,
// `beegfs` and `weka` executables of tests/fake/storage (which print the fixtures), one that hangs and one that
// fails, and against a cpp-httplib fake of the Weka REST API on loopback.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "agent/sources/beegfs/beegfs_source.h"
#include "agent/sources/weka/weka_source.h"
#include "common/config.h"
#include "common/time.h"

using namespace ss;
using namespace ss::agent;

namespace {

const std::string kFake = std::string(SS_SOURCE_DIR) + "/tests/fake/storage";

config::Section section(const std::string& yaml, const std::string& path) {
  auto n = config::load_string(yaml);
  EXPECT_TRUE(n) << n.error().message;
  return config::Section(*n, path);
}

// The value of the one sample with this name and (a superset of) these labels; NaN when absent.
const agent::Sample* find(const Collection& c, const std::string& name, const Labels& labels) {
  const agent::Sample* found = nullptr;
  for (const auto& s : c.samples()) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) match = match && label_value(*s.labels, k) == v;
    if (!match) continue;
    EXPECT_EQ(found, nullptr) << "two samples match " << name;
    found = &s;
  }
  return found;
}

double value(const Collection& c, const std::string& name, const Labels& labels) {
  auto* s = find(c, name, labels);
  EXPECT_NE(s, nullptr) << name << " with " << labels.size() << " labels is missing";
  return s ? s->value : -1;
}

std::unique_ptr<Source> make(const std::string& yaml, bool weka = false, FsNames names = {}) {
  AgentContext ctx;
  ctx.node = "mgmt01";
  ctx.fs_names = std::move(names);
  auto sources = section(yaml, "").child("sources");
  auto r = weka ? make_weka_source(sources.child("weka"), ctx) : make_beegfs_source(sources.child("beegfs"), ctx);
  EXPECT_TRUE(r) << r.error().message;
  return r ? std::move(*r) : nullptr;
}

// Environment switches of the fakes, restored when the test ends.
struct FakeEnv {
  FakeEnv() { clear(); }
  ~FakeEnv() { clear(); }
  static void clear() {
    unsetenv("SS_FAKE_MODE");
    unsetenv("SS_FAKE_CYCLE");
  }
};

double sum_range(int from, int to, double scale = 1) {
  double s = 0;
  for (int k = from; k <= to; ++k) s += k * scale;
  return s;
}

constexpr int64_t kNewestSecondMs = 1763700009000;

void expect_beegfs_metrics(const Collection& c) {
  // Every series names its BeeGFS instance; here the tools' default client configuration is absent, so the
  // management host is unknown and the instance is "beegfs".
  for (const auto& s : c.samples()) {
    if (s.name.starts_with("beegfs_") && s.name != "beegfs_tool_info") {
      EXPECT_EQ(label_value(*s.labels, "fs"), "beegfs") << s.name;
    }
  }
  // Servers: counters from the per-second history, stamped with the newest bucket.
  EXPECT_EQ(value(c, "beegfs_server_requests_total", {{"nodetype", "meta"}, {"server", "meta01"}}), sum_range(100, 109));
  EXPECT_EQ(find(c, "beegfs_server_requests_total", {{"nodetype", "meta"}, {"server", "meta01"}})->t_ms, kNewestSecondMs);
  EXPECT_EQ(find(c, "beegfs_server_requests_total", {{"nodetype", "meta"}, {"server", "meta01"}})->type, SeriesType::Counter);
  EXPECT_EQ(value(c, "beegfs_server_busy_workers", {{"nodetype", "meta"}, {"server", "meta01"}}), 4);
  EXPECT_EQ(value(c, "beegfs_server_bytes_total", {{"server", "stor01"}, {"op", "write"}}), sum_range(1000, 1009, 1024));
  EXPECT_EQ(value(c, "beegfs_server_bytes_total", {{"server", "stor01"}, {"op", "read"}}), sum_range(200, 209, 1024));
  EXPECT_EQ(find(c, "beegfs_server_bytes_total", {{"server", "meta01"}}), nullptr);  // disk bytes: storage only
  // Clients and users, by op name.
  EXPECT_EQ(value(c, "beegfs_client_ops_total", {{"nodetype", "meta"}, {"client", "10.0.0.12"}, {"op", "create"}}), 250000);
  EXPECT_EQ(value(c, "beegfs_client_ops_total", {{"nodetype", "meta"}, {"client", "10.0.0.11"}, {"op", "statli"}}), 7723);
  EXPECT_EQ(find(c, "beegfs_client_ops_total", {{"op", "sum"}}), nullptr);
  EXPECT_EQ(value(c, "beegfs_client_ops_total", {{"nodetype", "storage"}, {"op", "ops-rd"}}), 22385);
  EXPECT_EQ(value(c, "beegfs_user_ops_total", {{"nodetype", "meta"}, {"user", "1000"}, {"op", "mkdir"}}), 1200);
  EXPECT_EQ(value(c, "beegfs_user_ops_total", {{"nodetype", "meta"}, {"user", "-1"}, {"op", "statfs"}}), 12);
  EXPECT_GT(value(c, "beegfs_user_bytes_total", {{"user", "1000"}, {"op", "write"}}), 8e7);
}

}  // namespace

TEST(BeegfsSource, Beegfs7EndToEnd) {
  FakeEnv env;
  auto src = make("sources:\n  beegfs:\n    tool: beegfs-ctl\n    ctl_path: " + kFake + "/beegfs-ctl\n    timeout: 5s\n");
  ASSERT_TRUE(src);
  EXPECT_EQ(src->name(), "beegfs");
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_TRUE(r) << r.error().message;
  expect_beegfs_metrics(c);
  EXPECT_EQ(value(c, "beegfs_server_requests_total", {{"nodetype", "storage"}, {"server", "stor01"}}), sum_range(50, 59));
  EXPECT_EQ(value(c, "beegfs_server_requests_total", {{"nodetype", "meta"}, {"server", "meta02"}}), sum_range(10, 19));
  EXPECT_EQ(value(c, "beegfs_client_bytes_total", {{"client", "10.0.0.11"}, {"op", "read"}}), 313.54 * 1048576);
  EXPECT_EQ(value(c, "beegfs_user_bytes_total", {{"user", "1000"}, {"op", "read"}}), 3.28777e+08);
  EXPECT_EQ(value(c, "beegfs_target_capacity_bytes", {{"nodetype", "storage"}, {"target", "101"}}), 63000.0 * 1073741824);
  EXPECT_EQ(value(c, "beegfs_target_free_bytes", {{"nodetype", "meta"}, {"target", "1"}}), 1322.7 * 1073741824);
  EXPECT_EQ(value(c, "beegfs_target_inodes", {{"nodetype", "storage"}, {"target", "102"}}), 3200.0e6);
  EXPECT_EQ(value(c, "beegfs_target_inodes_free", {{"nodetype", "storage"}, {"target", "102"}}), 3199.0e6);
  EXPECT_EQ(value(c, "beegfs_target_reachable", {{"nodetype", "meta"}, {"target", "2"}}), 0);
  EXPECT_EQ(value(c, "beegfs_target_consistent", {{"nodetype", "storage"}, {"target", "101"}}), 1);
  EXPECT_EQ(value(c, "beegfs_tool_info", {{"tool", "beegfs-ctl"}, {"version", "7"}}), 1);

  // The next cycle's window overlaps by five seconds: only the five new seconds are added.
  setenv("SS_FAKE_CYCLE", "2", 1);
  Collection c2(now_ms());
  ASSERT_TRUE(src->collect(c2));
  EXPECT_EQ(value(c2, "beegfs_server_requests_total", {{"nodetype", "storage"}, {"server", "stor01"}}), sum_range(50, 64));
  EXPECT_EQ(value(c2, "beegfs_server_bytes_total", {{"server", "stor01"}, {"op", "write"}}), sum_range(1000, 1014, 1024));
  EXPECT_EQ(find(c2, "beegfs_server_requests_total", {{"server", "stor01"}})->t_ms, 1763700014000);
  EXPECT_EQ(value(c2, "beegfs_server_requests_total", {{"nodetype", "meta"}, {"server", "meta01"}}), sum_range(100, 109));
}

TEST(BeegfsSource, Beegfs8EndToEndAndAutoDetection) {
  FakeEnv env;
  struct PathGuard {
    std::string old = getenv("PATH") ? getenv("PATH") : "";
    PathGuard() { setenv("PATH", (kFake + ":" + old).c_str(), 1); }
    ~PathGuard() { setenv("PATH", old.c_str(), 1); }
  } path;  // the fakes come first in PATH
  auto src = make("sources:\n  beegfs:\n    timeout: 5s\n");  // auto: finds `beegfs` (BeeGFS 8) first
  ASSERT_TRUE(src);
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(value(c, "beegfs_tool_info", {{"tool", "beegfs"}, {"version", "8"}}), 1);
  expect_beegfs_metrics(c);
  EXPECT_EQ(value(c, "beegfs_server_requests_total", {{"nodetype", "storage"}, {"server", "stor01"}}), sum_range(100, 109));
  EXPECT_EQ(value(c, "beegfs_server_network_bytes_total", {{"nodetype", "meta"}, {"server", "meta02"}, {"op", "sent"}}),
            sum_range(0, 9, 2048));
  EXPECT_EQ(value(c, "beegfs_client_bytes_total", {{"client", "fd00::11"}, {"op", "write"}}), 88080384);
  EXPECT_EQ(value(c, "beegfs_target_capacity_bytes", {{"nodetype", "meta"}, {"target", "1"}}), 30602483335168.0);
  EXPECT_EQ(value(c, "beegfs_target_consistent", {{"nodetype", "storage"}, {"target", "102"}}), 0);
  EXPECT_EQ(value(c, "beegfs_target_reachable", {{"nodetype", "storage"}, {"target", "102"}}), 0);

  setenv("SS_FAKE_CYCLE", "2", 1);
  Collection c2(now_ms());
  ASSERT_TRUE(src->collect(c2));
  EXPECT_EQ(value(c2, "beegfs_server_requests_total", {{"nodetype", "storage"}, {"server", "stor01"}}), sum_range(100, 114));
}

// Two instances, each with its own management host: every series carries its instance's fs, and each keeps
// its own server history.
TEST(BeegfsSource, SeveralInstancesEachWithItsFs) {
  FakeEnv env;
  std::string conf = std::string(SS_FIXTURES_DIR) + "/beegfs/beegfs-client_scratch.conf";  // sysMgmtdHost = mgmt01
  auto src = make("sources:\n  beegfs:\n    tool: beegfs-ctl\n    ctl_path: " + kFake +
                      "/beegfs-ctl\n    timeout: 5s\n    cycle_timeout: 20s\n    filesystems:\n"
                      "      - args: [--cfgFile=" + conf + "]\n"
                      "      - {fs: projects, args: [--cfgFile=/nonexistent/beegfs-client.conf]}\n",
                  false, FsNames{{{"mgmt01", "scratch"}}});
  ASSERT_TRUE(src);
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_TRUE(r) << r.error().message;
  for (const char* fs : {"scratch", "projects"}) {
    EXPECT_EQ(value(c, "beegfs_server_requests_total", {{"fs", fs}, {"nodetype", "meta"}, {"server", "meta01"}}),
              sum_range(100, 109)) << fs;
    EXPECT_EQ(value(c, "beegfs_client_ops_total", {{"fs", fs}, {"nodetype", "meta"}, {"client", "10.0.0.12"}, {"op", "create"}}),
              250000) << fs;
    EXPECT_EQ(value(c, "beegfs_target_capacity_bytes", {{"fs", fs}, {"nodetype", "storage"}, {"target", "101"}}),
              63000.0 * 1073741824) << fs;
    EXPECT_EQ(value(c, "beegfs_server_bytes_total", {{"fs", fs}, {"server", "stor01"}, {"op", "write"}}),
              sum_range(1000, 1009, 1024)) << fs;
  }
  setenv("SS_FAKE_CYCLE", "2", 1);
  Collection c2(now_ms());
  ASSERT_TRUE(src->collect(c2));
  for (const char* fs : {"scratch", "projects"})  // each instance adds only its five new seconds
    EXPECT_EQ(value(c2, "beegfs_server_requests_total", {{"fs", fs}, {"nodetype", "storage"}, {"server", "stor01"}}),
              sum_range(50, 64)) << fs;

  // BeeGFS 8: --mgmtd-addr names the management host; two instances that end up with one name are refused.
  FakeEnv::clear();
  auto both = make("sources:\n  beegfs:\n    tool: beegfs\n    cli_path: " + kFake +
                       "/beegfs\n    timeout: 5s\n    cycle_timeout: 20s\n    filesystems:\n"
                       "      - args: [--mgmtd-addr, 'mgmt02:8010']\n      - args: ['--mgmtd-addr=mgmt02:9010']\n");
  ASSERT_TRUE(both);
  Collection c3(now_ms());
  auto r3 = both->collect(c3);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("two BeeGFS instances are both named \"mgmt02\""), std::string::npos) << r3.error().message;
  EXPECT_EQ(value(c3, "beegfs_server_requests_total", {{"fs", "mgmt02"}, {"nodetype", "storage"}, {"server", "stor01"}}),
            sum_range(100, 109));
}

TEST(BeegfsSource, HangIsCutOffAndRetriedNextCycle) {
  FakeEnv env;
  auto src = make("sources:\n  beegfs:\n    tool: beegfs-ctl\n    ctl_path: " + kFake + "/beegfs-ctl\n    timeout: 500ms\n");
  ASSERT_TRUE(src);
  setenv("SS_FAKE_MODE", "hang", 1);
  auto start = std::chrono::steady_clock::now();
  Collection c(now_ms());
  auto r = src->collect(c);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("beegfs-ctl --listnodes --nodetype=meta"), std::string::npos) << r.error().message;
  // The fake sleeps 300 s: returning at all shows the process group was killed; the rest of the cycle was skipped.
  EXPECT_LT(elapsed, std::chrono::seconds(60));
  EXPECT_EQ(find(c, "beegfs_client_ops_total", {}), nullptr);

  unsetenv("SS_FAKE_MODE");
  Collection c2(now_ms());
  auto r2 = src->collect(c2);
  ASSERT_TRUE(r2) << r2.error().message;
  EXPECT_EQ(value(c2, "beegfs_client_ops_total", {{"nodetype", "meta"}, {"client", "10.0.0.12"}, {"op", "create"}}), 250000);
}

TEST(BeegfsSource, FailingToolIsReportedWithItsMessage) {
  FakeEnv env;
  auto src = make("sources:\n  beegfs:\n    tool: beegfs\n    cli_path: " + kFake + "/fail\n");
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("exit code 3: Error: communication with management node failed"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("more errors"), std::string::npos) << r.error().message;

  auto missing = make("sources:\n  beegfs:\n    ctl_path: /nonexistent/beegfs-ctl\n    cli_path: /nonexistent/beegfs\n");
  Collection c2(now_ms());
  auto r2 = missing->collect(c2);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("neither"), std::string::npos) << r2.error().message;
}

TEST(BeegfsSource, Configuration) {
  AgentContext ctx;
  ctx.node = "gpu017";
  auto off = make_beegfs_source(section("sources:\n  beegfs:\n    run_on: [mgmt01]\n", "").child("sources").child("beegfs"), ctx);
  ASSERT_TRUE(off);
  EXPECT_EQ(*off, nullptr);  // not this node
  auto absent = make_beegfs_source(section("sources: {}\n", "").child("sources").child("beegfs"), ctx);
  ASSERT_TRUE(absent);
  EXPECT_EQ(*absent, nullptr);
  auto disabled = make_beegfs_source(section("sources:\n  beegfs:\n    enabled: false\n", "").child("sources").child("beegfs"), ctx);
  ASSERT_TRUE(disabled);
  EXPECT_EQ(*disabled, nullptr);
  for (const char* bad : {"sources:\n  beegfs:\n    colour: blue\n", "sources:\n  beegfs:\n    tool: beegfs9\n",
                          "sources:\n  beegfs:\n    node_types: [client]\n", "sources:\n  beegfs:\n    history: 2m\n",
                          "sources:\n  beegfs:\n    collect: [everything]\n",
                          "sources:\n  beegfs:\n    filesystems: []\n",
                          "sources:\n  beegfs:\n    filesystems: [{fs: a, args: [x]}, {fs: a, args: [y]}]\n",
                          "sources:\n  beegfs:\n    filesystems: [{name: a, args: [x]}]\n"}) {
    auto r = make_beegfs_source(section(bad, "").child("sources").child("beegfs"), ctx);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("sources.beegfs."), std::string::npos) << r.error().message;
  }
}

// The configured cluster name wins over the reported one, and fs_names renames it like any derived name.
TEST(WekaSource, ClusterNameFromConfigurationAndRenames) {
  FakeEnv env;
  auto src = make("sources:\n  weka:\n    cli_path: " + kFake + "/weka\n    cluster: weka-a\n", true,
                  FsNames{{{"weka-a", "prod"}}});
  ASSERT_TRUE(src);
  Collection c(now_ms());
  ASSERT_TRUE(src->collect(c));
  EXPECT_EQ(value(c, "weka_op_rate", {{"fs", "prod"}, {"op", "getattr"}}), 800);
  EXPECT_EQ(value(c, "weka_cluster_status_ok", {{"fs", "prod"}}), 0);
  EXPECT_EQ(value(c, "weka_fs_used_bytes", {{"fs", ".config_fs"}, {"cluster", "prod"}}), 172030);
  // Without status, nothing names the cluster: "weka".
  auto bare = make("sources:\n  weka:\n    cli_path: " + kFake + "/weka\n    collect: [stats]\n", true);
  ASSERT_TRUE(bare);
  Collection c2(now_ms());
  ASSERT_TRUE(bare->collect(c2));
  EXPECT_EQ(value(c2, "weka_op_rate", {{"fs", "weka"}, {"op", "getattr"}}), 800);
}

TEST(WekaSource, CliEndToEndWithMinuteTimestamps) {
  FakeEnv env;
  auto src = make("sources:\n  weka:\n    cli_path: " + kFake + "/weka\n", true);
  ASSERT_TRUE(src);
  EXPECT_EQ(src->interval_ms(), 60'000);
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_TRUE(r) << r.error().message;
  constexpr int64_t kMinute = 1763697540000;
  EXPECT_EQ(value(c, "weka_op_rate", {{"op", "getattr"}}), 800);
  EXPECT_EQ(find(c, "weka_op_rate", {{"op", "getattr"}})->t_ms, kMinute);
  EXPECT_EQ(value(c, "weka_op_rate", {{"op", "read"}}), 120.5);
  EXPECT_EQ(value(c, "weka_op_rate", {{"op", "fileatomicopen"}}), 200);
  EXPECT_DOUBLE_EQ(value(c, "weka_op_latency_seconds", {{"op", "read"}}), 312.5e-6);
  EXPECT_DOUBLE_EQ(value(c, "weka_op_latency_seconds", {{"op", "write"}}), 1500e-6);
  EXPECT_EQ(find(c, "weka_op_latency_seconds", {{"op", "write"}})->t_ms, kMinute);
  EXPECT_EQ(value(c, "weka_io_bytes_per_second", {{"op", "read"}}), 125829120);
  EXPECT_EQ(value(c, "weka_ops_rate", {}), 1510.5);
  EXPECT_EQ(value(c, "weka_frontend_op_rate", {{"op", "create"}}), 40);
  EXPECT_DOUBLE_EQ(value(c, "weka_frontend_op_latency_seconds", {{"op", "create"}}), 900e-6);
  EXPECT_EQ(find(c, "weka_op_rate", {{"op", "read_latency_no_qos"}}), nullptr);
  EXPECT_EQ(value(c, "weka_fs_capacity_bytes", {{"fs", "default"}}), 2420000000000.0);
  EXPECT_EQ(value(c, "weka_fs_used_bytes", {{"fs", ".config_fs"}}), 172030);
  EXPECT_EQ(value(c, "weka_cluster_status_ok", {}), 0);
  EXPECT_EQ(value(c, "weka_io_started", {}), 1);
  EXPECT_DOUBLE_EQ(value(c, "weka_protection_ratio", {{"failures", "1"}}), 0.195);
  EXPECT_DOUBLE_EQ(value(c, "weka_rebuild_progress_ratio", {}), 0.42);
  EXPECT_EQ(value(c, "weka_hanging_ios", {{"kind", "driver_frontend"}}), 1);
  EXPECT_EQ(value(c, "weka_hanging_ios", {{"kind", "backend"}}), 0);
  EXPECT_EQ(value(c, "weka_drives_active", {}), 35);
  EXPECT_EQ(value(c, "weka_info", {{"cluster", "gpu-weka"}, {"release", "4.4.2.157"}}), 1);
  // Cluster-wide series carry the cluster's name in fs; each file system its own, and its cluster's.
  for (const auto& s : c.samples()) {
    if (!s.name.starts_with("weka_")) continue;
    bool per_fs = s.name.starts_with("weka_fs_");
    EXPECT_EQ(label_value(*s.labels, per_fs ? "cluster" : "fs"), "gpu-weka") << s.name;
  }
  EXPECT_EQ(value(c, "weka_fs_capacity_bytes", {{"fs", "default"}, {"cluster", "gpu-weka"}}), 2420000000000.0);
  EXPECT_EQ(value(c, "stormscope_agent_unknown_fields_total", {{"source", "weka"}, {"command", "weka stats"}}), 1);
  EXPECT_EQ(value(c, "stormscope_agent_unknown_fields_total", {{"source", "weka"}, {"command", "weka fs"}}), 1);
}

TEST(WekaSource, HangAndFailure) {
  FakeEnv env;
  auto src = make("sources:\n  weka:\n    cli_path: " + kFake + "/weka\n    timeout: 500ms\n", true);
  setenv("SS_FAKE_MODE", "hang", 1);
  Collection c(now_ms());
  auto start = std::chrono::steady_clock::now();
  auto r = src->collect(c);
  ASSERT_FALSE(r);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
  EXPECT_NE(r.error().message.find("timed out"), std::string::npos) << r.error().message;
  setenv("SS_FAKE_MODE", "fail", 1);
  Collection c2(now_ms());
  auto r2 = src->collect(c2);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("exit code 3"), std::string::npos) << r2.error().message;
  unsetenv("SS_FAKE_MODE");
  Collection c3(now_ms());
  EXPECT_TRUE(src->collect(c3));
}

TEST(WekaSource, Configuration) {
  AgentContext ctx;
  for (const char* bad : {"sources:\n  weka:\n    interval: 10s\n", "sources:\n  weka:\n    mode: rest\n",
                          "sources:\n  weka:\n    url: ftp://x\n    token: t\n", "sources:\n  weka:\n    url: http://x\n",
                          "sources:\n  weka:\n    colour: blue\n"}) {
    auto r = make_weka_source(section(bad, "").child("sources").child("weka"), ctx);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_NE(r.error().message.find("sources.weka."), std::string::npos) << r.error().message;
    }
  }
  auto r = make_weka_source(section("sources:\n  weka:\n    interval: 2m\n", "").child("sources").child("weka"), ctx);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->interval_ms(), 120'000);
}

namespace {

std::string read_fixture(const std::string& name) {
  std::ifstream in(std::string(SS_FIXTURES_DIR) + "/weka/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fake Weka REST API on 127.0.0.1 and an ephemeral port.
struct FakeWekaRest {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  int delay_ms = 0;

  FakeWekaRest() {
    auto authorized = [](const httplib::Request& req, httplib::Response& res) {
      if (req.get_header_value("Authorization") == "Bearer s3cret") return true;
      res.status = 401;
      res.set_content("{\"message\":\"unauthorized\"}", "application/json");
      return false;
    };
    server.Get("/api/v2/stats", [this, authorized](const httplib::Request& req, httplib::Response& res) {
      if (delay_ms) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
      if (!authorized(req, res)) return;
      auto cat = req.get_param_value("category");
      if (cat != "ops_driver" && cat != "ops") {
        res.status = 400;
        return;
      }
      res.set_content(read_fixture("stats_rest_" + cat + ".json"), "application/json");
    });
    server.Get("/api/v2/cluster", [authorized](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req, res)) res.set_content(read_fixture("status_rest.json"), "application/json");
    });
    server.Get("/api/v2/fileSystems", [authorized](const httplib::Request& req, httplib::Response& res) {
      if (authorized(req, res)) res.set_content(read_fixture("fs_rest.json"), "application/json");
    });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeWekaRest() {
    server.stop();
    thread.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }
};

}  // namespace

TEST(WekaSource, RestApiEndToEnd) {
  FakeWekaRest api;
  ASSERT_GT(api.port, 0);
  char dir_template[] = "/tmp/ss_weka_test_XXXXXX";
  ASSERT_NE(mkdtemp(dir_template), nullptr);
  std::string token_file = std::string(dir_template) + "/token";
  std::ofstream(token_file) << "s3cret\n";
  auto src = make("sources:\n  weka:\n    url: " + api.url() + "/\n    token_file: " + token_file + "\n    timeout: 2s\n", true);
  ASSERT_TRUE(src);
  Collection c(now_ms());
  auto r = src->collect(c);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(value(c, "weka_op_rate", {{"op", "getattr"}}), 800);
  EXPECT_EQ(find(c, "weka_op_rate", {{"op", "getattr"}})->t_ms, 1763697540000);
  EXPECT_EQ(value(c, "weka_frontend_op_rate", {{"op", "mkdir"}}), 5);
  EXPECT_EQ(value(c, "weka_fs_capacity_bytes", {{"fs", "default"}}), 2420000000000.0);
  EXPECT_EQ(value(c, "weka_hanging_ios", {{"kind", "driver_frontend"}}), 1);

  // A rotated (wrong) token is read on the next cycle and rejected with a clear message.
  std::ofstream(token_file) << "expired\n";
  Collection c2(now_ms());
  auto r2 = src->collect(c2);
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("HTTP 401 (token rejected or expired)"), std::string::npos) << r2.error().message;

  // A server that does not answer in time is cut off.
  std::ofstream(token_file) << "s3cret\n";
  api.delay_ms = 1500;
  auto slow = make("sources:\n  weka:\n    url: " + api.url() + "\n    token: s3cret\n    timeout: 300ms\n    collect: [stats]\n", true);
  Collection c3(now_ms());
  auto r3 = slow->collect(c3);
  ASSERT_FALSE(r3);
  EXPECT_NE(r3.error().message.find("/api/v2/stats"), std::string::npos) << r3.error().message;
  api.delay_ms = 0;
  std::remove(token_file.c_str());
  rmdir(dir_template);
}

TEST(ToolRunner, CycleBudgetBoundsAllCalls) {
  ToolRunner none("test", 1000, 0);
  none.start_cycle();
  auto r = none.run({"true"});
  ASSERT_TRUE(r.error);
  EXPECT_NE(r.error->find("cycle budget of 0 ms is used up"), std::string::npos) << *r.error;

  ToolRunner some("test", 5000, 600);
  some.start_cycle();
  EXPECT_LE(some.next_timeout_ms(), 600);
  auto hung = some.run({kFake + "/hang"});
  ASSERT_TRUE(hung.error);
  EXPECT_NE(hung.error->find("timed out"), std::string::npos) << *hung.error;
  EXPECT_EQ(hung.out, "partial output\n");
  auto after = some.run({"true"});
  ASSERT_TRUE(after.error);
  EXPECT_NE(after.error->find("skipped after an earlier timeout"), std::string::npos) << *after.error;
  some.start_cycle();  // the next cycle starts afresh
  EXPECT_FALSE(some.run({"true"}).error);
}
