#include <gtest/gtest.h>

#include <filesystem>

#include "collector/incidents/incident_store.h"
#include "collector/incidents/manager.h"
#include "collector/store/store.h"
#include "detect_test_util.h"

using namespace ss;
using namespace ss::test;
using namespace ss::collector;
using namespace ss::collector::detect;
using namespace ss::collector::incidents;

namespace {

Finding finding(State s, std::string key = "metadata_storm/ai0", double score = 1000) {
  Finding f;
  f.kind = "metadata_storm";
  f.key = std::move(key);
  f.fs = "ai0";
  f.target = "ai0-MDT0000";
  f.state = s;
  f.summary = fmt::format("storm {}", score);
  f.score = score;
  f.nodes = {"n1"};
  Culprit c;
  c.job = "7";
  c.node = "n1";
  c.path = "/lustre/ai0/x";
  c.weight = 100;
  if (s == State::Anomalous) f.culprits.push_back(c);
  return f;
}

void feed(IncidentManager& m, int64_t& b, std::vector<Finding> f) {
  m.on_bucket(b, kI, f);
  b += kI;
}

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "ss-incidents-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

}  // namespace

TEST(IncidentManager, OneIncidentPerPhenomenonClosedAfterQuiet) {
  IncidentManager m(ManagerOptions{}, nullptr, nullptr);
  std::vector<std::pair<std::string, Change>> changes;
  m.add_listener([&](const Incident& i, Change c) { changes.push_back({i.id, c}); });
  int64_t b = kT0;
  int64_t start = b;
  for (int i = 0; i < 5; ++i) feed(m, b, {finding(State::Anomalous, "metadata_storm/ai0", 1000 + i)});
  ASSERT_EQ(m.open_incidents().size(), 1u);
  Incident inc = m.open_incidents()[0];
  EXPECT_EQ(inc.start_ms, start);
  EXPECT_EQ(inc.detected_ms, start + kI);
  EXPECT_EQ(inc.peak, 1004);
  EXPECT_EQ(inc.summary, "storm 1004");
  ASSERT_EQ(inc.culprits.size(), 1u);
  EXPECT_DOUBLE_EQ(inc.culprits[0].weight, 500);
  EXPECT_DOUBLE_EQ(inc.culprits[0].share, 1.0);
  int64_t last = b;
  // A short pause does not close it (and the same incident continues).
  for (int i = 0; i < 3; ++i) feed(m, b, {finding(State::Quiet)});
  feed(m, b, {finding(State::Anomalous)});
  last = b;
  EXPECT_EQ(m.open_incidents().size(), 1u);
  for (int i = 0; i < 6; ++i) feed(m, b, {finding(State::Quiet)});
  EXPECT_TRUE(m.open_incidents().empty());
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.front().second, Change::Opened);
  EXPECT_EQ(changes.back().second, Change::Closed);
  size_t opened = 0;
  for (const auto& c : changes) opened += c.second == Change::Opened;
  EXPECT_EQ(opened, 1u);
  (void)last;
}

TEST(IncidentManager, EndIsTheLastBucketSeenNotTheCloseTime) {
  ManagerOptions o;
  o.keep_closed_in_memory = true;
  IncidentManager m(o, nullptr, nullptr);
  int64_t b = kT0;
  feed(m, b, {finding(State::Anomalous)});
  feed(m, b, {finding(State::Anomalous)});
  int64_t end = b;
  for (int i = 0; i < 10; ++i) feed(m, b, {finding(State::Quiet)});
  auto closed = m.closed_in_memory();
  ASSERT_EQ(closed.size(), 1u);
  ASSERT_TRUE(closed[0].end_ms);
  EXPECT_EQ(*closed[0].end_ms, end);
  EXPECT_EQ(closed[0].close_reason, "quiet");
}

TEST(IncidentManager, UnknownHoldsAnIncidentOpenUntilMaxUnknown) {
  ManagerOptions o;
  o.keep_closed_in_memory = true;
  IncidentManager m(o, nullptr, nullptr);
  int64_t b = kT0;
  feed(m, b, {finding(State::Anomalous)});
  // 4 minutes of Unknown (storm nodes silent): still open, not a new incident afterwards.
  for (int i = 0; i < 24; ++i) feed(m, b, {finding(State::Unknown)});
  EXPECT_EQ(m.open_incidents().size(), 1u);
  feed(m, b, {finding(State::Anomalous)});
  EXPECT_EQ(m.open_incidents().size(), 1u);
  EXPECT_TRUE(m.closed_in_memory().empty());
  // No verdict at all for 5 minutes: closed as "no data".
  for (int i = 0; i < 31; ++i) feed(m, b, {});
  ASSERT_EQ(m.closed_in_memory().size(), 1u);
  EXPECT_EQ(m.closed_in_memory()[0].close_reason, "no data");
}

TEST(IncidentManager, DifferentPhenomenaAreDifferentIncidents) {
  IncidentManager m(ManagerOptions{}, nullptr, nullptr);
  int64_t b = kT0;
  feed(m, b, {finding(State::Anomalous, "metadata_storm/ai0"), finding(State::Anomalous, "metadata_storm/ai1")});
  EXPECT_EQ(m.open_incidents().size(), 2u);
  auto active = m.active();
  EXPECT_EQ((active[{"metadata_storm", "ai0"}]), 2);  // both findings say fs ai0 in this test
}

