// GET /api/v1/cost on a real collector on loopback (ephemeral port, temporary database): utilization
// ingested as an agent ships it, cost read back per job and node.
#include <gtest/gtest.h>
#include <httplib.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <sstream>
#include <nlohmann/json.hpp>

#include "collector/collector.h"
#include "common/codec.h"
#include "common/config.h"

using namespace ss;
using namespace ss::collector;
using json = nlohmann::json;

namespace {

constexpr int64_t kFrom = 1763700000000;  // 2025-11-21T04:40:00Z
constexpr int64_t kTo = kFrom + 60'000;

Series gpu_series(const std::string& uuid, const std::string& model, const std::string& job, int64_t from_s,
                  int64_t to_s, double value) {
  Series s;
  s.name = "gpu_utilization_ratio";
  s.type = SeriesType::Gauge;
  s.labels = {{"gpu", "0"}, {"model", model}, {"uuid", uuid}};
  if (!job.empty()) s.labels.push_back({"job", job});
  (void)normalize_labels(s.labels);
  for (int64_t t = from_s; t <= to_s; t += 10) s.points.push_back({kFrom + t * 1000, value});
  return s;
}

class CostApi : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ss_cost_api_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    client_.reset();
    if (collector_) collector_->stop();
    collector_.reset();
    std::filesystem::remove_all(dir_);
  }
  void start(const std::string& yaml) {
    auto root = config::load_string(yaml);
    ASSERT_TRUE(root.ok()) << root.error().message;
    (*root)["listen"] = "127.0.0.1:0";
    (*root)["db"] = dir_ + "/db.sqlite";
    (*root)["http"]["threads"] = 4;
    auto cfg = read_collector_config(*root);
    ASSERT_TRUE(cfg.ok()) << cfg.error().message;
    auto c = Collector::start(*cfg);
    ASSERT_TRUE(c.ok()) << c.error().message;
    collector_ = std::move(*c);
    client_ = std::make_unique<httplib::Client>("127.0.0.1", collector_->port());
    client_->set_read_timeout(10, 0);
  }
  void ingest(const std::string& node, std::vector<Series> series) {
    Batch b;
    b.node = node;
    b.seq = 1;
    b.series = std::move(series);
    auto r = client_->Post("/api/v1/ingest", encode_batch(b), "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  httplib::Result get(const std::string& path) { return client_->Get(path); }

  std::string dir_;
  std::unique_ptr<Collector> collector_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace

TEST_F(CostApi, IdleGpuHoursAndDollarsPerJobAndNode) {
  start("cost:\n  pricing: on_demand\n  prices:\n    H200: {spot: 2, on_demand: 3.6}\n");
  // gpu017: job 4711 at 0.9 for ten minutes, then 0.3 through the window -> 0.6 x 60 s = 36 idle GPU-s.
  auto a = gpu_series("GPU-A", "NVIDIA H200", "4711", -600, 0, 0.9);
  auto a_window = gpu_series("GPU-A", "NVIDIA H200", "4711", 10, 60, 0.3);
  a.points.insert(a.points.end(), a_window.points.begin(), a_window.points.end());
  ingest("gpu017", {a});
  // gpu018: job 4712 busier than its baseline (0.5 before, 0.8 inside) -> covered, but costs nothing.
  auto b = gpu_series("GPU-B", "NVIDIA H200", "4712", -600, 0, 0.5);
  auto b_window = gpu_series("GPU-B", "NVIDIA H200", "4712", 10, 60, 0.8);
  b.points.insert(b.points.end(), b_window.points.begin(), b_window.points.end());
  ingest("gpu018", {b});

  auto r = get("/api/v1/cost?from=" + std::to_string(kFrom) + "&to=2025-11-21T04:41:00Z");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto j = json::parse(r->body);
  EXPECT_EQ(j["pricing"], "on_demand");
  EXPECT_EQ(j["to"], kTo);
  EXPECT_EQ(j["total"]["gpus"], 2);
  EXPECT_NEAR(j["total"]["gpu_hours"].get<double>(), 120.0 / 3600, 1e-9);
  EXPECT_NEAR(j["total"]["idle_gpu_hours"].get<double>(), 36.0 / 3600, 1e-9);
  EXPECT_NEAR(j["total"]["cost_usd"].get<double>(), 36 * 0.001, 1e-9);  // $3.60/GPU-hour = $0.001/GPU-s
  ASSERT_EQ(j["rows"].size(), 2u);
  EXPECT_EQ(j["rows"][0]["job"], "4711");
  EXPECT_EQ(j["rows"][0]["node"], "gpu017");
  EXPECT_NEAR(j["rows"][0]["cost_usd"].get<double>(), 0.036, 1e-9);
  EXPECT_EQ(j["rows"][1]["job"], "4712");
  EXPECT_DOUBLE_EQ(j["rows"][1]["cost_usd"].get<double>(), 0.0);

  auto node = json::parse(get("/api/v1/cost?from=" + std::to_string(kFrom) + "&to=" + std::to_string(kTo) +
                              "&node=gpu018")->body);
  ASSERT_EQ(node["rows"].size(), 1u);
  EXPECT_EQ(node["rows"][0]["node"], "gpu018");
  auto job = json::parse(get("/api/v1/cost?from=" + std::to_string(kFrom) + "&to=" + std::to_string(kTo) +
                             "&job=4711")->body);
  ASSERT_EQ(job["rows"].size(), 1u);
  EXPECT_NEAR(job["total"]["idle_gpu_hours"].get<double>(), 36.0 / 3600, 1e-9);
}

TEST_F(CostApi, BadRequestsAndBadConfig) {
  start("");
  auto bad = get("/api/v1/cost?from=yesterday");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(json::parse(bad->body)["error"].get<std::string>().find("from"), std::string::npos);
  auto twice = get("/api/v1/cost?job=1&job=2");
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->status, 400);
  auto empty = get("/api/v1/cost?from=now-1h");
  ASSERT_TRUE(empty);
  ASSERT_EQ(empty->status, 200);
  EXPECT_EQ(json::parse(empty->body)["rows"].size(), 0u);

  auto root = config::load_string("cost: {pricing: reserved}\nlisten: 127.0.0.1:0\ndb: " + dir_ + "/other.sqlite\n");
  ASSERT_TRUE(root.ok());
  auto cfg = read_collector_config(*root);
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  auto c = Collector::start(*cfg);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("reserved"), std::string::npos) << c.error().message;
}

