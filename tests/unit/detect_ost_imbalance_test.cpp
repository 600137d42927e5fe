#include <gtest/gtest.h>

#include "collector/detect/ost_imbalance.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

struct Rig {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  int64_t t = kT0;
  Rig() {
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<OstImbalance>(OstImbalanceParams{}, kI));
    engine = std::make_unique<Engine>(EngineOptions{}, std::move(d), rec.sink());
  }
  // fills by target name; capacity 100 TB each
  void step(const std::map<std::string, double>& fills, const std::string& node = "mds") {
    t += kI;
    std::vector<Series> s;
    for (const auto& [target, fill] : fills) {
      s.push_back(gauge("lustre_target_capacity_bytes", {{"fs", "ai0"}, {"target", target}}, t, 100e12));
      s.push_back(gauge("lustre_target_available_bytes", {{"fs", "ai0"}, {"target", target}}, t, 100e12 * (1 - fill)));
    }
    engine->ingest(batch(node, s));
  }
};

std::map<std::string, double> balanced() {
  return {{"ai0-OST0000", 0.60}, {"ai0-OST0001", 0.62}, {"ai0-OST0002", 0.58}, {"ai0-OST0003", 0.61}};
}

}  // namespace

TEST(OstImbalance, FullestOstAgainstTheMedian) {
  Rig r;
  for (int i = 0; i < 5; ++i) r.step(balanced());
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  auto f = balanced();
  f["ai0-OST0003"] = 0.93;
  r.step(f);
  r.step(f);
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].key, "ost_imbalance/ai0");
  EXPECT_EQ(hits[0].target, "ai0-OST0003");
  EXPECT_EQ(hits[0].evidence["fullest"], "ai0-OST0003");
  EXPECT_EQ(hits[0].evidence["emptiest"], "ai0-OST0002");
  EXPECT_NEAR(hits[0].evidence["bytes_to_move"].get<double>(), (0.93 - 0.61) * 100e12  /* median of .58 .60 .62 .93 */, 1e11);
  EXPECT_NE(hits[0].summary.find("move ~"), std::string::npos) << hits[0].summary;
}

TEST(OstImbalance, TheMdtFillNeverCounts) {
  // The MDT is 95 % full (inodes) and the OSTs even: no OST imbalance.
  Rig r;
  auto f = balanced();
  f["ai0-MDT0000"] = 0.95;
  for (int i = 0; i < 5; ++i) r.step(f);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  auto q = r.rec.of(State::Quiet);
  ASSERT_FALSE(q.empty());
}

TEST(OstImbalance, SpreadAloneFires) {
  Rig r;
  auto f = balanced();
  f["ai0-OST0002"] = 0.30;  // 0.62 - 0.30 > 0.25
  r.step(f);
  r.step(f);
  EXPECT_GT(r.rec.count(State::Anomalous), 0u);
}

TEST(OstImbalance, StaleTargetsAreLeftOut) {
  Rig r;
  auto f = balanced();
  f["ai0-OST0003"] = 0.93;
  r.step(f);
  // From now on only three OSTs report; the full one's gauges age past `stale` (5 m).
  auto rest = balanced();
  rest.erase("ai0-OST0003");
  for (int i = 0; i < 40; ++i) r.step(rest);
  EXPECT_EQ(r.rec.all.back().second.state, State::Quiet);
}

TEST(OstImbalance, ManyClientsReportingTheSameTargetDoNotMultiply) {
  Rig r;
  for (int i = 0; i < 3; ++i) {
    r.step(balanced(), "c1");
    r.t -= kI;
    r.step(balanced(), "c2");
  }
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}
