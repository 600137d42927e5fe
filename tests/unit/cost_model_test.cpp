#include <gtest/gtest.h>

#include "collector/cost/idle_cost.h"
#include "collector/cost/prices.h"

using namespace ss;
using namespace ss::collector::cost;

namespace {

constexpr int64_t kGap = 30'000;

std::vector<Point> pts(std::initializer_list<std::pair<int64_t, double>> seconds_and_values) {
  std::vector<Point> out;
  for (auto [s, v] : seconds_and_values) out.push_back({s * 1000, v});
  return out;
}

Result<CostConfig> parse(const std::string& yaml) {
  auto node = config::load_string(yaml);
  if (!node) return node.error();
  try {
    return read_cost_config(config::Section((*node)["cost"], "cost"));
  } catch (const config::Invalid& e) {
    return Error{e.message};
  }
}

}  // namespace

TEST(IdleCost, CountsUtilizationBelowTheBaseline) {
  // Each point is the mean over the 10 s before it: (0,10] 0.3, (10,20] 0.5, (20,30] 0.9.
  auto p = pts({{0, 0.9}, {10, 0.3}, {20, 0.5}, {30, 0.9}});
  // $3.60/GPU-hour = $0.001/GPU-second.
  auto c = idle_cost(p, 0.9, 0, 30'000, kGap, 0.001);
  EXPECT_DOUBLE_EQ(c.gpu_seconds, 30.0);
  EXPECT_NEAR(c.idle_gpu_seconds, 0.6 * 10 + 0.4 * 10, 1e-9);  // 10 GPU-seconds
  EXPECT_NEAR(c.cost_usd, 0.01, 1e-12);
}

TEST(IdleCost, UtilizationAboveTheBaselineCountsZero) {
  auto p = pts({{0, 1.0}, {10, 1.0}, {20, 0.95}, {30, 0.7}});
  auto c = idle_cost(p, 0.8, 0, 30'000, kGap, 0.001);
  EXPECT_DOUBLE_EQ(c.gpu_seconds, 30.0);
  // Only (20,30] at 0.7 is below 0.8; the intervals above do not offset it.
  EXPECT_NEAR(c.idle_gpu_seconds, 0.1 * 10, 1e-9);
  EXPECT_NEAR(c.cost_usd, 0.001, 1e-12);
}

TEST(IdleCost, GapsAreNeitherGpuTimeNorIdleTime) {
  // 90 s without data between 10 and 100: not idle, not covered. The point at 100 opens a new stretch.
  auto p = pts({{0, 0.1}, {10, 0.1}, {100, 0.1}, {110, 0.1}});
  auto c = idle_cost(p, 0.9, 0, 200'000, kGap, 0.001);
  EXPECT_DOUBLE_EQ(c.gpu_seconds, 20.0);
  EXPECT_NEAR(c.idle_gpu_seconds, 0.8 * 20, 1e-9);
  // A NaN point is a gap too.
  auto q = pts({{0, 0.1}, {10, 0.1}, {20, std::nan("")}, {30, 0.1}});
  auto d = idle_cost(q, 0.9, 0, 30'000, kGap, 0.001);
  EXPECT_DOUBLE_EQ(d.gpu_seconds, 20.0);  // (0,10] and (20,30]; (10,20] is unknown
}

TEST(IdleCost, ClipsIntervalsToTheWindow) {
  auto p = pts({{0, 0.9}, {10, 0.3}, {20, 0.5}, {30, 0.9}});
  auto c = idle_cost(p, 0.9, 5'000, 25'000, kGap, 0.001);
  EXPECT_DOUBLE_EQ(c.gpu_seconds, 20.0);
  EXPECT_NEAR(c.idle_gpu_seconds, 0.6 * 5 + 0.4 * 10, 1e-9);
}

TEST(IdleCost, BaselineIsTheTimeWeightedMeanBeforeTheWindow) {
  auto p = pts({{-40, 0.2}, {-30, 0.8}, {-20, 1.0}, {-10, 0.9}, {0, 0.0}, {10, 0.0}});
  // Window of 30 s before 0: (-30,-20] 1.0, (-20,-10] 0.9, (-10,0] 0.0 -> mean 0.6333.
  auto b = baseline_before(p, 0, 30'000, kGap);
  ASSERT_TRUE(b.has_value());
  EXPECT_NEAR(*b, (1.0 + 0.9 + 0.0) / 3, 1e-12);
  // Window of 20 s before -10: (-30,-20] 1.0, (-20,-10] 0.9.
  EXPECT_NEAR(*baseline_before(p, -10'000, 20'000, kGap), 0.95, 1e-12);
  EXPECT_FALSE(baseline_before(p, -40'000, 60'000, kGap).has_value());
  EXPECT_FALSE(baseline_before({}, 0, 60'000, kGap).has_value());
}

TEST(IdleCost, GpuIdleCostPricesByModelWithTheBaselineBeforeTheWindow) {
  CostConfig cfg;  // spot, built-in prices
  GpuUtilization h200{"NVIDIA H200", {}};
  for (int s = -600; s <= 0; s += 10) h200.points.push_back({s * 1000LL, 0.95});
  for (int s = 10; s <= 60; s += 10) h200.points.push_back({s * 1000LL, 0.05});
  auto c = gpu_idle_cost(h200, 0, 60'000, cfg);
  EXPECT_TRUE(c.baseline_measured);
  EXPECT_NEAR(c.baseline, 0.95, 1e-12);
  EXPECT_DOUBLE_EQ(c.price_per_gpu_hour, 1.924);
  EXPECT_NEAR(c.cost.idle_gpu_seconds, 0.9 * 60, 1e-9);  // 54 GPU-seconds
  EXPECT_NEAR(c.cost.cost_usd, 54 * 1.924 / 3600, 1e-12);

  // No data before the window: the configured default baseline (1.0) is used.
  GpuUtilization fresh{"NVIDIA H200", pts({{0, 0.5}, {10, 0.25}})};
  auto f = gpu_idle_cost(fresh, 0, 10'000, cfg);
  EXPECT_FALSE(f.baseline_measured);
  EXPECT_NEAR(f.cost.idle_gpu_seconds, 7.5, 1e-9);

  cfg.pricing = Pricing::OnDemand;
  EXPECT_NEAR(gpu_idle_cost(h200, 0, 60'000, cfg).cost.cost_usd, 54 * 4.62 / 3600, 1e-12);
}

TEST(Prices, LookUpByModelName) {
  auto t = PriceTable::defaults();
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("NVIDIA H200", Pricing::Spot), 1.924);
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("NVIDIA H200", Pricing::OnDemand), 4.62);
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("h200", Pricing::Spot), 1.924);
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("NVIDIA H100 80GB HBM3", Pricing::OnDemand), 2.23);
  EXPECT_DOUBLE_EQ(t.per_gpu_second("NVIDIA H200", Pricing::Spot), 1.924 / 3600);
  ASSERT_NE(t.find("NVIDIA H100 80GB HBM3"), nullptr);
  EXPECT_EQ(t.find("NVIDIA H100 80GB HBM3")->model, "H100");
  // "H200" inside "GH200" is not a whole word.
  EXPECT_EQ(t.find("NVIDIA GH200 480GB"), nullptr);
  // The longest matching key wins.
  t.set("H100 NVL", {2.0, 3.0});
  EXPECT_EQ(t.find("NVIDIA H100 NVL")->model, "H100 NVL");
  EXPECT_EQ(t.find("NVIDIA H100 PCIe")->model, "H100");
}

TEST(Prices, UnknownModelsGetTheDefault) {
  auto t = PriceTable::defaults();
  EXPECT_EQ(t.find("Tesla V100-SXM2-32GB"), nullptr);
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("Tesla V100-SXM2-32GB", Pricing::Spot), t.unknown().spot_per_hour);
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("", Pricing::OnDemand), t.unknown().on_demand_per_hour);
  t.set_unknown({0.5, 1.5});
  EXPECT_DOUBLE_EQ(t.per_gpu_hour("Tesla V100-SXM2-32GB", Pricing::OnDemand), 1.5);
}

TEST(Prices, ReadFromTheCostSection) {
  auto c = parse(R"(
cost:
  pricing: on_demand
  prices:
    A100: {spot: 0.86, on_demand: 1.79}
    H200: {spot: 2.0, on_demand: 5.0}
  unknown_model: {spot: 1.0, on_demand: 2.0}
  baseline_window: 5m
  max_gap: 25s
  default_baseline: 0.9
)");
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->pricing, Pricing::OnDemand);
  EXPECT_DOUBLE_EQ(c->prices.per_gpu_hour("NVIDIA A100-SXM4-80GB", Pricing::OnDemand), 1.79);
  EXPECT_DOUBLE_EQ(c->prices.per_gpu_hour("NVIDIA H200", Pricing::Spot), 2.0);  // replaced
  EXPECT_DOUBLE_EQ(c->prices.per_gpu_hour("NVIDIA H100 PCIe", Pricing::Spot), 1.49);  // built-in kept
  EXPECT_DOUBLE_EQ(c->prices.per_gpu_hour("Tesla T4", Pricing::OnDemand), 2.0);
  EXPECT_EQ(c->baseline_window_ms, 300'000);
  EXPECT_EQ(c->max_gap_ms, 25'000);
  EXPECT_DOUBLE_EQ(c->default_baseline, 0.9);

  auto d = parse("cost: {}\n");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->pricing, Pricing::Spot);
  EXPECT_DOUBLE_EQ(d->prices.per_gpu_hour("NVIDIA H200", Pricing::Spot), 1.924);
}

TEST(Prices, ConfigErrorsNameTheKey) {
  auto unknown = parse("cost:\n  princing: spot\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("cost.princing"), std::string::npos) << unknown.error().message;
  auto half = parse("cost:\n  prices:\n    A100: {spot: 1}\n");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.error().message.find("cost.prices.A100"), std::string::npos) << half.error().message;
  auto neg = parse("cost:\n  prices:\n    A100: {spot: -1, on_demand: 2}\n");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.error().message.find("negative"), std::string::npos);
  auto pricing = parse("cost:\n  pricing: reserved\n");
  ASSERT_FALSE(pricing.ok());
  EXPECT_NE(pricing.error().message.find("reserved"), std::string::npos);
  EXPECT_FALSE(parse("cost:\n  default_baseline: 1.5\n").ok());
  EXPECT_FALSE(parse("cost:\n  max_gap: 0s\n").ok());
}
