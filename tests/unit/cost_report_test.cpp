// The /api/v1/cost computation over a small in-memory store, with hand-computed figures.
#include <gtest/gtest.h>

#include "collector/cost/cost_report.h"

using namespace ss;
using namespace ss::collector;
using namespace ss::collector::cost;

namespace {

// Only what the cost report uses: select by name and node=, read by time range.
class MemoryStore final : public Store {
 public:
  void add(Labels labels, std::vector<Point> points) {
    (void)normalize_labels(labels);
    series_.push_back({{static_cast<int64_t>(series_.size() + 1), "gpu_utilization_ratio", labels, SeriesType::Gauge},
                       std::move(points)});
  }
  Result<AppendOutcome> append(const Batch&) override { return Error{"read-only"}; }
  Result<std::vector<SeriesInfo>> select(const std::string& name, const std::vector<Matcher>& matchers) override {
    std::vector<SeriesInfo> out;
    for (const auto& [info, points] : series_) {
      bool match = name.empty() || info.name == name;
      for (const auto& m : matchers) {
        if (m.op != Matcher::Op::Eq) return Error{"MemoryStore: only = matchers"};
        match = match && label_value(info.labels, m.label) == m.value;
      }
      if (match) out.push_back(info);
    }
    return out;
  }
  Result<std::vector<Point>> read(int64_t id, int64_t from_ms, int64_t to_ms) override {
    std::vector<Point> out;
    for (const auto& p : series_.at(static_cast<size_t>(id - 1)).second)
      if (p.t_ms >= from_ms && p.t_ms <= to_ms) out.push_back(p);
    return out;
  }
  Result<std::vector<StoredEvent>> read_events(const std::string&, int64_t, int64_t) override {
    return std::vector<StoredEvent>{};
  }
  StoreStats stats() override { return {}; }
  void close() override {}

 private:
  std::vector<std::pair<SeriesInfo, std::vector<Point>>> series_;
};

constexpr int64_t kFrom = 1763700000000;
constexpr int64_t kTo = kFrom + 60'000;
constexpr double kH200 = 1.924 / 3600, kH100 = 1.49 / 3600;

std::vector<Point> every_10s(int64_t from_s, int64_t to_s, double v) {
  std::vector<Point> out;
  for (int64_t s = from_s; s <= to_s; s += 10) out.push_back({kFrom + s * 1000, v});
  return out;
}

MemoryStore scenario() {
  MemoryStore store;
  // gpu017 GPU A, job 4711: 0.9 for ten minutes before, then (20,40] at 0.1 -> 2 x 0.8 x 10 = 16 idle GPU-s.
  auto a = every_10s(-600, 0, 0.9);
  for (double v : {0.9, 0.9, 0.1, 0.1, 0.9, 0.9}) a.push_back({a.back().t_ms + 10'000, v});
  store.add({{"node", "gpu017"}, {"gpu", "0"}, {"uuid", "GPU-A"}, {"model", "NVIDIA H200"}, {"job", "4711"}}, a);
  // gpu017 GPU B, no job, no data before: default baseline 1.0; 0.5 for 60 s -> 30 idle GPU-s at H100 prices.
  store.add({{"node", "gpu017"}, {"gpu", "1"}, {"uuid", "GPU-B"}, {"model", "NVIDIA H100 80GB HBM3"}},
            every_10s(0, 60, 0.5));
  // gpu018 GPU C: job 4711 at 1.0 until +30 s, then job 4712 at 0.0 -> 30 idle GPU-s for 4712.
  store.add({{"node", "gpu018"}, {"gpu", "0"}, {"uuid", "GPU-C"}, {"model", "NVIDIA H200"}, {"job", "4711"}},
            every_10s(-600, 30, 1.0));
  store.add({{"node", "gpu018"}, {"gpu", "0"}, {"uuid", "GPU-C"}, {"model", "NVIDIA H200"}, {"job", "4712"}},
            every_10s(40, 60, 0.0));
  return store;
}

const CostRow* row(const CostReport& r, const std::string& job, const std::string& node) {
  for (const auto& x : r.rows)
    if (x.job == job && x.node == node) return &x;
  return nullptr;
}

}  // namespace

TEST(CostReport, PerJobAndNode) {
  auto store = scenario();
  CostConfig cfg;
  auto r = compute_cost_report(store, {kFrom, kTo, "", ""}, cfg);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->rows.size(), 4u);

  const CostRow* a = row(*r, "4711", "gpu017");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->gpus, 1);
  EXPECT_NEAR(a->gpu_hours, 60.0 / 3600, 1e-12);
  EXPECT_NEAR(a->idle_gpu_hours, 16.0 / 3600, 1e-12);
  EXPECT_NEAR(a->cost_usd, 16 * kH200, 1e-12);

