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

// Weka: per cluster and op, the minute's mean latency against the op's own baseline, once a minute.
TEST(WaittimeSpike, WekaOpLatencyPerOpOncePerMinute) {
  Recorder rec;
  std::vector<std::unique_ptr<Detector>> d;
  d.push_back(std::make_unique<WaittimeSpike>(WaittimeSpikeParams{}, kI));
  Engine engine(EngineOptions{}, std::move(d), rec.sink());
  int64_t t = kT0;
  auto minute = [&](double getattr_s, double read_s, double getattr_rate = 5000) {
    for (int i = 0; i < 6; ++i) {  // the query node reports every 10 s; Weka's value changes once a minute
      t += kI;
      int64_t m = t - t % 60'000;  // stamped with the minute it describes
      std::vector<Series> s{gauge("weka_op_latency_seconds", {{"fs", "prod"}, {"op", "getattr"}}, m, getattr_s),
                            gauge("weka_op_rate", {{"fs", "prod"}, {"op", "getattr"}}, m, getattr_rate),
                            gauge("weka_op_latency_seconds", {{"fs", "prod"}, {"op", "read"}}, m, read_s),
                            gauge("weka_op_rate", {{"fs", "prod"}, {"op", "read"}}, m, 800)};
      engine.ingest(batch("weka-mon", s));
    }
  };
  for (int i = 0; i < 20; ++i) minute(0.0004 + (i % 3) * 0.00002, 0.0009);
  minute(0.003, 0.0009);  // 3 ms: 7x the baseline but under the Weka floor (5 ms)
  EXPECT_EQ(rec.count(State::Anomalous), 0u);
  minute(0.0004, 0.0009, 0.1);  // an idle minute (6 ops) is not judged, whatever its latency
  minute(0.030, 0.0009, 0.1);
  EXPECT_EQ(rec.count(State::Anomalous), 0u);
  minute(0.030, 0.0009);  // getattr: 30 ms, 75x its baseline; reads unchanged
  minute(0.030, 0.0009);
  auto hits = rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) EXPECT_EQ(h.key, "waittime_spike/weka|prod|getattr");
  EXPECT_EQ(hits[0].fs, "prod");
  EXPECT_EQ(hits[0].target, "getattr");
  EXPECT_EQ(hits[0].evidence["file_system"], "weka");
  EXPECT_NEAR(hits[0].evidence["mean_wait_ms"].get<double>(), 30, 0.01);
  EXPECT_NE(hits[0].summary.find("Weka getattr latency spike on prod: 30.0 ms"), std::string::npos) << hits[0].summary;
}

// BeeGFS: per server, the wait a request can expect in the queue (queue length / request rate).
TEST(WaittimeSpike, BeegfsServerQueuePerServer) {
  Rig r;  // the Lustre rig keeps data time moving; BeeGFS series come from the query node
  double meta01 = 0, meta02 = 0;
  auto step = [&](double queue01, double rate01, double busy01) {
    meta01 += rate01 * kI / 1000;
    meta02 += 2000.0 * kI / 1000;
    std::vector<Series> s;
    for (const auto& [server, cum, queue, busy] :
         {std::tuple{"meta01", meta01, queue01, busy01}, std::tuple{"meta02", meta02, 1.0, 4.0}}) {
      Labels l{{"fs", "scratch"}, {"nodetype", "meta"}, {"server", server}};
      s.push_back(counter("beegfs_server_requests_total", l, r.t + kI, cum));
      s.push_back(gauge("beegfs_server_queue_length", l, r.t + kI, queue));
      s.push_back(gauge("beegfs_server_busy_workers", l, r.t + kI, busy));
    }
    r.engine->ingest(batch("mgmt01", s));
    r.step(0.004);
  };
  for (int i = 0; i < 40; ++i) step(i % 4, 2000, 3);  // a few queued at 2000 requests/s: ~1 ms
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  for (int i = 0; i < 3; ++i) step(6, 20, 64);  // 6 queued, below beegfs_min_queue: not judged a spike
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  for (int i = 0; i < 3; ++i) step(400, 1000, 64);  // 400 queued at 1000/s: 400 ms, every worker busy
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) EXPECT_EQ(h.key, "waittime_spike/beegfs|scratch|meta|meta01");
  EXPECT_EQ(hits[0].fs, "scratch");
  EXPECT_EQ(hits[0].target, "meta:meta01");
  EXPECT_EQ(hits[0].evidence["queue_length"], 400);
  EXPECT_EQ(hits[0].evidence["busy_workers"], 64);
  EXPECT_NEAR(hits[0].evidence["mean_wait_ms"].get<double>(), 400, 1);
  EXPECT_NE(hits[0].summary.find("BeeGFS meta server meta01 on scratch: 400 requests queued, 64 workers busy"),
            std::string::npos)
      << hits[0].summary;
}
