// The detect module inside a running collector: simulated batches over HTTP become incidents served by
// /api/v1/incidents, counted on /metrics, kept across a restart.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>

#include "collector/collector.h"
#include "collector/sim/simulator.h"
#include "common/codec.h"

using namespace ss;
using namespace ss::collector;

namespace {

std::unique_ptr<Collector> start(const std::string& dir) {
  auto root = YAML::Load(fmt::format("listen: 127.0.0.1:0\ndb: {}/db.sqlite\nlog_level: warn\n"
                                     "detect:\n  incidents: {{quiet: 60s}}\n",
                                     dir));
  auto cfg = read_collector_config(root);
  EXPECT_TRUE(cfg.ok()) << (cfg.ok() ? "" : cfg.error().message);
  auto c = Collector::start(*cfg);
  EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
  return c.ok() ? std::move(*c) : nullptr;
}

// Sends the simulation with 30 intervals per batch and node (fewer requests; the engine takes any number of
// points per series), then waits until the detectors caught up.
void send(Collector& c, sim::Simulator& s) {
  httplib::Client cli(c.url());
  std::map<std::string, Batch> pending;
  std::map<std::string, int> count;
  auto flush = [&](Batch& b) {
    auto r = cli.Post("/api/v1/ingest", encode_batch(b), "application/json");
    ASSERT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    b.series.clear();
    b.events.clear();
  };
  s.run([&](const Batch& b) {
    Batch& p = pending[b.node];
    if (p.node.empty()) p.node = b.node, p.stream = b.stream;
    p.seq = b.seq;
    for (const auto& series : b.series) {
      auto it = std::find_if(p.series.begin(), p.series.end(), [&](const Series& x) {
        return x.name == series.name && x.labels == series.labels;
      });
      if (it == p.series.end()) p.series.push_back(series);
      else it->points.insert(it->points.end(), series.points.begin(), series.points.end());
    }
    p.events.insert(p.events.end(), b.events.begin(), b.events.end());
    if (++count[b.node] % 30 == 0) flush(p);
  });
  for (auto& [node, b] : pending)
    if (!b.series.empty()) flush(b);
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
