// The detect module inside a running collector: simulated batches over HTTP become incidents served by
// /api/v1/incidents, counted on /metrics, kept across a restart.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "collector/collector.h"
#include "tools/sim/simulator.h"
#include "common/codec.h"

using namespace ss;
using namespace ss::collector;

namespace {

std::unique_ptr<Collector> start(const std::string& dir) {
  auto root = YAML::Load(fmt::format("listen: 127.0.0.1:0\ndb: {}/db.sqlite\nlog_level: warn\n"
                                     "detect:\n  interval: 30s\n  lateness: 30s\n  max_gap: 100s\n",
                                     dir));
  auto cfg = read_collector_config(root);
  EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message);
  auto c = Collector::start(*cfg);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : nullptr;
}

// Sends the simulation batch by batch (as agents would), then waits until the detectors caught up.
void send(Collector& c, sim::Simulator& s) {
  httplib::Client cli(c.url());
  cli.set_keep_alive(true);
  cli.set_tcp_nodelay(true);
  bool ok = true;
  s.run([&](const Batch& b) {
    if (!ok) return;
    auto r = cli.Post("/api/v1/ingest", encode_batch(b), "application/json");
    ok = r && r->status == 200;
    EXPECT_TRUE(ok) << (r ? r->body : "no answer");
  });
  ASSERT_TRUE(ok);
  for (int i = 0; i < 600; ++i) {
    auto r = cli.Get("/api/v1/detect/status");
    ASSERT_TRUE(r && r->status == 200);
    if (nlohmann::json::parse(r->body)["queued"] == 0) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  FAIL() << "the detectors did not catch up";
}

}  // namespace

TEST(DetectCollector, SimulatedStormBecomesAnIncidentThatSurvivesARestart) {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ss-detect-XXXXXX").string();
  std::string dir = mkdtemp(tmpl.data());
  sim::SimOptions o;
  o.seed = 11;
  o.nodes = 6;
  o.gpus_per_node = 2;
  o.interval_ms = 30'000;  // a coarse interval keeps the request count small (the collector is set to match)
  o.duration_ms = 90 * 60'000;  // 40 min warm-up, then two slots: an incident and a confounder
  sim::Simulator s(o);
  std::string id;
  {
    auto c = start(dir);
    ASSERT_TRUE(c);
    send(*c, s);
    httplib::Client cli(c->url());
    auto r = cli.Get("/api/v1/incidents?from=2025-11-21T00:00:00Z&to=2025-11-22T00:00:00Z");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "");
    auto list = nlohmann::json::parse(r->body)["incidents"];
    std::string want;
    for (const auto& e : s.truth().entries)
      if (!e.confounder && e.kind != "ost_imbalance") want = e.kind;
    ASSERT_FALSE(want.empty());
    for (const auto& i : list)
      if (i["kind"] == want) id = i["id"];
    ASSERT_FALSE(id.empty()) << "no " << want << " incident in " << r->body.substr(0, 2000);
    auto one = cli.Get("/api/v1/incidents/" + id);
    ASSERT_TRUE(one && one->status == 200);
    EXPECT_EQ(nlohmann::json::parse(one->body)["id"], id);
    EXPECT_EQ(cli.Get("/api/v1/incidents/nope")->status, 404);
    EXPECT_EQ(cli.Get("/api/v1/incidents?kind=storm")->status, 400);
    EXPECT_EQ(cli.Get("/api/v1/incidents?from=yesterday")->status, 400);
    auto m = cli.Get("/metrics");
    ASSERT_TRUE(m && m->status == 200);
    EXPECT_NE(m->body.find("stormscope_incidents_active{"), std::string::npos);
    EXPECT_NE(m->body.find("stormscope_gpu_idle_cost_dollars_total{"), std::string::npos);
    // The engine's own counters, as docs/detectors.md names them.
    for (const char* name : {"stormscope_detect_late_points_total ", "stormscope_detect_resets_total ",
                             "stormscope_detect_buckets_total ", "stormscope_detect_incomplete_buckets_total "})
      EXPECT_NE(m->body.find(std::string("\n") + name), std::string::npos) << name;
    c->stop();
  }
  {
    auto c = start(dir);
    ASSERT_TRUE(c);
    httplib::Client cli(c->url());
    auto one = cli.Get("/api/v1/incidents/" + id);
    ASSERT_TRUE(one && one->status == 200) << "the incident did not survive the restart";
    c->stop();
  }
  std::filesystem::remove_all(dir);
}
