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

// BeeGFS storage targets are judged like OSTs, per instance (fs); meta targets never count, and a Lustre
// file system of the same name is another file system.
TEST(OstImbalance, BeegfsStorageTargetsPerInstance) {
  Rig r;
  auto step = [&](const std::map<std::string, double>& scratch, double meta_fill) {
    r.t += kI;
    std::vector<Series> s;
    auto add = [&](const std::string& fs, const std::string& type, const std::string& target, double fill) {
      Labels l{{"fs", fs}, {"nodetype", type}, {"target", target}};
      s.push_back(gauge("beegfs_target_capacity_bytes", l, r.t, 50e12));
      s.push_back(gauge("beegfs_target_free_bytes", l, r.t, 50e12 * (1 - fill)));
    };
    for (const auto& [target, fill] : scratch) add("scratch", "storage", target, fill);
    for (const char* t : {"101", "102", "103"}) add("projects", "storage", t, 0.5);  // the same ids, balanced
    add("scratch", "meta", "1", meta_fill);
    add("projects", "meta", "1", meta_fill);
    // A Lustre file system that happens to share the name stays balanced.
    for (const char* t : {"scratch-OST0000", "scratch-OST0001"}) {
      s.push_back(gauge("lustre_target_capacity_bytes", {{"fs", "scratch"}, {"target", t}}, r.t, 100e12));
      s.push_back(gauge("lustre_target_available_bytes", {{"fs", "scratch"}, {"target", t}}, r.t, 50e12));
    }
    r.engine->ingest(batch("mgmt01", s));
  };
  std::map<std::string, double> even{{"101", 0.60}, {"102", 0.62}, {"103", 0.58}, {"104", 0.61}};
  for (int i = 0; i < 5; ++i) step(even, 0.97);  // a full meta target is no imbalance
  EXPECT_EQ(r.rec.count(State::Anomalous), 0u);
  auto full = even;
  full["104"] = 0.95;
  step(full, 0.97);
  step(full, 0.97);
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  for (const auto& h : hits) EXPECT_EQ(h.key, "ost_imbalance/beegfs/scratch");  // not projects, not Lustre's scratch
  EXPECT_EQ(hits[0].fs, "scratch");
  EXPECT_EQ(hits[0].target, "104");
  EXPECT_EQ(hits[0].evidence["fullest"], "104");
  EXPECT_EQ(hits[0].evidence["emptiest"], "103");
  EXPECT_EQ(hits[0].evidence["file_system"], "beegfs");
  EXPECT_NEAR(hits[0].evidence["bytes_to_move"].get<double>(), (0.95 - 0.61) * 50e12  /* median of .58 .60 .62 .95 */, 1e11);
  EXPECT_NE(hits[0].summary.find("BeeGFS storage target fill imbalance on scratch: 104 95% full"), std::string::npos)
      << hits[0].summary;
}

// Write skew of a BeeGFS instance is judged per storage server (its disk bytes), sustained for skew_for.
TEST(OstImbalance, BeegfsWriteSkewPerStorageServer) {
  Rig r;
  double written = 0;
  for (int i = 0; i < 80; ++i) {
    r.t += kI;
    written += 1;
    std::vector<Series> s;
    for (const char* srv : {"stor01", "stor02", "stor03", "stor04"}) {
      double per_s = std::string(srv) == "stor04" && i >= 10 ? 2e9 : 50e6;  // stor04 takes 40x the others
      s.push_back(counter("beegfs_server_bytes_total", {{"fs", "scratch"}, {"op", "write"}, {"server", srv}}, r.t,
                          per_s * written * kI / 1000.0));
    }
    for (const char* t : {"101", "102"}) {  // fills are even: only the write load is skewed
      Labels l{{"fs", "scratch"}, {"nodetype", "storage"}, {"target", t}};
      s.push_back(gauge("beegfs_target_capacity_bytes", l, r.t, 50e12));
      s.push_back(gauge("beegfs_target_free_bytes", l, r.t, 25e12));
    }
    r.engine->ingest(batch("mgmt01", s));
  }
  auto hits = r.rec.of(State::Anomalous);
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0].key, "ost_imbalance/beegfs/scratch");
  EXPECT_EQ(hits[0].target, "stor04");
  EXPECT_NE(hits[0].summary.find("BeeGFS write skew on scratch: stor04"), std::string::npos) << hits[0].summary;
}