TEST(IncidentManager, IncidentsSurviveARestart) {
  std::string dir = temp_dir();
  std::string db = dir + "/incidents.db";
  std::string id;
  int64_t b = kT0;
  {
    auto store = IncidentStore::open(db);
    ASSERT_TRUE(store.ok()) << store.error().message;
    IncidentManager m(ManagerOptions{}, store->get(), nullptr);
    ASSERT_TRUE(m.load().ok());
    for (int i = 0; i < 3; ++i) feed(m, b, {finding(State::Anomalous)});
    id = m.open_incidents().at(0).id;
  }
  {
    auto store = IncidentStore::open(db);
    ASSERT_TRUE(store.ok());
    IncidentManager m(ManagerOptions{}, store->get(), nullptr);
    ASSERT_TRUE(m.load().ok());
    ASSERT_EQ(m.open_incidents().size(), 1u);
    EXPECT_EQ(m.open_incidents()[0].id, id);
    feed(m, b, {finding(State::Anomalous)});  // continues the same incident
    EXPECT_EQ(m.open_incidents()[0].id, id);
    EXPECT_DOUBLE_EQ(m.open_incidents()[0].culprits.at(0).weight, 400);
    for (int i = 0; i < 7; ++i) feed(m, b, {finding(State::Quiet)});
    auto got = (*store)->get(id);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value());
    EXPECT_TRUE((*got)->end_ms.has_value());
    IncidentQuery q;
    q.kind = "metadata_storm";
    EXPECT_EQ((*store)->query(q)->size(), 1u);
    q.kind = "ost_imbalance";
    EXPECT_EQ((*store)->query(q)->size(), 0u);
    q = {};
    q.from_ms = b + 3600'000;  // after it ended
    EXPECT_EQ((*store)->query(q)->size(), 0u);
  }
  std::filesystem::remove_all(dir);
}

namespace {

// A real store holding, per node, a GPU of `job` and the node's RPCs to ai0's MDT, at kI steps.
struct StoredGpus {
  std::string dir = temp_dir();
  std::unique_ptr<Store> store;
  StoredGpus() {
    auto s = open_store(StoreOptions(dir + "/db.sqlite"));
    EXPECT_TRUE(s.ok());
    store = std::move(*s);
  }
  ~StoredGpus() {
    store->close();
    std::filesystem::remove_all(dir);
  }
  void put(const std::string& node, const std::string& job, int64_t t, double util, double rpcs) {
    Batch b = batch(node, {gauge("gpu_utilization_ratio", {{"gpu", "0"}, {"job", job}, {"model", "NVIDIA H200"}, {"uuid", node + "-0"}}, t, util),
                           counter("lustre_client_rpcs_total", {{"fs", "ai0"}, {"target", "ai0-MDT0000"}}, t, rpcs)});
    ASSERT_TRUE(store->append(b).ok());
  }
};

}  // namespace

TEST(IncidentManager, StallCostComesFromTheStoredSeriesOfItsJob) {
  // Job 7's GPU on n1 at 90 % for 10 minutes, then at 10 % during the stall; job 8 on n2 is not involved.
  StoredGpus g;
  ManagerOptions o;
  o.keep_closed_in_memory = true;
  IncidentManager m(o, nullptr, g.store.get());
  int64_t b = kT0;
  for (int i = 0; i < 74; ++i) {
    g.put("n1", "7", b + kI, i >= 60 && i < 66 ? 0.1 : 0.9, i);
    g.put("n2", "8", b + kI, 0.2, i);
    Finding f = finding(i >= 60 && i < 66 ? State::Anomalous : State::Quiet, "checkpoint_stall/7");
    f.kind = "checkpoint_stall";
    feed(m, b, {f});
    if (i == 60) {
      EXPECT_NEAR(m.open_incidents().at(0).gpu_idle_seconds, 0.8 * 10, 1e-6);  // priced as it opens
    }
  }
  ASSERT_EQ(m.closed_in_memory().size(), 1u);
  auto inc = m.closed_in_memory()[0];  // priced again as it closed, over its whole window
  EXPECT_NEAR(inc.gpu_idle_seconds, 0.8 * 60, 1e-6);  // six intervals of 0.8 below the baseline
  EXPECT_NEAR(inc.cost_usd, inc.gpu_idle_seconds * 1.924 / 3600, 1e-9);
  EXPECT_TRUE(inc.victims.empty());
  auto totals = m.cost_totals();
  EXPECT_NEAR((totals[{"checkpoint_stall", "ai0"}]), inc.cost_usd, 1e-12);
}

TEST(IncidentManager, StormCostIsItsVictimsCost) {
  // A storm on ai0: job 7's GPU (n1) drops from 90 % to 50 %; job 8's (n2) stays at 20 %, plus noise.
  StoredGpus g;
  ManagerOptions o;
  o.keep_closed_in_memory = true;
  IncidentManager m(o, nullptr, g.store.get());
  int64_t b = kT0;
  for (int i = 0; i < 72; ++i) {
    bool storm = i >= 60 && i < 66;
    g.put("n1", "7", b + kI, storm ? 0.5 : 0.9, i);
    g.put("n2", "8", b + kI, 0.2 + (i % 2 ? 0.01 : -0.01), i);
    feed(m, b, {finding(storm ? State::Anomalous : State::Quiet)});
  }
  EXPECT_TRUE(m.open_incidents().empty());
  auto closed = m.closed_in_memory();  // closed after a minute of quiet: its cost is final
  ASSERT_EQ(closed.size(), 1u);
  ASSERT_EQ(closed[0].victims.size(), 1u);
  EXPECT_EQ(closed[0].victims[0].job, "7");
  EXPECT_EQ(closed[0].victims[0].nodes, std::vector<std::string>{"n1"});
  EXPECT_NEAR(closed[0].victims[0].gpu_idle_seconds, 0.4 * 60, 1e-6);
  EXPECT_NEAR(closed[0].cost_usd, closed[0].victims[0].cost_usd, 1e-12);
  EXPECT_NEAR(closed[0].cost_usd, 0.4 * 60 * 1.924 / 3600, 1e-9);
}