namespace {

// The stormscope_gpu_price_dollars_per_hour lines of a /metrics body: "model|pricing" → value.
std::map<std::string, double> price_lines(const std::string& body) {
  std::map<std::string, double> out;
  std::istringstream in(body);
  std::string line;
  const std::string name = "stormscope_gpu_price_dollars_per_hour{";
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    auto model = line.find("model=\""), pricing = line.find("pricing=\""), close = line.find("} ");
    if (model == std::string::npos || pricing == std::string::npos || close == std::string::npos) {
      ADD_FAILURE() << "unexpected line: " << line;
      continue;
    }
    model += 7;
    pricing += 9;
    std::string key = line.substr(model, line.find('"', model) - model) + "|" +
                      line.substr(pricing, line.find('"', pricing) - pricing);
    out[key] = std::stod(line.substr(close + 2));
  }
  return out;
}

}  // namespace

TEST_F(CostApi, PriceOfEveryGpuModelSeenOnMetrics) {
  start("cost:\n  prices:\n    A100: {spot: 0.86, on_demand: 1.79}\n  unknown_model: {spot: 3, on_demand: 7}\n");
  auto metrics = [&] {
    auto m = get("/metrics");
    EXPECT_TRUE(m);
    return m ? price_lines(m->body) : std::map<std::string, double>{};
  };
  // Nothing seen yet: the family has no series (the table's own entries are not invented as models).
  EXPECT_TRUE(metrics().empty());

  // Models as NVML names them: a built-in entry (H100), a configured one (A100), one no entry matches
  // (GH200 is not H200: the unknown-model price), one seen only through gpu_memory_used_bytes; a
  // non-GPU series with a `model` label and a GPU series without one add nothing.
  Series mem;
  mem.name = "gpu_memory_used_bytes";
  mem.labels = {{"gpu", "0"}, {"model", "Tesla T4"}, {"uuid", "GPU-T"}};
  mem.points = {{kFrom, 1e9}};
  Series other;
  other.name = "disk_info";
  other.labels = {{"model", "Samsung PM9A3"}};
  other.points = {{kFrom, 1}};
  Series nameless = gpu_series("GPU-N", "", "", 0, 0, 0.5);
  ingest("gpu017", {gpu_series("GPU-A", "NVIDIA H100 80GB HBM3", "4711", 0, 10, 0.9),
                    gpu_series("GPU-B", "NVIDIA A100-SXM4-80GB", "4711", 0, 10, 0.9), mem, other, nameless});
  ingest("gpu018", {gpu_series("GPU-C", "NVIDIA GH200 480GB", "", 0, 10, 0.2),
                    gpu_series("GPU-D", "NVIDIA H100 80GB HBM3", "4712", 0, 10, 0.9)});

  const std::map<std::string, double> expected = {
      {"NVIDIA H100 80GB HBM3|spot", 1.49},  {"NVIDIA H100 80GB HBM3|on_demand", 2.23},
      {"NVIDIA A100-SXM4-80GB|spot", 0.86},  {"NVIDIA A100-SXM4-80GB|on_demand", 1.79},
      {"NVIDIA GH200 480GB|spot", 3},        {"NVIDIA GH200 480GB|on_demand", 7},
      {"Tesla T4|spot", 3},                  {"Tesla T4|on_demand", 7}};
  EXPECT_EQ(metrics(), expected);

  // The same figures the cost computation charges: GH200 idles 0.8 below the default baseline for 10 s at
  // the unknown-model spot price.
  auto cost = get("/api/v1/cost?from=" + std::to_string(kFrom) + "&to=" + std::to_string(kFrom + 10'000) + "&node=gpu018");
  ASSERT_TRUE(cost);
  auto j = json::parse(cost->body);
  double gh200_idle_s = 0.8 * 10, h100_idle_s = 0.1 * 10;
  EXPECT_NEAR(j["total"]["cost_usd"].get<double>(), (gh200_idle_s * 3 + h100_idle_s * 1.49) / 3600, 1e-9) << cost->body;

  // After a restart the models already stored are exported before any new batch arrives.
  client_.reset();
  collector_->stop();
  collector_.reset();
  start("cost:\n  prices:\n    A100: {spot: 0.86, on_demand: 1.79}\n  unknown_model: {spot: 3, on_demand: 7}\n");
  EXPECT_EQ(metrics(), expected);
}
