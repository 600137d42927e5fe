#include <gtest/gtest.h>

#include "collector/detect/waittime_spike.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector::detect;

namespace {

struct Rig {
  Recorder rec;
  std::unique_ptr<Engine> engine;
  std::map<std::string, std::pair<double, double>> cum;  // node → wait, rpcs
  int64_t t = kT0;
  double other = 0;
  explicit Rig(WaittimeSpikeParams p = {}) {
    std::vector<std::unique_ptr<Detector>> d;
    d.push_back(std::make_unique<WaittimeSpike>(p, kI));
    engine = std::make_unique<Engine>(EngineOptions{}, std::move(d), rec.sink());
  }
  void step(double mean_wait_s, double rpcs = 500, std::set<std::string> absent = {}) {
    t += kI;
    for (std::string n : {"n1", "n2", "n3"}) {
      auto& c = cum[n];
      c.first += mean_wait_s * rpcs;
      c.second += rpcs;
      if (absent.count(n)) continue;
      engine->ingest(batch(n, {counter("lustre_client_rpc_wait_seconds_total", {{"fs", "ai0"}, {"target", "ai0-OST0003"}}, t, c.first),
                               counter("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0003"}}, t, c.second)}));
    }
    // Another node on another target keeps data time moving.
    other += 0.004 * 500;
    engine->ingest(batch("n4", {counter("lustre_client_rpc_wait_seconds_total", {{"fs", "ai0"}, {"target", "ai0-OST0001"}}, t, other),
                                counter("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-OST0001"}}, t, other / 0.004)}));
  }
};

}  // namespace

TEST(WaittimeSpike, FiresPerTargetWithItsNodes) {
  Rig r;
  for (int i = 0; i < 40; ++i) r.step(0.004);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  for (int i = 0; i < 3; ++i) r.step(0.25);
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].key, "waittime_spike/ai0-OST0003");
  EXPECT_EQ(hits[0].target, "ai0-OST0003");
  EXPECT_EQ(hits[0].fs, "ai0");
  EXPECT_EQ(hits[0].nodes, (std::vector<std::string>{"n1", "n2", "n3"}));
  EXPECT_NEAR(hits[0].evidence["mean_wait_ms"].get<double>(), 250, 1);
  EXPECT_NEAR(hits[0].evidence["baseline_ms"].get<double>(), 4, 0.1);
  EXPECT_NE(hits[0].summary.find("250 ms"), std::string::npos) << hits[0].summary;
}

TEST(WaittimeSpike, BelowTheFloorIsNotASpike) {
  // 20x the baseline, but 80 ms: the floor (100 ms) keeps a busy OST from crying wolf.
  Rig r;
  for (int i = 0; i < 40; ++i) r.step(0.004);
  for (int i = 0; i < 5; ++i) r.step(0.08);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(WaittimeSpike, FlatBaselineWithZeroMadStillNeedsTheRatio) {
  WaittimeSpikeParams p;
  p.floor_ms = 1;  // floor out of the way: the ratio must hold
  Rig r(p);
  for (int i = 0; i < 40; ++i) r.step(0.010);  // exactly flat: MAD = 0
  for (int i = 0; i < 5; ++i) r.step(0.012);   // +20 %: above median + k·MAD (= median), below 3x
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(WaittimeSpike, FewRpcsAreNotJudged) {
  Rig r;
  for (int i = 0; i < 40; ++i) r.step(0.004);
  for (int i = 0; i < 5; ++i) r.step(0.5, 2);  // 6 RPCs in the bucket: too few for a mean
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(WaittimeSpike, CounterResetDuringASpikeIsSkipped) {
  Rig r;
  for (int i = 0; i < 40; ++i) r.step(0.004);
  r.cum["n1"] = {0, 0};
  r.step(0.004);
  r.step(0.004);
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
}

TEST(WaittimeSpike, SilentSpikeNodesMakeItUndecided) {
  Rig r;
  for (int i = 0; i < 40; ++i) r.step(0.004);
  r.step(0.3);
  // The engine waits for the silent nodes until the others are `lateness` ahead, then judges without them.
  for (int64_t i = 0; i < EngineOptions{}.lateness_ms / kI + 3; ++i) r.step(0.004, 500, {"n1", "n2", "n3"});
  std::vector<State> ost3;
  for (const auto& [b, f] : r.rec.all)
    if (f.target == "ai0-OST0003") ost3.push_back(f.state);
  auto spike = std::find(ost3.begin(), ost3.end(), State::Anomalous);
  ASSERT_NE(spike, ost3.end());
  ASSERT_NE(spike + 1, ost3.end());
  for (auto it = spike + 1; it != ost3.end(); ++it) EXPECT_EQ(*it, State::Unknown);
}