  const CostRow* b = row(*r, "", "gpu017");
  ASSERT_NE(b, nullptr);
  EXPECT_NEAR(b->gpu_hours, 60.0 / 3600, 1e-12);
  EXPECT_NEAR(b->idle_gpu_hours, 30.0 / 3600, 1e-12);
  EXPECT_NEAR(b->cost_usd, 30 * kH100, 1e-12);

  const CostRow* c1 = row(*r, "4711", "gpu018");
  ASSERT_NE(c1, nullptr);
  EXPECT_NEAR(c1->gpu_hours, 30.0 / 3600, 1e-12);
  EXPECT_DOUBLE_EQ(c1->idle_gpu_hours, 0);
  const CostRow* c2 = row(*r, "4712", "gpu018");
  ASSERT_NE(c2, nullptr);
  EXPECT_NEAR(c2->gpu_hours, 30.0 / 3600, 1e-12);
  EXPECT_NEAR(c2->idle_gpu_hours, 30.0 / 3600, 1e-12);
  EXPECT_NEAR(c2->cost_usd, 30 * kH200, 1e-12);

  EXPECT_EQ(r->total.gpus, 3);
  EXPECT_NEAR(r->total.gpu_hours, 180.0 / 3600, 1e-12);
  EXPECT_NEAR(r->total.idle_gpu_hours, 76.0 / 3600, 1e-12);
  EXPECT_NEAR(r->total.cost_usd, 46 * kH200 + 30 * kH100, 1e-12);
  EXPECT_EQ(r->gpus_without_baseline, 1);
  // Most expensive first: 4712 (30 s at H200) before the job-less H100 (30 s at H100) before 4711.
  EXPECT_EQ(r->rows[0].job, "4712");
  EXPECT_EQ(r->rows[1].job, "");
}

TEST(CostReport, FiltersByJobAndNode) {
  auto store = scenario();
  CostConfig cfg;
  auto job = compute_cost_report(store, {kFrom, kTo, "4711", ""}, cfg);
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->rows.size(), 2u);
  EXPECT_NEAR(job->total.idle_gpu_hours, 16.0 / 3600, 1e-12);
  auto node = compute_cost_report(store, {kFrom, kTo, "", "gpu018"}, cfg);
  ASSERT_TRUE(node.ok());
  ASSERT_EQ(node->rows.size(), 2u);
  EXPECT_EQ(node->total.gpus, 1);
  EXPECT_NEAR(node->total.cost_usd, 30 * kH200, 1e-12);
  cfg.pricing = Pricing::OnDemand;
  EXPECT_NEAR(compute_cost_report(store, {kFrom, kTo, "", "gpu018"}, cfg)->total.cost_usd, 30 * 4.62 / 3600, 1e-12);
}

TEST(CostReport, Request) {
  auto store = scenario();
  CostConfig cfg;
  auto ok = handle_cost_request(store, cfg, {{"from", std::to_string(kFrom)}, {"to", "2025-11-21T04:41:00Z"},
                                             {"job", "4712"}}, kTo + 1000);
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto j = nlohmann::json::parse(ok.body);
  EXPECT_EQ(j["to"], kTo);
  EXPECT_EQ(j["pricing"], "spot");
  ASSERT_EQ(j["rows"].size(), 1u);
  EXPECT_EQ(j["rows"][0]["job"], "4712");
  EXPECT_EQ(j["rows"][0]["node"], "gpu018");
  EXPECT_NEAR(j["total"]["cost_usd"].get<double>(), 30 * kH200, 1e-12);
  EXPECT_NEAR(j["total"]["idle_gpu_hours"].get<double>(), 30.0 / 3600, 1e-12);

  // Default range: the last hour before now.
  auto last_hour = nlohmann::json::parse(handle_cost_request(store, cfg, {}, kTo).body);
  EXPECT_EQ(last_hour["from"], kTo - 3'600'000);

  auto bad_time = handle_cost_request(store, cfg, {{"from", "yesterday"}}, kTo);
  EXPECT_EQ(bad_time.status, 400);
  EXPECT_NE(bad_time.body.find("from"), std::string::npos);
  EXPECT_EQ(handle_cost_request(store, cfg, {{"from", std::to_string(kTo)}, {"to", std::to_string(kFrom)}}, kTo).status,
            400);
  auto unknown = handle_cost_request(store, cfg, {{"fs", "ai0"}}, kTo);
  EXPECT_EQ(unknown.status, 400);
  EXPECT_NE(unknown.body.find("fs"), std::string::npos);
}
